"""The agent console: sign-in and the single-page workspace shell."""
