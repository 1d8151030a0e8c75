"""The supervisors' dashboard: figures against known data, drill-downs, permissions, CSV, live pushes."""

import csv
import io
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_post
from tests.supervision import bearer, make_agent, make_conversation, sign_in
from tests.web.test_api import route_all
from tests.web.test_auth import socket_app  # noqa: F401  (fixture)
from workspace.extensions import db, socketio
from workspace.infra.broker import redis_client
from workspace.live import presence
from workspace.models import Agent, Queue, queue_members, utcnow
from workspace.services.supervision import dashboard
from workspace.services.supervision import push as dashboard_push
from workspace.services.supervision.volume import redis_key
from workspace.web.api.dashboard import csv_cell


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


@pytest.fixture(autouse=True)
def no_presence(redis):
    """Agents' presence lives in the shared test Redis: start and end each test with nobody seen or connected."""

    def forget():
        redis.delete(presence.AGENTS_KEY, *redis.scan_iter("presence:agent:*:connections"))

    forget()
    yield
    forget()


@pytest.fixture
def floor(app, channel):
    """Billing with open, pending, at-risk, breached and assigned work; Ana and Sam; tokens for both."""
    with app.app_context():
        ana, ana_token = make_agent("agent", "Ana", ("billing",))
        sam, sam_token = make_agent("supervisor", "Sam")
        now = utcnow()
        ids = {
            "at_risk": make_conversation("billing", due=now + timedelta(minutes=10), sla_status="at_risk",
                                         waiting_since=now - timedelta(minutes=50)),
            "breached": make_conversation("billing", due=now - timedelta(minutes=5), sla_status="breached",
                                          waiting_since=now - timedelta(hours=3)),
            "assigned": make_conversation("billing", assignee_id=ana, due=now + timedelta(hours=4), sla_status="ok",
                                          waiting_since=now - timedelta(minutes=20)),
            "pending": make_conversation("billing", status="pending", assignee_id=ana),
            "resolved": make_conversation("billing", status="resolved", assignee_id=ana,
                                          created_at=now - timedelta(minutes=30), resolved_at=now),
            "tech": make_conversation("tech", due=now + timedelta(hours=6), waiting_since=now - timedelta(minutes=1)),
        }
    return {"ana": ana, "sam": sam, "ana_token": ana_token, "sam_token": sam_token, "ids": ids}


def get(client, path, token):
    return client.get(f"/api/v1{path}", headers=bearer(token))


def test_queue_figures_match_the_conversations(client, floor):
    """Depth, open, pending, unassigned, at risk, breached and the oldest wait, per queue."""
    figures = {q["queue"]: q for q in get(client, "/dashboard", floor["sam_token"]).get_json()["queues"]}
    billing = figures["billing"]
    assert {k: billing[k] for k in ("depth", "open", "pending", "unassigned", "at_risk", "breached")} == {
        "depth": 4, "open": 3, "pending": 1, "unassigned": 2, "at_risk": 1, "breached": 1}
    oldest = parse(billing["oldest_waiting_since"])
    assert timedelta(hours=2, minutes=59) < datetime.now(UTC) - oldest < timedelta(hours=3, minutes=1)
    assert (figures["tech"]["depth"], figures["tech"]["unassigned"]) == (1, 1)
    assert figures["triage"]["depth"] == 0 and figures["triage"]["oldest_waiting_since"] is None


@pytest.mark.parametrize(("metric", "expected"), [
    ("depth", {"at_risk", "breached", "assigned", "pending"}), ("open", {"at_risk", "breached", "assigned"}),
    ("pending", {"pending"}), ("unassigned", {"at_risk", "breached"}), ("at_risk", {"at_risk"}),
    ("breached", {"breached"}), ("oldest", {"at_risk", "breached", "assigned"}),
])
def test_every_queue_figure_drills_down_to_its_conversations(client, floor, metric, expected):
    """The list behind a number holds exactly the conversations it counts."""
    response = get(client, f"/dashboard/conversations?metric={metric}&queue=billing", floor["sam_token"])
    names = {v: k for k, v in floor["ids"].items()}
    assert {names[c["id"]] for c in response.get_json()["data"]} == expected


