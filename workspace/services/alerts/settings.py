"""The admins' alert settings: the incident webhook, tickets for incidents, the weekly report's recipients and
hour (one row, stored on the first change)."""

from urllib.parse import urlsplit

from flask import current_app

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import ALERT_SETTINGS_ID, Agent, AlertSettings, utcnow
from workspace.serializers import timestamp
from workspace.services import audit
from workspace.services.notifications.settings import EMAIL, MAX_EMAIL
from workspace.services.subscriptions.targets import clean_url

FIELDS = ("slack_webhook_url", "incident_tickets", "report_enabled", "report_recipients", "report_weekday",
          "report_hour")
MAX_RECIPIENTS = 50


def current() -> AlertSettings:
    """The settings row, or (not stored until an admin changes something) the defaults: nothing sent."""
    return db.session.get(AlertSettings, ALERT_SETTINGS_ID) or AlertSettings(
        id=ALERT_SETTINGS_ID, incident_tickets=False, report_enabled=False, report_recipients=[], report_weekday=0,
        report_hour=8)


def check_webhook(url) -> str:
    """A Slack-style webhook URL fit to store: https on a public address (http and local ones only where
    SUBSCRIPTION_ALLOW_PRIVATE is on, as in tests); a ValidationError says what is wrong."""
    if (isinstance(url, str) and url.strip().lower().startswith("http:")
            and not current_app.config["SUBSCRIPTION_ALLOW_PRIVATE"]):
        raise ValidationError("slack_webhook_url: must be an https:// URL", code="invalid_url")
    return clean_url(url)


def _recipients(value) -> list[str]:
    if not isinstance(value, list) or len(value) > MAX_RECIPIENTS:
        raise ValidationError(f"report_recipients: a list of at most {MAX_RECIPIENTS} addresses",
                              code="invalid_field")
    found = []
    for index, address in enumerate(value):
        address = address.strip() if isinstance(address, str) else address
        if not isinstance(address, str) or len(address) > MAX_EMAIL or not EMAIL.match(address):
            raise ValidationError(f"report_recipients[{index}]: not an email address", code="invalid_field")
        if address.lower() not in {a.lower() for a in found}:
            found.append(address)
    return found


def _whole(data: dict, name: str, high: int) -> int:
    value = data[name]
    if isinstance(value, float) and value.is_integer():  # 5.0 is JSON's 5
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
        raise ValidationError(f"{name}: a whole number from 0 to {high}", code="invalid_field")
    return value


def update(data, agent: Agent) -> AlertSettings:
    """Change some settings (the others keep their values), audited without the webhook's secret URL."""
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object", code="invalid_field")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a setting", code="invalid_field")
    row = current()
    before = serialize(row)
    db.session.add(row)
    if "slack_webhook_url" in data:
        row.slack_webhook_url = None if data["slack_webhook_url"] in (None, "") else check_webhook(
            data["slack_webhook_url"])
    for flag in ("incident_tickets", "report_enabled"):
        if flag in data:
            if not isinstance(data[flag], bool):
                raise ValidationError(f"{flag}: true or false", code="invalid_field")
            setattr(row, flag, data[flag])
    if "report_recipients" in data:
        row.report_recipients = _recipients(data["report_recipients"])
    if "report_weekday" in data:
        row.report_weekday = _whole(data, "report_weekday", 6)
    if "report_hour" in data:
        row.report_hour = _whole(data, "report_hour", 23)
    if row.report_enabled and not row.report_recipients:
        raise ValidationError("report_recipients: the weekly report needs at least one recipient",
                              code="invalid_field")
    row.updated_at = utcnow()
    audit.record(agent, "alerts.update", "alert_settings", row.id, before=before, after=serialize(row))
    db.session.commit()
    return row


def serialize(row: AlertSettings) -> dict:
    """The settings as admins see them: the webhook only by its host (its path is the secret)."""
    url = row.slack_webhook_url
    return {"slack_webhook": None if url is None else {"host": urlsplit(url).hostname},
            "incident_tickets": row.incident_tickets, "report_enabled": row.report_enabled,
            "report_recipients": list(row.report_recipients or []), "report_weekday": row.report_weekday,
            "report_hour": row.report_hour, "report_last_week": row.report_last_week,
            "report_last_sent_at": timestamp(row.report_last_sent_at), "updated_at": timestamp(row.updated_at)}

