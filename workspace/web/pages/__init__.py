"""Server-rendered page shells: the console, the supervisors' pages and sign-in."""
