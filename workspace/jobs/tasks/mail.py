"""Jobs on received mail: read what the SMTP listener spooled and store it."""

from workspace.services.intake import spool


def read_spooled_mail(spool_ids: list[int]) -> dict:
    """Read and store spooled messages, each exactly once (ids already read are skipped); raises if some
    could not be stored this time, so RQ retries them and records why."""
    report = spool.read_spooled(spool_ids)
    if report.failed:
        raise spool.SpoolReadFailed(f"spooled messages {report.failed} could not be stored yet")
    return report.as_dict()
