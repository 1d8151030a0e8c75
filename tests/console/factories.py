"""Helpers the browser tests import (their fixtures stay in conftest.py)."""

from axe_playwright_python.sync_playwright import Axe

PASSWORD = "console-test-password"
# axe-core impacts that fail a test (minor and moderate ones are reported by axe but not gating).
GATING = ("serious", "critical")


def serious_violations(page, within: str | None = None) -> list:
    """What axe-core (WCAG 2.1 AA rules included) finds serious or critical on the page as it is now, or in the
    elements `within` selects: [(rule id, [targets])], empty when the page is clean."""
    found = Axe().run(page, context=within).response["violations"]
    return [(rule["id"], [node["target"] for node in rule["nodes"]]) for rule in found if rule["impact"] in GATING]


def submit(page, form: str, fields: dict, appears: str) -> None:
    """Fill the form's fields by name (choosing in a select), press its submit button and wait for `appears`."""
    for name, value in fields.items():
        field = page.locator(f"{form} [name={name}]")
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    page.click(f"{form} button:not([type=button])")
    page.wait_for_selector(appears)
