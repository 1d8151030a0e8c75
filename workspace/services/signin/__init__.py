"""Signing in: password checks behind growing delays, known-device tokens and the TOTP second factor."""
