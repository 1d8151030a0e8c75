"""Admins read the audit log over the API: filtered by who, what and when, paged by cursor, exported as CSV."""

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.services.test_admin import call  # noqa: F401  (fixture)
from tests.web.test_api import validate
from workspace.extensions import db
from workspace.models import Agent, AuditEntry


@pytest.fixture
def entries(app, call):  # noqa: F811
    """Five entries: three by Ada (admin) on rules at days 1-3, one by the system, one with a formula-like name."""
    with app.app_context():
        ada = db.session.query(Agent).filter_by(email="ada@example.com").one()
        rows = [AuditEntry(agent_id=ada.id, action="rule.update", target_type="rule", target_id=7,
                           before={"name": "old"}, after={"name": "new"},
                           created_at=datetime(2026, 11, day, 9, tzinfo=UTC)) for day in (1, 2, 3)]
        rows.append(AuditEntry(agent_id=None, action="incident.detect", target_type="incident", target_id=3,
                               after={"title": "Spike"}, created_at=datetime(2026, 11, 4, 9, tzinfo=UTC)))
        rows.append(AuditEntry(agent_id=ada.id, action="macro.create", target_type="macro", target_id=9,
                               after={"name": "=HYPERLINK(\"http://evil\")"},
                               created_at=datetime(2026, 11, 5, 9, tzinfo=UTC)))
        db.session.add_all(rows)
        db.session.commit()
        return ada.id


def test_entries_are_filtered_by_who_what_and_when_newest_first(call, entries):  # noqa: F811
    """Each filter narrows the list; an action ending in a dot is a prefix; `system` is what nobody did."""
    everything = call("get", "/audit").get_json()
    assert [e["action"] for e in everything["data"]] == ["macro.create", "incident.detect", *["rule.update"] * 3]
    assert everything["next_cursor"] is None
    for entry in everything["data"]:
        validate(entry, "AuditEntry")
    by_system = call("get", "/audit?agent=system").get_json()["data"]
    assert [(e["action"], e["agent"]) for e in by_system] == [("incident.detect", None)]
    by_ada = call("get", f"/audit?agent={entries}").get_json()["data"]
    assert len(by_ada) == 4 and by_ada[0]["agent"] == {"id": entries, "name": "Ada"}
    assert len(call("get", "/audit?action=rule.").get_json()["data"]) == 3
    assert call("get", "/audit?action=rule.").get_json() == call("get", "/audit?action=rule.update").get_json()
    assert [e["target_id"] for e in call("get", "/audit?target_type=incident&target_id=3").get_json()["data"]] == [3]
    window = call("get", "/audit?from=2026-11-02&to=2026-11-03").get_json()["data"]
    assert [e["created_at"] for e in window] == ["2026-11-03T09:00:00Z", "2026-11-02T09:00:00Z"]
    assert len(call("get", "/audit?from=2026-11-04T09:00:00Z").get_json()["data"]) == 2


def test_pages_follow_the_cursor_to_the_end(call, entries):  # noqa: F811
    """Two at a time: three pages, no entry twice or left out, the last page's cursor null."""
    seen, cursor = [], ""
    while True:
        page = call("get", f"/audit?limit=2&cursor={cursor}").get_json()
        seen += [e["id"] for e in page["data"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(("query", "message"), [
    ("from=yesterday", "from: an ISO 8601"), ("to=2026-13-01", "to: an ISO 8601"),
    ("from=2026-11-05&to=2026-11-01", "from: must not be after to"), ("agent=99999", "agent: no agent has the id"),
    ("agent=bob", "agent:"), ("limit=100000", "limit:"), ("limit=0", "limit:"), ("target_id=x", "target_id:"),
    ("cursor=abc", "cursor:"), ("format=xml", "format:"),
])
def test_bad_filters_are_a_400_naming_the_parameter(call, entries, query, message):  # noqa: F811
    """Bad dates, an unknown agent, a huge limit or a foreign cursor: 400 in the one error shape."""
    response = call("get", f"/audit?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["message"].startswith(message), response.get_json()


def test_only_admins_read_it(call, token_for, entries):  # noqa: F811
    """Supervisors and agents get 403."""
    assert call("get", "/audit", token_value=token_for("supervisor", email="sue@example.com")).status_code == 403
    assert call("get", "/audit", token_value=token_for("agent", email="al@example.com")).status_code == 403


@pytest.mark.parametrize("how", ["query", "accept"])
def test_csv_export_streams_every_match_and_defuses_formulas(app, client, token, entries, how):
    """format=csv or Accept: text/csv: a header and every matching row, paging ignored; an agent named like a
    formula gets a leading quote."""
    with app.app_context():
        db.session.get(Agent, entries).name = "=HYPERLINK(1)"
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    if how == "query":
        response = client.get("/api/v1/audit?format=csv&limit=1", headers=headers)
    else:
        response = client.get("/api/v1/audit?limit=1", headers={**headers, "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["id", "created_at", "agent_id", "agent", "action", "target_type", "target_id", "before",
                       "after"]
    assert len(rows) == 6
    assert {row[3] for row in rows[1:]} == {"'=HYPERLINK(1)", ""}
    assert next(row for row in rows if row[4] == "rule.update")[7] == '{"name": "old"}'
    filtered = client.get("/api/v1/audit?format=csv&action=rule.", headers=headers).get_data(as_text=True)
    assert filtered.count("rule.update") == 3 and "macro.create" not in filtered
