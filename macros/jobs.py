"""RQ jobs: the only bridge from the macros library to the application.

Jobs take ids, run inside the app context the worker command pushes, and let
exceptions propagate so RQ records and retries them.
"""


def run_bulk(bulk_id: int) -> dict:
    """Apply a bulk action to its remaining conversations (resumable: a retry continues where it stopped)."""
    from workspace.services.bulk import run_bulk as run

    return run(bulk_id)


def undo_bulk(bulk_id: int) -> dict:
    """Put back what a bulk action changed, skipping conversations changed since (idempotent)."""
    from workspace.services.bulk import undo_bulk as undo

    return undo(bulk_id)


def wake_snoozed() -> int:
    """Reopen snoozed conversations whose time has come (a periodic job)."""
    from workspace.services.macro_actions import wake_snoozed as wake

    return wake()
