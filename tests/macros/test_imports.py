"""macros is a library: importing it must not pull in Flask or the app."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import macros

ROOT = Path(macros.__file__).resolve().parent.parent


def test_importing_every_macros_module_does_not_import_flask():
    """Every macros module (but the jobs bridge) imports without flask or workspace in sys.modules."""
    names = sorted(f"macros.{m.name}" for m in pkgutil.iter_modules(macros.__path__) if m.name != "jobs")
    assert "macros.rendering" in names and "macros.actions" in names
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'workspace')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
