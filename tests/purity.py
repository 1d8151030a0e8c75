"""The pure libraries (routing, macros, sla) must import without Flask or the app."""

import pkgutil
import subprocess
import sys

from tests.factories import ROOT


def assert_imports_alone(package) -> None:
    """Import every module of a library package, subpackages included, in a fresh interpreter; fail if
    flask or workspace lands in sys.modules."""
    names = sorted(m.name for m in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."))
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'workspace')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
