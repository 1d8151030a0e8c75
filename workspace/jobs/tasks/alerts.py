"""Jobs that tell engineering: an incident's Slack post and ticket."""

from workspace.services.alerts import incidents


def alert_incident(incident_id: int) -> dict:
    """Post the incident to the admins' webhook if it opened or grew, and open its ticket if asked for; a
    failure raises so RQ retries it on its backoff."""
    return incidents.alert_incident(incident_id)
