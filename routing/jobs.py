"""RQ jobs: the only bridge from the routing library to the application.

Jobs take ids, run inside the app context the worker command pushes, and let
exceptions propagate so RQ records and retries them.
"""


def route_conversations(conversation_ids: list[int]) -> dict:
    """Route a batch of conversations (idempotent: re-running is harmless)."""
    from workspace.services.routing import route_conversations as route

    return route(conversation_ids)


def sweep() -> int:
    """Re-enqueue routing work that waited past the grace period (a periodic job)."""
    from flask import current_app

    from workspace.dispatch import sweep as sweep_now

    return sweep_now(current_app.config["SWEEP_GRACE_SECONDS"])


def retrain(force: bool = False) -> dict:
    """Retrain the classifier from conversations and corrections through the promotion gate (idempotent)."""
    from workspace.services.classifier import retrain as retrain_now

    return retrain_now(force=force)


def detect_spikes() -> list[int]:
    """Look for volume spikes and open an incident for each new one (a periodic job); returns their ids."""
    from workspace.services.incidents import detect_spikes as detect_now

    return [incident.id for incident in detect_now()]