def test_the_oldest_drill_down_starts_with_the_longest_waiting(client, floor):
    """Oldest waiting lists the conversation waiting longest first."""
    data = get(client, "/dashboard/conversations?metric=oldest&queue=billing", floor["sam_token"]).get_json()["data"]
    assert data[0]["id"] == floor["ids"]["breached"]


def test_agents_load_handled_today_and_median_handle_time(app, client, floor):
    """Open load counts what capacity limits (open), pending apart; handled today and the median from resolutions."""
    with app.app_context():
        now = utcnow()
        for minutes in (10, 50):
            make_conversation("billing", status="resolved", assignee_id=floor["ana"],
                              created_at=now - timedelta(minutes=minutes), resolved_at=now)
        app.extensions.pop("dashboard_slow", None)
        agents = {a["name"]: a for a in dashboard.snapshot(now)["agents"]}
    assert (agents["Ana"]["open"], agents["Ana"]["pending"], agents["Ana"]["handled_today"]) == (1, 1, 3)
    assert agents["Ana"]["median_handle_seconds"] == pytest.approx(30 * 60, abs=2)
    assert agents["Sam"] == {"id": floor["sam"], "name": "Sam", "role": "supervisor", "status": "offline",
                             "status_since": None, "open": 0, "pending": 0, "capacity": 10, "queues": [],
                             "handled_today": 0, "median_handle_seconds": None, "csat_average": None,
                             "csat_answers": 0}
    for metric, expected in (("agent_handled", {"resolved"}), ("agent_open", {"open"}), ("agent_pending", {"pending"})):
        found = get(client, f"/dashboard/conversations?metric={metric}&agent_id={floor['ana']}",
                    floor["sam_token"]).get_json()["data"]
        assert {c["status"] for c in found} == expected
        assert len(found) == {"agent_handled": 3}.get(metric, 1)


def test_agents_show_their_presence_status_since_when_and_capacity_per_queue(app, client, floor):
    """Status is the presence heartbeat's (online, away, offline after silence) with its start; capacity is the
    agent's own and the one set for each queue they work, next to their open load there; the CSV has them too."""
    with app.app_context():
        queue_id = db.session.scalar(sa.select(Queue.id).where(Queue.slug == "billing"))
        db.session.execute(sa.update(queue_members).where(queue_members.c.agent_id == floor["ana"],
                                                          queue_members.c.queue_id == queue_id).values(capacity=1))
        db.session.get(Agent, floor["ana"]).capacity = 4
        db.session.commit()
        went_away = time.time() - 30  # within PRESENCE_ONLINE_SECONDS (90): still heard from
        presence.agent_connected(floor["ana"], now=went_away - 60)
        presence.agent_heartbeat(floor["ana"], "away", now=went_away)
        presence.agent_connected(floor["sam"], now=went_away - 3600)  # no heartbeat since: offline
        agents = {a["name"]: a for a in dashboard.agent_table({}, utcnow())}
        assert agents["Ana"]["status"] == "away"
        assert parse(agents["Ana"]["status_since"]).timestamp() == pytest.approx(went_away, abs=0.01)
        assert agents["Sam"]["status"] == "offline"
        presence.agent_heartbeat(floor["ana"], "online")
        assert {a["name"]: a["status"] for a in dashboard.agent_table({})}["Ana"] == "online"
    ana = agents["Ana"]
    assert (ana["open"], ana["capacity"], ana["queues"]) == (1, 4, [{"queue": "billing", "open": 1, "capacity": 1}])
    rows = read_csv(get(client, "/dashboard/export?table=agents", floor["sam_token"]))
    row = dict(zip(rows[0], next(r for r in rows if r[1] == "Ana"), strict=True))
    assert (row["status"], row["open"], row["pending"], row["capacity"], row["queue_capacity"]) == (
        "online", "1", "1", "4", "billing 1/1")


