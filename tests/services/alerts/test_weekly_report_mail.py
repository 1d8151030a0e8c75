"""The weekly report by email: at the admins' weekday and hour, once a week whatever the scheduler does, as
text and HTML, through a real SMTP server the test starts; a relay that is down leaves the week to send."""

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from tests.channels.email.conftest import capturing_relay, free_port
from tests.supervision import make_conversation
from tests.web.test_api import validate
from workspace.extensions import db
from workspace.jobs.schedule import SCHEDULE
from workspace.jobs.tasks import periodic
from workspace.models import AlertSettings
from workspace.services.alerts import weekly

# Monday 30 November 2026 is in ISO week 49; its report is the one of week 48.
MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def relay(app):
    """A real SMTP server on a free port, set as the relay: relay.received."""
    with capturing_relay() as capture:
        app.config.update(NOTIFY_SMTP_HOST="127.0.0.1", NOTIFY_SMTP_PORT=capture.port,
                          NOTIFY_MAIL_FROM="Switchboard <switchboard@example.test>",
                          PUBLIC_URL="https://switchboard.example")
        yield capture


@pytest.fixture
def scheduled(admin, channel):
    """The report on, Mondays at 08:00 UTC, to two addresses."""
    response = admin("patch", "/alerts/settings", json={
        "report_enabled": True, "report_recipients": ["eng@example.com", "product@example.com", "ENG@example.com"],
        "report_weekday": 0, "report_hour": 8})
    assert response.status_code == 200, response.get_json()
    validate(response.get_json(), "AlertSettings")
    assert response.get_json()["report_recipients"] == ["eng@example.com", "product@example.com"]



def test_the_report_is_mailed_once_at_its_hour_as_text_and_html(app, admin, relay, scheduled):
    """Before 08:00 nothing; at 08:00 one mail to both recipients, with a text and an HTML part of week 48's
    figures; later that week (a scheduler restarted, a second one) nothing; the next Monday, week 49."""
    with app.app_context():
        make_conversation("billing", created_at=datetime(2026, 11, 25, 10, tzinfo=UTC))
        assert weekly.send_if_due(MONDAY.replace(hour=7, minute=59)) == {}
        assert weekly.send_if_due(MONDAY.replace(hour=8)) == {"week": "2026-W48", "recipients": 2}
        for later in (MONDAY.replace(hour=8, minute=5), MONDAY.replace(day=2, month=12, hour=9)):
            assert weekly.send_if_due(later) == {}
    assert len(relay.received) == 1
    sender, to, data = relay.received[0]
    mail = message_from_bytes(data, policy=policy.default)
    assert sender == "switchboard@example.test" and to == ["eng@example.com", "product@example.com"]
    assert mail["Subject"].startswith("[Switchboard] Weekly report 2026-W48") and mail["Auto-Submitted"]
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Switchboard weekly report, 2026-W48" in text
    assert "https://switchboard.example/reports/weekly?week=2026-W48" in text
    assert "<table>" in html and "2026-W48" in html and "<script" not in html
    assert admin("get", "/alerts/settings").get_json()["report_last_week"] == "2026-W48"
    with app.app_context():
        assert weekly.send_if_due(MONDAY.replace(day=7, month=12, hour=8)) == {"week": "2026-W49", "recipients": 2}
    assert len(relay.received) == 2


def test_a_relay_that_is_down_leaves_the_week_to_send_and_the_next_run_sends_it(app, relay, scheduled):
    """The mail fails: the job raises (RQ records it), the week stays unsent; with the relay back, it goes."""
    port = app.config["NOTIFY_SMTP_PORT"]
    app.config["NOTIFY_SMTP_PORT"] = free_port()
    with app.app_context():
        with pytest.raises(weekly.ReportFailed):
            weekly.send_if_due(MONDAY.replace(hour=9))
        assert db.session.get(AlertSettings, 1).report_last_week is None
        app.config["NOTIFY_SMTP_PORT"] = port
        assert weekly.send_if_due(MONDAY.replace(hour=9))["week"] == "2026-W48"
    assert len(relay.received) == 1


def test_the_scheduler_runs_it_and_it_is_off_until_an_admin_turns_it_on(app, admin, relay, channel):
    """It is a periodic job of the schedule; with nothing configured it sends nothing."""
    assert periodic.send_weekly_report in SCHEDULE and periodic.alert_incidents in SCHEDULE
    with app.app_context():
        assert periodic.send_weekly_report() == {}
    assert relay.received == []


@pytest.mark.parametrize(("body", "message"), [
    ({"report_recipients": ["not an address"]}, "report_recipients"),
    ({"report_enabled": True}, "report_recipients: the weekly report needs at least one recipient"),
    ({"report_weekday": 7}, "report_weekday"),
    ({"report_hour": 24}, "report_hour"),
    ({"report_hour": "8"}, "report_hour"),
    ({"report_recipients": ["a@example.com"] * 51}, "report_recipients"),
    ({"color": "red"}, ""),
])
def test_bad_settings_are_a_400_and_change_nothing(admin, channel, body, message):
    """Each mistake is a 400 in the one error shape naming the field; the settings stay as they were."""
    before = admin("get", "/alerts/settings").get_json()
    response = admin("patch", "/alerts/settings", json=body)
    assert response.status_code == 400 and message in response.get_json()["error"]["message"], response.get_json()
    assert admin("get", "/alerts/settings").get_json() == before
