"""Periodic jobs, run by the scheduler (see jobs.schedule): each catches up on what time has changed."""

from flask import current_app

from workspace.jobs import dispatch
from workspace.services import assignment
from workspace.services.automations import engine, library
from workspace.services.responses import actions
from workspace.services.service_levels import clocks
from workspace.services.supervision import incidents


def sweep() -> int:
    """Re-enqueue work that waited past the grace period (routing, replies, tickets) and fold the counts."""
    return dispatch.sweep(current_app.config["SWEEP_GRACE_SECONDS"])


def check_slas() -> dict:
    """Move SLA clocks whose moment came to at risk or breached, and announce them."""
    return clocks.check()


def assignment_tick() -> dict:
    """Return untouched work of agents who went away, then assign what waits."""
    returned = assignment.return_untouched()
    return {"returned": returned, "assigned": assignment.assign_waiting(None)}


def wake_snoozed() -> int:
    """Reopen snoozed conversations whose time has come."""
    return actions.wake_snoozed()


def detect_spikes() -> list[int]:
    """Look for volume spikes and open an incident for each new one; returns their ids."""
    return [incident.id for incident in incidents.detect_spikes()]


def run_automations() -> dict:
    """Install the shipped automations if missing, then fire the enabled ones on what meets their conditions."""
    library.install_defaults()
    return engine.run_automations()