def test_at_risk_and_breached_are_the_sla_engines_verdicts_not_the_due_time(client, app, floor):
    """A conversation due in 10 minutes whose policy is not yet at its at-risk fraction is not at risk; one due in
    3 hours already past it is; a pending one keeps its verdict out of the open figures."""
    with app.app_context():
        now = utcnow()
        soon_but_ok = make_conversation("tech", due=now + timedelta(minutes=10), sla_status="ok", waiting_since=now)
        late_fraction = make_conversation("tech", due=now + timedelta(hours=3), sla_status="at_risk", waiting_since=now)
        make_conversation("tech", status="pending", sla_status="breached")
    tech = next(q for q in get(client, "/dashboard", floor["sam_token"]).get_json()["queues"] if q["queue"] == "tech")
    assert (tech["open"], tech["at_risk"], tech["breached"]) == (3, 1, 0)
    at_risk = get(client, "/dashboard/conversations?metric=at_risk&queue=tech", floor["sam_token"]).get_json()["data"]
    assert [c["id"] for c in at_risk] == [late_fraction] and soon_but_ok not in {c["id"] for c in at_risk}
    rows = read_csv(get(client, "/dashboard/export?table=drilldown&metric=at_risk&queue=tech", floor["sam_token"]))
    assert [int(r[0]) for r in rows[1:]] == [late_fraction]


def test_first_reply_percentiles_today_against_the_same_weekday_last_week(app, channel):
    """p50/p90 of first-reply times today so far, and over the same hours a week earlier."""
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with app.app_context():
        for minutes in (1, 2, 3, 4, 5):
            replied = now - timedelta(hours=1)
            make_conversation("billing", created_at=replied - timedelta(minutes=minutes), first_reply_at=replied)
        for minutes in (10, 20):
            replied = now - timedelta(days=7, hours=2)
            make_conversation("billing", created_at=replied - timedelta(minutes=minutes), first_reply_at=replied)
        # Answered last week but later in the day than "now": not part of the comparison.
        make_conversation("billing", created_at=now - timedelta(days=7) + timedelta(hours=1),
                          first_reply_at=now - timedelta(days=7) + timedelta(hours=2))
        figures = dashboard.first_reply_times(now)
    assert figures["today"] == {"count": 5, "p50": 180.0, "p90": 276.0}
    assert figures["last_week"] == {"count": 2, "p50": 900.0, "p90": 1140.0}


def test_routed_posts_feed_the_volume_and_sentiment_charts(app, client, deliver, run_jobs, floor):
    """The routing job counts each post into its queue's 5-minute bucket, with its sentiment."""
    deliver(make_post(text="@billing I was charged twice, this is awful and I am angry"))
    deliver(make_post(text="@billing thanks, great service", author={"id": "u2", "handle": "kim"}))
    deliver(make_post(text="@tech the app crashes", author={"id": "u3", "handle": "lee"}))
    route_all(app, run_jobs)
    snapshot = get(client, "/dashboard", floor["sam_token"]).get_json()
    series = snapshot["volume"]["series"]
    assert sum(series["billing"]) == 2 and sum(series["tech"]) == 1 and len(series["billing"]) == 288
    assert series["billing"][-1] + series["billing"][-2] == 2  # now, or the bucket before if it just turned
    hours = snapshot["sentiment"]["hours"]
    assert sum(h["posts"] for h in hours) == 3 and sum(h["negative"] for h in hours) == 1
    index = max(i for i, n in enumerate(series["billing"]) if n)
    bucket = datetime.fromisoformat(snapshot["volume"]["start"].replace("Z", "+00:00")) + timedelta(minutes=5 * index)
    behind = get(client, f"/dashboard/conversations?metric=volume&queue=billing&bucket={bucket:%Y-%m-%dT%H:%M:%SZ}",
                 floor["sam_token"]).get_json()["data"]
    assert len(behind) == series["billing"][index]
    hour = next(h for h in hours if h["negative"])["hour"]
    negative = get(client, f"/dashboard/conversations?metric=negative&bucket={hour}", floor["sam_token"]).get_json()
    assert [c["preview"] for c in negative["data"]] == ["@billing I was charged twice, this is awful and I am angry"]


def test_a_drill_down_on_a_queue_that_names_none_is_404(client, floor):
    """metric=open&queue=nope: no such queue."""
    response = get(client, "/dashboard/conversations?metric=open&queue=nope", floor["sam_token"])
    assert response.status_code == 404 and response.get_json()["error"]["message"].startswith("queue")


