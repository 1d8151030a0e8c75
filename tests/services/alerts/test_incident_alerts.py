"""Incidents tell engineering: a Slack-compatible post when one opens and when it doubles, retried while the
webhook is down, and one ticket each through the escalation client (against the ticketing stub)."""

import pytest
import sqlalchemy as sa

from devstack.localredis import free_port
from tests.factories import TICKETING_EMAIL, TICKETING_TOKEN, running_stub
from tests.supervision import make_conversation
from tests.web.test_api import validate
from workspace.extensions import db
from workspace.jobs.tasks import periodic
from workspace.models import IncidentAlert
from workspace.services.alerts import incidents as incident_alerts
from workspace.services.escalation.client import TicketingClient


def conversations(app, count: int) -> list[int]:
    with app.app_context():
        return [make_conversation("billing", text="checkout is down") for _ in range(count)]


@pytest.fixture
def incident(app, admin, slack, channel):
    """Slack posting on; an incident opened by hand with two conversations (its job not run yet)."""
    assert admin("patch", "/alerts/settings", json={"slack_webhook_url": slack.url}).status_code == 200
    created = admin("post", "/incidents", json={"title": "Checkout <!channel> down",
                                                "match": {"kind": "phrase", "value": "checkout"},
                                                "add_conversations": conversations(app, 2)})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["id"]


def test_an_incident_is_posted_when_it_opens_and_again_when_it_doubles(app, admin, slack, incident, run_jobs):
    """Opening posts once (text and blocks, the title escaped so it cannot ping everyone); a few more
    conversations post nothing; twice the size posts "growing"; asking again posts nothing more."""
    run_jobs()
    [opened] = slack.posts
    assert opened["text"].startswith("Incident opened: Checkout <!channel> down \u2014 2 conversations")
    section = opened["blocks"][0]["text"]["text"]
    assert "&lt;!channel&gt;" in section and "<!channel>" not in section
    assert opened["blocks"][1]["elements"][0]["url"].endswith(f"/dashboard#incident-{incident}")
    run_jobs()
    with app.app_context():
        assert periodic.alert_incidents() == []
    admin("patch", f"/incidents/{incident}", json={"add_conversations": conversations(app, 4)})
    with app.app_context():
        assert periodic.alert_incidents() == []  # 6 < 2 + 5
    admin("patch", f"/incidents/{incident}", json={"add_conversations": conversations(app, 1)})
    with app.app_context():
        assert periodic.alert_incidents() == [incident]
    run_jobs()
    assert len(slack.posts) == 2
    growing = slack.posts[1]["text"]
    assert growing.startswith("Incident growing: Checkout <!channel> down \u2014 7 conversations (was 2)")
    with app.app_context():
        assert incident_alerts.alert_incident(incident) == {}
        assert periodic.alert_incidents() == []
    assert len(slack.posts) == 2


def test_a_webhook_that_is_down_is_retried_and_posts_once_it_is_back(app, slack, incident):
    """A 503 fails the attempt (the job raises for RQ to retry) and keeps the post due, with the error shown;
    the next attempt posts it."""
    slack.statuses = [503]
    with app.app_context():
        with pytest.raises(incident_alerts.AlertFailed, match="503"):
            incident_alerts.alert_incident(incident)
        alert = db.session.get(IncidentAlert, incident)
        assert (alert.posts, alert.posted_size) == (0, 0) and "503" in alert.last_error
        assert periodic.alert_incidents() == [incident]
        assert incident_alerts.alert_incident(incident) == {"posted": "opened", "size": 2}
        db.session.expire_all()
        assert db.session.get(IncidentAlert, incident).last_error is None
    assert len(slack.posts) == 1


def test_two_jobs_for_one_incident_post_once(app, slack, incident):
    """The post is claimed before it is sent: a second attempt for the same size finds nothing due."""
    with app.app_context():
        first = incident_alerts.alert_incident(incident)
        second = incident_alerts.alert_incident(incident)
    assert first == {"posted": "opened", "size": 2} and second == {} and len(slack.posts) == 1


def test_each_incident_opens_one_ticket_in_the_ticketing_system(app, admin, slack, incident, tmp_path, run_jobs):
    """With tickets on, the job opens one ticket (external_id incident-<id>) and records it; running again, or
    after losing the record, finds the same ticket instead of opening another."""
    port = free_port()
    app.config.update(TICKETING_URL=f"http://127.0.0.1:{port}", TICKETING_EMAIL=TICKETING_EMAIL,
                      TICKETING_TOKEN=TICKETING_TOKEN, TICKETING_TIMEOUT_SECONDS=3)
    settings = admin("patch", "/alerts/settings", json={"incident_tickets": True}).get_json()
    validate(settings, "AlertSettings")
    assert settings["slack_webhook"] == {"host": "127.0.0.1"} and settings["incident_tickets"] is True
    with running_stub(tmp_path, port) as stub:
        run_jobs()
        with app.app_context():
            alert = db.session.get(IncidentAlert, incident)
            assert alert.ticket_id is not None and alert.ticket_url.endswith(f"/agent/tickets/{alert.ticket_id}")
            first = alert.ticket_id
            assert periodic.alert_incidents() == []
            db.session.execute(sa.update(IncidentAlert).values(ticket_id=None))
            db.session.commit()
            assert incident_alerts.alert_incident(incident) == {"ticket_id": first}
        tickets = TicketingClient(stub, email=TICKETING_EMAIL, token=TICKETING_TOKEN).find_by_external_id(
            f"incident-{incident}")
    assert [t["id"] for t in tickets] == [first]
    assert tickets[0]["subject"] == "Incident: Checkout <!channel> down" and tickets[0]["priority"] == "high"
    assert len(slack.posts) == 1


@pytest.mark.parametrize(("url", "message"), [
    ("http://hooks.example.com/services/x", "slack_webhook_url: must be an https:// URL"),
    ("https://10.1.2.3/services/x", "url: 10.1.2.3 is a private"),
    ("https://127.0.0.1:8443/services/x", "url: 127.0.0.1 is a private"),
    ("ftp://example.com/x", "slack_webhook_url: not in the expected form"),
    ("https://[::1/x", "url: an http:// or https:// URL"),
])
def test_outside_tests_the_webhook_must_be_https_on_a_public_address(app, admin, url, message):
    """With private addresses not allowed (production), plain http and private or loopback hosts are a 400."""
    app.config["SUBSCRIPTION_ALLOW_PRIVATE"] = False
    response = admin("patch", "/alerts/settings", json={"slack_webhook_url": url})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(message), response.get_json()
    assert admin("get", "/alerts/settings").get_json()["slack_webhook"] is None
