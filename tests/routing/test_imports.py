"""routing is a library: importing it must not pull in Flask or the app."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import routing

ROOT = Path(routing.__file__).resolve().parent.parent


def assert_imports_alone(package) -> None:
    """Import every module of a library package (but its jobs bridge) in a fresh interpreter; fail if
    flask or workspace lands in sys.modules."""
    # jobs is each library's one deliberate bridge to the app (it imports workspace inside its jobs).
    names = sorted(f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__) if m.name != "jobs")
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'workspace')]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_importing_every_routing_module_does_not_import_flask():
    """Every routing module imports without flask or workspace landing in sys.modules."""
    assert {"classifier", "rules"} <= {m.name for m in pkgutil.iter_modules(routing.__path__)}
    assert_imports_alone(routing)


def test_importing_routing_does_not_load_scikit_learn():
    """The package itself stays light: scikit-learn loads only with routing.classifier."""
    code = "import sys, routing\nassert 'sklearn' not in sys.modules\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
