"""Helpers the browser tests import (their fixtures stay in conftest.py)."""

PASSWORD = "console-test-password"