@pytest.mark.parametrize(("query", "field"), [
    ("metric=everything", "metric"), ("metric=open", "queue"),
    ("metric=volume&queue=billing&bucket=yesterday", "bucket"), ("metric=volume&queue=billing&bucket=2026-12-01T10:00",
                                                                 "bucket"),
    ("metric=agent_open", "agent_id"), ("metric=agent_open&agent_id=x", "agent_id"), ("metric=incident", "incident_id"),
])
def test_bad_drill_down_parameters_are_400_naming_the_field(client, floor, query, field):
    """Unknown metrics, missing or malformed filters get a 400 that names the parameter."""
    response = get(client, f"/dashboard/conversations?{query}", floor["sam_token"])
    assert response.status_code == 400 and response.get_json()["error"]["message"].startswith(field)


@pytest.mark.parametrize("path", [
    "/dashboard", "/dashboard/conversations?metric=open&queue=billing", "/dashboard/export?table=queues",
    "/incidents", "/qa/sample", "/qa/averages",
])
def test_agents_get_403_from_supervisor_endpoints(client, floor, path):
    """Only supervisors and admins see dashboards, incidents and QA."""
    response = get(client, path, floor["ana_token"])
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert get(client, path, floor["sam_token"]).status_code == 200


@pytest.mark.parametrize("page", ["/dashboard", "/qa", "/reports/weekly"])
def test_supervisor_pages_are_403_for_agents_and_need_a_sign_in(app, floor, page):
    """Anonymous visitors are sent to sign in; agents get 403; supervisors get the page."""
    assert app.test_client().get(page).status_code == 302
    agent = app.test_client()
    sign_in(agent, "ana@example.com")
    assert agent.get(page).status_code == 403
    supervisor = app.test_client()
    sign_in(supervisor, "sam@example.com")
    assert supervisor.get(page).status_code == 200


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_tables_export_as_csv_with_the_same_figures(client, floor):
    """The queues and agents tables come out as CSV with a header row."""
    rows = read_csv(get(client, "/dashboard/export?table=queues", floor["sam_token"]))
    assert rows[0][:8] == ["queue", "name", "depth", "open", "pending", "unassigned", "at_risk", "breached"]
    assert next(r for r in rows if r[0] == "billing")[2:8] == ["4", "3", "1", "2", "1", "1"]
    agents = read_csv(get(client, "/dashboard/export?table=agents", floor["sam_token"]))
    assert [r[1] for r in agents[1:]] == ["Ana", "Sam"]
    for table in ("volume", "sentiment", "first_reply", "incidents"):
        assert read_csv(get(client, f"/dashboard/export?table={table}", floor["sam_token"]))[0]
    assert get(client, "/dashboard/export?table=secrets", floor["sam_token"]).status_code == 400


def test_csv_cells_that_would_run_as_formulas_are_defused(app, client, floor):
    """Cells starting with =, +, -, @ (from customers or admins) get a leading quote; numbers stay numbers."""
    with app.app_context():
        db.session.add(Queue(slug="evil", name='=HYPERLINK("http://evil.example","x")'))
        db.session.commit()
        make_conversation("evil", subject="+cmd|' /C calc'!A0", tags=["@sum(1)", "-2+3"],
                          due=utcnow() - timedelta(minutes=1), sla_status="breached", waiting_since=utcnow())
    queues = read_csv(get(client, "/dashboard/export?table=queues", floor["sam_token"]))
    evil = next(r for r in queues if r[0] == "evil")
    assert evil[1] == "'=HYPERLINK(\"http://evil.example\",\"x\")" and evil[2] == "1"
    rows = read_csv(get(client, "/dashboard/export?table=drilldown&metric=breached&queue=evil", floor["sam_token"]))
    header, row = rows[0], rows[1]
    assert row[header.index("subject")] == "'+cmd|' /C calc'!A0"
    assert row[header.index("tags")] == "'@sum(1) -2+3"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows + queues for cell in r)


