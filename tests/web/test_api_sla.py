"""Admins manage calendars (with iCalendar import), SLA policies, assignment and capacities over the API."""

import pytest
import sqlalchemy as sa

from tests.services.test_admin import call  # noqa: F401  (fixture)
from tests.sla.test_ical import FEED
from tests.web.test_api import validate
from workspace.extensions import db
from workspace.models import AuditEntry, BusinessCalendar, SlaPolicy

OFFICE = {"name": "Paris office", "time_zone": "Europe/Paris",
          "hours": {"mon": [["09:00", "12:30"], ["13:30", "18:00"]], "fri": [["09:00", "16:00"]]},
          "holidays": [{"name": "Labour Day", "start": "2026-05-01"}]}


@pytest.fixture
def office(call):  # noqa: F811
    response = call("post", "/calendars", json=OFFICE)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_calendar_is_created_read_changed_and_audited(app, call, office):  # noqa: F811
    """The stored calendar reads back as sent (a one-day holiday gets its exclusive end) and edits are audited."""
    validate(office, "Calendar")
    assert office["holidays"] == [{"name": "Labour Day", "start": "2026-05-01", "end": "2026-05-02"}]
    changed = call("patch", f"/calendars/{office['id']}", json={"time_zone": "America/New_York"}).get_json()
    assert changed["time_zone"] == "America/New_York" and changed["hours"] == OFFICE["hours"]
    listed = call("get", "/calendars").get_json()["data"]
    assert [c["name"] for c in listed] == ["Paris office"]
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.target_type == "calendar")).all()
        assert actions == ["calendar.create", "calendar.update"]


@pytest.mark.parametrize(("change", "field"), [
    ({"time_zone": "Atlantis/Capital"}, "time_zone"),
    ({"hours": {"mon": [["18:00", "09:00"]]}}, "hours.mon[0]"),
    ({"hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "hours.mon"),
    ({"hours": {}}, "hours"),
    ({"hours": {"someday": [["09:00", "17:00"]]}}, "hours.someday"),
    ({"holidays": [{"start": "2026-13-01"}]}, "holidays[0].start"),
    ({"holidays": [{"start": "2026-05-02", "end": "2026-05-01"}]}, "holidays[0]"),
    ({"holidays": "christmas"}, "holidays"),
    ({"name": ""}, "name"),
    ({"colour": "red"}, "colour"),
])
def test_bad_calendars_are_refused_and_nothing_changes(app, call, office, change, field):  # noqa: F811
    """Each bad part is refused with 400 naming it; the stored calendar is untouched."""
    response = call("patch", f"/calendars/{office['id']}", json=change)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(field)
    assert call("get", f"/calendars/{office['id']}").get_json() == office


def test_a_calendar_name_is_unique(call, office):  # noqa: F811
    """A second calendar with the same name is a conflict."""
    assert call("post", "/calendars", json=OFFICE).status_code == 409


def test_an_ical_file_adds_holidays_without_duplicates(call, office):  # noqa: F811
    """Importing a feed adds its events, reports skipped ones, and importing it again adds nothing."""
    path = f"/calendars/{office['id']}/import"
    first = call("post", path, data=FEED.encode(), content_type="text/calendar")
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["imported"] == 5 and len(body["skipped"]) == 1 and "RRULE" in body["skipped"][0]
    assert len(body["calendar"]["holidays"]) == 6
    again = call("post", path, json={"ical": FEED}).get_json()
    assert again["imported"] == 0 and len(again["calendar"]["holidays"]) == 6
    replaced = call("post", f"{path}?replace=true", json={"ical": FEED}).get_json()
    assert len(replaced["calendar"]["holidays"]) == 5  # the hand-entered Labour Day is gone


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"not a calendar", "text/calendar", "ical: not an iCalendar"),
    (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261301T000000Z\nEND:VEVENT\nEND:VCALENDAR", "text/calendar",
     "ical: an event: DTSTART"),
    (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101", "text/calendar", "ical: a VEVENT is not closed"),
    (b"\xff\xfe\x00garbage", "text/calendar", "ical: the file is not UTF-8"),
    (b"{}", "application/json", "ical: the file's text"),
    (b"BEGIN:VCALENDAR", "application/octet-stream", "send the file as text/calendar"),
])
def test_bad_ical_files_are_refused_and_change_nothing(call, office, body, content_type, message):  # noqa: F811
    """Garbage, impossible dates, truncated files, bad encodings and wrong media types are 400s; holidays stay."""
    response = call("post", f"/calendars/{office['id']}/import", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"].startswith(message)
    assert call("get", f"/calendars/{office['id']}").get_json()["holidays"] == office["holidays"]


def test_policies_are_set_per_level_and_validated(app, call, office):  # noqa: F811
    """A business-hours policy names its calendar; the queue's SLA view lists it; the calendar cannot be deleted."""
    policy = {"first_reply_minutes": 60, "next_reply_minutes": 120, "resolution_minutes": 2880,
              "business_hours": True, "calendar": "Paris office", "at_risk_fraction": 0.8}
    response = call("put", "/queues/billing/sla/urgent", json=policy)
    assert response.status_code == 200, response.get_json()
    validate(response.get_json(), "SlaPolicy")
    shown = call("get", "/queues/billing/sla").get_json()
    assert shown["policies"] == [{"priority": "urgent", **policy}] and shown["assignment"] == "off"
    # What applies where no policy does: the queue's plain first-reply targets (the app's defaults here).
    assert shown["plain_minutes"] == {"urgent": 30, "high": 120, "normal": 480, "low": 1440}
    assert call("delete", f"/calendars/{office['id']}").status_code == 409
    assert call("delete", "/queues/billing/sla/urgent").status_code == 204
    assert call("delete", f"/calendars/{office['id']}").status_code == 204
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BusinessCalendar)) == 0


