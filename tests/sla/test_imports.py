"""sla is a library: importing it must not pull in Flask or the app."""

import pkgutil

import sla
from tests.purity import assert_imports_alone


def test_importing_every_sla_module_does_not_import_flask():
    """Every sla module imports without flask or workspace in sys.modules."""
    assert {"calendar", "clock", "ical"} <= {m.name for m in pkgutil.iter_modules(sla.__path__)}
    assert_imports_alone(sla)