def test_the_dashboard_room_is_for_supervisors_and_gets_pushed_snapshots(socket_app, floor):  # noqa: F811
    """An agent cannot watch; a supervisor watching gets a snapshot when something changed, once per tick."""
    agent = socketio.test_client(socket_app, auth={"token": floor["ana_token"]})
    supervisor = socketio.test_client(socket_app, auth={"token": floor["sam_token"]})
    assert agent.emit("watch_dashboard", {}, callback=True) == {"ok": False}
    assert supervisor.emit("watch_dashboard", {}, callback=True) == {"ok": True}
    with socket_app.app_context():
        online = {agent_id for agent_id, state in presence.agent_states().items() if state.status == "online"}
        dashboard_push.mark_changed()
        assert dashboard_push.push() is True
        assert dashboard_push.push() is False  # another push within the same tick waits for the next
    received = [e for e in supervisor.get_received() if e["name"] == "dashboard.snapshot"]
    assert len(received) == 1 and {q["queue"]: q["depth"] for q in received[0]["args"][0]["queues"]}["billing"] == 4
    assert {a["name"]: a["status"] for a in received[0]["args"][0]["agents"]} == {"Ana": "online", "Sam": "online"}
    assert not [e for e in agent.get_received() if e["name"] == "dashboard.snapshot"]
    assert {floor["ana"], floor["sam"]} <= online
    agent.disconnect()
    with socket_app.app_context():
        assert redis_client().get(redis_key("dashboard", "dirty"))  # the agents table changed: a push is due
        assert presence.agent_states()[floor["ana"]].status == "offline"
        assert {a["name"]: a["status"] for a in dashboard.snapshot()["agents"]}["Ana"] == "offline"
    supervisor.disconnect()


def test_a_heartbeat_that_changes_status_marks_the_dashboard_changed(socket_app, floor):  # noqa: F811
    """Going away (or back online) changes the agents table, so a push is due; a plain beat changes nothing."""
    agent = socketio.test_client(socket_app, auth={"token": floor["ana_token"]})
    with socket_app.app_context():
        dirty = redis_key("dashboard", "dirty")
        redis_client().delete(dirty)
    assert agent.emit("heartbeat", {"status": "online"}, callback=True) == {"ok": True, "status": "online"}
    with socket_app.app_context():
        assert not redis_client().get(dirty)
    assert agent.emit("heartbeat", {"status": "away"}, callback=True) == {"ok": True, "status": "away"}
    with socket_app.app_context():
        assert redis_client().get(dirty)
        assert presence.agent_states()[floor["ana"]].status == "away"
    agent.disconnect()


# Each way a spreadsheet may still read a formula: ASCII starts, after whitespace or line breaks, after
# invisible characters, and the fullwidth and small forms that fold onto =, +, - and @.
FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\t=1+1", "\r=1+1", " =1+1", "\n=1+1", "\r\n=1+1", "  \t+1",
            "\u00a0=1+1", "\u3000=1+1", "\ufeff=1+1", "\u200b=1+1", "＝1+1", "＋1+1", "－1+1", "＠SUM(1)",
            " ＝1+1", "﹦1+1", "﹢1", "﹣1", "﹫SUM(1)", "\u22121+1", "\tplain"]


@pytest.mark.parametrize("text", FORMULAS)
def test_every_cell_a_spreadsheet_would_evaluate_gets_a_leading_quote(text):
    """The cell is kept whole behind a quote, so the spreadsheet shows it as text."""
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Maya", "a=b", "refund+vip", "", "  spaced", "ＡＢＣ", 5, -5, 2.5])
def test_ordinary_cells_and_numbers_are_left_alone(value):
    """Text that starts no formula, and numbers (even negative ones), are written as they are."""
    assert csv_cell(value) == value


def test_the_export_defuses_each_formula_form_over_http(app, client, floor):
    """Queue names carrying each formula form come out of the CSV export quoted."""
    with app.app_context():
        for number, text in enumerate(FORMULAS):
            db.session.add(Queue(slug=f"evil-{number}", name=text))
        db.session.commit()
    rows = read_csv(get(client, "/dashboard/export?table=queues", floor["sam_token"]))
    names = {r[0]: r[1] for r in rows if r[0].startswith("evil-")}
    assert names == {f"evil-{number}": "'" + text for number, text in enumerate(FORMULAS)}