@pytest.mark.parametrize(("level", "body", "message"), [
    ("urgent", {}, "a policy needs at least one"),
    ("urgent", {"first_reply_minutes": 0}, "first_reply_minutes"),
    ("urgent", {"first_reply_minutes": "30"}, "first_reply_minutes"),
    ("urgent", {"resolution_minutes": 10**9}, "resolution_minutes"),
    ("urgent", {"first_reply_minutes": 30, "business_hours": True}, "calendar: business hours need"),
    ("urgent", {"first_reply_minutes": 30, "at_risk_fraction": 1.5}, "at_risk_fraction"),
    ("urgent", {"first_reply_minutes": 30, "business_hours": "yes"}, "business_hours"),
    ("urgent", {"first_reply_minutes": 30, "tier": "gold"}, "tier"),
    ("critical", {"first_reply_minutes": 30}, "priority"),
])
def test_bad_policies_are_refused(app, call, level, body, message):  # noqa: F811
    """Each bad policy is a 400 naming what is wrong, and none is stored."""
    response = call("put", f"/queues/billing/sla/{level}", json=body)
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith(message)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)) == 0


def test_a_policy_naming_no_calendar_is_404(app, call):  # noqa: F811
    """A calendar name that names none is not found, and no policy is stored."""
    response = call("put", "/queues/billing/sla/urgent", json={"first_reply_minutes": 30, "calendar": "Mars base"})
    assert response.status_code == 404 and response.get_json()["error"]["message"].startswith("calendar: no calendar")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaPolicy)) == 0


def test_only_admins_change_sla_settings_and_supervisors_read_them(call, token_for, office):  # noqa: F811
    """Agents may not read or change them; supervisors read but do not change."""
    agent, supervisor = token_for("agent", email="a@x.org"), token_for("supervisor", email="s@x.org")
    assert call("get", "/calendars", token_value=agent).status_code == 403
    assert call("get", "/queues/billing/sla", token_value=supervisor).status_code == 200
    assert call("post", "/calendars", token_value=supervisor, json={**OFFICE, "name": "x"}).status_code == 403
    assert call("put", "/queues/billing/sla/low", token_value=supervisor,
                json={"first_reply_minutes": 5}).status_code == 403


def test_assignment_strategy_and_capacities_are_set_and_checked(call):  # noqa: F811
    """A queue's strategy, an agent's capacity and their capacity in one queue; bad values are refused."""
    assert call("patch", "/queues/billing", json={"assignment": "least_loaded"}).get_json()["assignment"] == \
        "least_loaded"
    assert call("patch", "/queues/billing", json={"assignment": "lottery"}).status_code == 400
    ana = call("post", "/agents", json={"email": "ana@x.org", "name": "Ana", "queues": ["billing"],
                                        "capacity": 4}).get_json()
    assert ana["capacity"] == 4
    assert call("patch", f"/agents/{ana['id']}", json={"capacity": -1}).status_code == 400
    assert call("put", f"/queues/billing/members/{ana['id']}", json={"capacity": 2}).get_json()["capacity"] == 2
    assert call("put", f"/queues/tech/members/{ana['id']}", json={"capacity": 2}).status_code == 400
    assert call("put", f"/queues/billing/members/{ana['id']}", json={"capacity": "lots"}).status_code == 400
    assert call("put", f"/queues/billing/members/{ana['id']}", json={"capacity": None}).get_json()["capacity"] is None
