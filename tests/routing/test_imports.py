"""routing is a library: importing it must not pull in Flask or the app."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import routing
from tests.purity import assert_imports_alone

ROOT = Path(routing.__file__).resolve().parent.parent


def test_importing_every_routing_module_does_not_import_flask():
    """Every routing module imports without flask or workspace landing in sys.modules."""
    assert {"classifier", "rules"} <= {m.name for m in pkgutil.iter_modules(routing.__path__)}
    assert_imports_alone(routing)


def test_importing_routing_does_not_load_scikit_learn():
    """The package itself stays light: scikit-learn loads only with routing.classifier."""
    code = "import sys, routing\nassert 'sklearn' not in sys.modules\n"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
