"""The weekly report: volumes, SLA hit rates, reply times, top topics and sentiment, printable."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.supervision import make_agent, make_conversation, sign_in
from workspace.extensions import db
from workspace.models import Conversation, SatisfactionRating, SlaOutcome, VolumeCount
from workspace.services.supervision import reports

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # 2026-W47


@pytest.fixture
def week(app, channel):
    """A known week: rollup counts per queue, tag and label; four replies; SLA outcomes decided in, before, after it."""
    with app.app_context():
        make_agent("supervisor", "Sam")
        make_agent("agent", "Ana", ("billing",))
        rows = [("queue", "billing", MONDAY + timedelta(hours=9), 10, -3.0, 4),
                ("queue", "tech", MONDAY + timedelta(days=2, hours=15), 5, 1.0, 0),
                ("queue", "tech", MONDAY + timedelta(days=7, hours=1), 99, 0.0, 0),  # the next week
                ("tag", "refund", MONDAY + timedelta(hours=9), 6, -2.0, 3),
                ("tag", "vip", MONDAY + timedelta(hours=9), 2, 0.0, 0),
                ("label", "billing", MONDAY + timedelta(hours=9), 9, -3.0, 4)]
        db.session.add_all(VolumeCount(kind=kind, key=key, bucket_start=bucket, posts=posts, sentiment_sum=total,
                                       negative=negative) for kind, key, bucket, posts, total, negative in rows)
        db.session.commit()
        start = MONDAY + timedelta(days=1, hours=8)
        replied = [make_conversation("billing", status="resolved", created_at=start,
                                     first_reply_at=start + timedelta(minutes=minutes))
                   for minutes in (30, 60, 90, 600)]
        waiting = make_conversation("billing", created_at=start, due=start + timedelta(minutes=480),
                                    waiting_since=start)
        tech = make_conversation("tech", created_at=start)
        due = start + timedelta(minutes=480)
        # (conversation, target, due_at, completed_at, met) as the SLA clocks record them.
        outcomes = [*((replied[i], "first_reply", due, start + timedelta(minutes=m), True)
                      for i, m in enumerate((30, 60, 90))),
                    (replied[3], "first_reply", due, start + timedelta(minutes=600), False),
                    (waiting, "first_reply", due, None, False),  # missed, still unanswered: counts
                    (replied[0], "next_reply", due + timedelta(days=1), due + timedelta(hours=20), True),
                    (replied[0], "resolution", due + timedelta(days=2), due + timedelta(days=1), True),
                    (replied[1], "resolution", due, due + timedelta(days=9), False),  # done the week after: a miss now
                    # Met the week before; missed the week after: neither counts.
                    (replied[2], "resolution", MONDAY + timedelta(days=9), MONDAY - timedelta(hours=1), True),
                    (replied[3], "resolution", MONDAY + timedelta(days=8), None, False),
                    (tech, "resolution", due, None, False)]
        for conversation_id, target, due_at, completed_at, met in outcomes:
            conversation = db.session.get(Conversation, conversation_id)
            db.session.add(SlaOutcome(conversation_id=conversation_id, queue_id=conversation.queue_id, priority=2,
                                      target=target, started_at=start + timedelta(seconds=len(target)),
                                      due_at=due_at, completed_at=completed_at, met=met))
        db.session.commit()


def test_the_weeks_figures(app, week):
    """Volumes per queue and day, SLA hits and misses, reply percentiles, top topics and daily sentiment."""
    with app.app_context():
        report = reports.weekly_report(MONDAY, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert report["week"] == "2026-W47" and report["previous"] == "2026-W46" and report["next"] == "2026-W48"
    assert report["volume"]["queues"] == {"billing": [10, 0, 0, 0, 0, 0, 0], "tech": [0, 0, 5, 0, 0, 0, 0]}
    assert report["volume"]["total"] == 15
    assert report["volume"]["days"][0] == {"posts": 10, "negative": 4, "mean_sentiment": -0.3, "negative_share": 0.4}
    billing = report["sla"]["billing"]
    assert billing["targets"] == {"first_reply": {"met": 3, "missed": 2, "hit_rate": 0.6},
                                  "next_reply": {"met": 1, "missed": 0, "hit_rate": 1.0},
                                  "resolution": {"met": 1, "missed": 1, "hit_rate": 0.5}}
    assert (billing["answered"], billing["p50"], billing["p90"]) == (4, 75 * 60, pytest.approx(447 * 60))
    assert report["sla"]["tech"]["targets"]["resolution"] == {"met": 0, "missed": 1, "hit_rate": 0.0}
    assert report["sla"]["tech"]["targets"]["first_reply"]["hit_rate"] is None
    assert report["sla"]["all"]["targets"]["resolution"] == {"met": 1, "missed": 2, "hit_rate": 0.333}
    assert report["sla"]["all"]["targets"]["first_reply"]["hit_rate"] == 0.6 and list(report["sla"])[-1] == "all"
    assert [t["key"] for t in report["topics"]["tag"]] == ["refund", "vip"]
    assert report["topics"]["label"] == [{"key": "billing", "posts": 9, "negative": 4}]


def test_the_report_page_renders_printable_for_supervisors(app, week):
    """The HTML report shows the week's tables and a print button (wired by its module: no inline script, see
    tests/console/test_security_headers.py for the click); agents get 403."""
    client = app.test_client()
    sign_in(client, "sam@example.com")
    html = client.get("/reports/weekly?week=2026-W47").get_data(as_text=True)
    for text in ("Switchboard weekly report, 2026-W47", '60.0% <span class="muted">(3 of 5)</span>', "33.3%",
                 "refund", 'id="report-volume"', 'id="print-report"', "js/pages/report.js",
                 "Mon 16 Nov 2026 to Sun 22 Nov 2026"):
        assert text in html
    agent = app.test_client()
    sign_in(agent, "ana@example.com")
    assert agent.get("/reports/weekly?week=2026-W47").status_code == 403


@pytest.mark.parametrize("value", ["2026-W60", "junk", "2026-47", "W47"])
def test_a_bad_week_is_400(app, week, value):
    """The week must be an ISO week like 2026-W48."""
    client = app.test_client()
    sign_in(client, "sam@example.com")
    response = client.get(f"/reports/weekly?week={value}")
    assert response.status_code == 400 and "ISO week" in response.get_json()["error"]["message"]


def test_the_default_week_is_the_last_complete_one():
    """Without a week, the report covers the Monday-to-Sunday before the current week."""
    assert reports.parse_week(None, now=datetime(2026, 12, 1, 9, tzinfo=UTC)) == datetime(2026, 11, 23, tzinfo=UTC)
    assert reports.parse_week("2026-W48") == datetime(2026, 11, 23, tzinfo=UTC)


def test_the_report_opens_on_this_week_when_the_last_had_no_posts(app):
    """A new floor (a fresh demo) has posts only this week: the report opens there, not on an empty week; once the
    last week has posts, it opens on the last complete week again."""
    now = MONDAY + timedelta(weeks=1, days=2, hours=9)
    with app.app_context():
        db.session.add(VolumeCount(kind="queue", key="billing", bucket_start=now - timedelta(hours=2), posts=3,
                                   sentiment_sum=0.0, negative=0))
        db.session.commit()
        assert reports.default_week(now) == MONDAY + timedelta(weeks=1)
        db.session.add(VolumeCount(kind="queue", key="billing", bucket_start=MONDAY + timedelta(days=6), posts=1,
                                   sentiment_sum=0.0, negative=0))
        db.session.commit()
        assert reports.default_week(now) == MONDAY


def test_a_finished_week_is_computed_once_and_the_current_week_every_time(app, monkeypatch):
    """A finished week's report is kept (its figures no longer change); the week under way is read afresh."""
    computed = []
    real = reports._compute
    monkeypatch.setattr(reports, "_compute", lambda start, now: computed.append(start) or real(start, now))
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    with app.app_context():
        first = reports.weekly_report(MONDAY, now=now)
        assert reports.weekly_report(MONDAY, now=now) is first
        current = MONDAY + timedelta(weeks=2)  # the week of `now`, under way
        reports.weekly_report(current, now=now)
        reports.weekly_report(current, now=now)
    assert computed == [MONDAY, current, current]


def test_the_report_page_shows_the_weeks_satisfaction(app, week):
    """The page's satisfaction section: the week's average and answers, and the queue they came from."""
    with app.app_context():
        conversation_id = make_conversation("billing", status="resolved")
        db.session.add(SatisfactionRating(conversation_id=conversation_id, score=4, queue_id=db.session.get(
            Conversation, conversation_id).queue_id, created_at=MONDAY + timedelta(days=2)))
        db.session.commit()
    client = app.test_client()
    sign_in(client, "sam@example.com")
    html = client.get("/reports/weekly?week=2026-W47").get_data(as_text=True)
    assert "Average 4.00 of 5 from 1\n    answer;" in html and 'id="report-csat-queues"' in html
    assert "No survey answers" in client.get("/reports/weekly?week=2026-W46").get_data(as_text=True)
