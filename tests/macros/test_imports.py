"""macros is a library: importing it must not pull in Flask or the app."""

import pkgutil

import macros
from tests.purity import assert_imports_alone


def test_importing_every_macros_module_does_not_import_flask():
    """Every macros module imports without flask or workspace in sys.modules."""
    assert {"rendering", "actions"} <= {m.name for m in pkgutil.iter_modules(macros.__path__)}
    assert_imports_alone(macros)
