"""People: links between authors with their evidence, merges and their undo, and the person's one view."""

import pytest
import sqlalchemy as sa

from tests.factories import SECRET, make_post
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.jobs.tasks import periodic
from workspace.models import AuditEntry, Author, Channel, Person, PersonLink


@pytest.fixture
def call(client, token):
    def call(method, path, **kwargs):
        return getattr(client, method)(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)
    return call


@pytest.fixture
def second_channel(app, channel):
    """A second native channel, 'social', with the same secret."""
    with app.app_context():
        db.session.add(Channel(slug="social", name="Social", kind="native", secret=SECRET))
        db.session.commit()
    return "social"


@pytest.fixture
def post_as(deliver, api, second_channel):
    """Deliver a post by an author on a channel; returns the author's id."""
    def post_as(slug: str, author: dict, text: str = "My invoice looks wrong, can someone help?") -> int:
        answer = deliver(make_post(author=author, text=text), slug=slug)
        assert answer.status_code == 202, answer.get_data(as_text=True)
        return api(f"/conversations/{answer.get_json()['conversation_id']}").get_json()["author"]["id"]
    return post_as


def propose(app, redis) -> dict:
    """Run the periodic search for people, as the scheduler would."""
    redis.delete(periodic.PEOPLE_SCANNED_KEY)
    with app.app_context():
        try:
            return periodic.propose_person_links()
        finally:
            db.session.remove()


def only_link(call, author_id: int) -> dict:
    links = call("get", f"/authors/{author_id}").get_json()["links"]
    assert len(links) == 1, links
    return links[0]


def test_each_kind_of_evidence_proposes_a_link(app, redis, call, post_as):
    """Same email; a profile address naming the other handle; same name and handle elsewhere: each is proposed."""
    forum = post_as("forum", {"id": "f1", "handle": "maya", "name": "Maya Lin", "email": "maya@example.com"})
    social = post_as("social", {"id": "s1", "handle": "mayalin", "name": "M", "email": "maya@example.com"})
    linked = post_as("social", {"id": "s2", "handle": "bo", "name": "Bo", "url": "https://forum.example.com/u/ann"})
    ann = post_as("forum", {"id": "f2", "handle": "ann", "name": "Ann"})
    twin_a = post_as("forum", {"id": "f3", "handle": "kim", "name": "Kim Park"})
    twin_b = post_as("social", {"id": "s3", "handle": "kim", "name": "kim park"})
    loner = post_as("social", {"id": "s4", "handle": "zed", "name": "Zed"})
    assert propose(app, redis)["proposed"] >= 3
    kinds = {tuple(sorted(a["id"] for a in link["authors"])): [e["kind"] for e in link["evidence"]]
             for author in (forum, linked, twin_a) for link in [only_link(call, author)]}
    assert kinds == {tuple(sorted((forum, social))): ["email"], tuple(sorted((linked, ann))): ["profile_url"],
                     tuple(sorted((twin_a, twin_b))): ["name_handle"]}
    assert call("get", f"/authors/{loner}").get_json()["links"] == []
    assert propose(app, redis)["proposed"] == 0  # found again: nothing new


def test_a_confirmed_link_makes_one_person_with_one_history_and_the_union_of_tags(app, redis, call, post_as):
    """After confirming, either author shows both channels' history, both notes, VIP anywhere, the most followers."""
    forum = post_as("forum", {"id": "f1", "handle": "maya", "name": "Maya", "email": "m@example.com"},
                    text="Forum question about my invoice")
    social = post_as("social", {"id": "s1", "handle": "maya_x", "email": "m@example.com", "followers": 50_000},
                     text="Tweet about my invoice")
    call("patch", f"/authors/{social}", json={"tags": ["vip"]})
    call("post", f"/authors/{forum}/notes", json={"text": "Prefers email"})
    propose(app, redis)
    link = only_link(call, forum)
    confirmed = call("post", f"/person-links/{link['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    shown = call("get", f"/authors/{forum}").get_json()
    assert {a["channel"] for a in shown["person"]["authors"]} == {"forum", "social"}
    assert shown["person"]["tags"] == ["vip"] and shown["person"]["followers"] == 50_000
    assert {c["channel"] for c in shown["conversations"]} == {"forum", "social"}
    assert [n["text"] for n in call("get", f"/authors/{social}").get_json()["notes"]] == ["Prefers email"]
    assert call("post", f"/person-links/{link['id']}/confirm").status_code == 409  # decided once


def test_undo_puts_two_people_back_as_they_were_with_their_own_fields(app, redis, call, post_as):
    """Merging two people folds fields in; undoing moves the authors and their fields back, audited."""
    a = post_as("forum", {"id": "f1", "handle": "a"})
    b = post_as("social", {"id": "s1", "handle": "b"})
    call("patch", f"/authors/{a}/fields", json={"fields": {"plan": "pro"}})
    person_b = call("patch", f"/authors/{b}/fields", json={"fields": {"country": "NZ", "plan": "free"}}).get_json()
    link = call("post", f"/authors/{a}/links", json={"other_author_id": b, "confirm": True})
    assert link.status_code == 201 and link.get_json()["evidence"][0]["kind"] == "agent"
    merged = call("get", f"/authors/{b}").get_json()["person"]
    assert merged["fields"] == {"plan": "pro", "country": "NZ"} and len(merged["authors"]) == 2
    undone = call("post", f"/person-links/{link.get_json()['id']}/undo")
    assert undone.status_code == 200 and undone.get_json()["status"] == "undone"
    assert call("get", f"/authors/{a}").get_json()["person"]["fields"] == {"plan": "pro"}
    after_b = call("get", f"/authors/{b}").get_json()["person"]
    assert after_b["id"] == person_b["id"] and after_b["fields"] == {"country": "NZ", "plan": "free"}
    with app.app_context():
        assert db.session.get(Person, person_b["id"]).merged_into_id is None
        actions = db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-3:] == ["person.link.propose", "person.merge", "person.merge.undo"]


def test_undoing_a_link_that_a_later_merge_depends_on_is_refused(app, call, post_as):
    """A joins B, then (A,B) folds into C's person: undoing the first while the second stands is a 409."""
    c = post_as("social", {"id": "s2", "handle": "c"})  # the oldest: its person takes the others in
    a = post_as("forum", {"id": "f1", "handle": "a"})
    b = post_as("social", {"id": "s1", "handle": "b"})
    first = call("post", f"/authors/{a}/links", json={"other_author_id": b, "confirm": True}).get_json()
    call("patch", f"/authors/{c}/fields", json={"fields": {"plan": "x"}})
    second = call("post", f"/authors/{c}/links", json={"other_author_id": a, "confirm": True}).get_json()
    assert call("post", f"/person-links/{first['id']}/undo").status_code == 409
    assert call("post", f"/person-links/{second['id']}/undo").status_code == 200
    assert call("post", f"/person-links/{first['id']}/undo").status_code == 200
    with app.app_context():
        assert db.session.scalars(sa.select(Author.person_id).where(Author.id.in_([a, b]))).all() == [None, None]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == 1  # c's own, kept


def test_a_dismissed_link_is_not_proposed_again(app, redis, call, post_as):
    """Dismissing says they are different people; the next search leaves it dismissed."""
    a = post_as("forum", {"id": "f1", "handle": "a", "email": "same@example.com"})
    post_as("social", {"id": "s1", "handle": "b", "email": "same@example.com"})
    propose(app, redis)
    link = only_link(call, a)
    assert call("post", f"/person-links/{link['id']}/dismiss").get_json()["status"] == "dismissed"
    propose(app, redis)
    assert call("get", f"/authors/{a}").get_json()["links"] == []
    with app.app_context():
        assert db.session.scalar(sa.select(PersonLink.status)) == "dismissed"


def test_an_agent_sees_links_only_between_customers_of_their_queues(app, call, as_token, token_for, post_as):
    """An agent without either customer's queue gets 404 for the link and the author."""
    a = post_as("forum", {"id": "f1", "handle": "a"})
    b = post_as("social", {"id": "s1", "handle": "b"})
    link = call("post", f"/authors/{a}/links", json={"other_author_id": b}).get_json()
    outsider = as_token(token_for("agent", email="out@example.com"))
    assert outsider("post", f"/person-links/{link['id']}/confirm").status_code == 404
    assert outsider("patch", f"/authors/{a}/fields", json={"fields": {"plan": "x"}}).status_code == 404


@pytest.mark.parametrize("body", [
    {"fields": {"Plan": "x"}}, {"fields": {"plan": ["x"]}}, {"fields": {"plan": "x" * 501}}, {"fields": "x"},
    {"fields": {"plan": "x"}, "name": "y"},
])
def test_bad_custom_fields_are_400_and_change_nothing(app, call, post_as, body):
    """Field names are lower-case identifiers; values short strings, numbers, booleans or null."""
    a = post_as("forum", {"id": "f1", "handle": "a"})
    assert call("patch", f"/authors/{a}/fields", json=body).status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Person)) == 0


def test_import_sets_fields_by_channel_handle_or_email_and_reports_unmatched(app, call, post_as):
    """A CRM export's rows find customers by handle or email; a row naming nobody is reported, not fatal."""
    a = post_as("forum", {"id": "f1", "handle": "maya", "email": "maya@example.com"})
    b = post_as("social", {"id": "s1", "handle": "bo"})
    answer = call("post", "/people/import", json={"people": [
        {"email": "maya@example.com", "fields": {"plan": "enterprise", "crm_id": "C-1"}},
        {"channel": "social", "handle": "bo", "fields": {"country": "DE"}},
        {"channel": "social", "handle": "nobody", "fields": {"country": "FR"}}]})
    assert answer.status_code == 200 and answer.get_json() == {"matched": 2, "unmatched": [2]}
    assert call("get", f"/authors/{a}").get_json()["person"]["fields"] == {"plan": "enterprise", "crm_id": "C-1"}
    assert call("get", f"/authors/{b}").get_json()["person"]["fields"] == {"country": "DE"}
    bad = call("post", "/people/import", json={"people": [{"handle": "bo", "email": "x@y.z", "fields": {}}]})
    assert bad.status_code == 400


def test_routing_reads_the_person_vip_anywhere_and_custom_fields_in_rules(app, call, api, deliver, run_jobs,
                                                                         post_as):
    """A post on the forum by someone VIP on social is high priority; a rule on their plan sends it to billing."""
    rule = call("post", "/rules", json={"name": "enterprise", "conditions": {
        "person_field": "plan", "equals": "enterprise"}, "actions": {"queue": "billing", "score": 10}})
    assert rule.status_code == 201, rule.get_json()
    forum = post_as("forum", {"id": "f1", "handle": "maya"}, text="Hello there")
    social = post_as("social", {"id": "s1", "handle": "maya"})
    call("patch", f"/authors/{social}", json={"tags": ["vip"]})
    call("patch", f"/authors/{social}/fields", json={"fields": {"plan": "Enterprise"}})
    call("post", f"/authors/{forum}/links", json={"other_author_id": social, "confirm": True})
    answer = deliver(make_post(author={"id": "f1", "handle": "maya"}, text="A new question", thread_id="t2"))
    with app.app_context():
        while dispatch_once(100):
            pass
    run_jobs()
    routed = api(f"/conversations/{answer.get_json()['conversation_id']}").get_json()
    kinds = {part["factor"] for part in routed["priority_reasons"]}
    assert routed["queue"] == "billing" and {"vip", "rule"} <= kinds
    assert routed["priority"] in ("high", "urgent")


def route_all(app, run_jobs) -> None:
    """Dispatch every delivered post and run the jobs, so conversations land in their queues."""
    with app.app_context():
        while dispatch_once(100):
            pass
    run_jobs()


def statements_for(app, call, path: str) -> tuple[dict, int]:
    """GET path, and how many SQL statements answering it took."""
    seen = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        answer = call("get", path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json(), len(seen)


def test_lists_show_the_person_tags_vip_anywhere_with_no_query_per_row(app, call, post_as, run_jobs):
    """A forum conversation by someone VIP on social lists with the person's tags, in the queue, in search and
    in full; one more linked customer on the page costs no more statements."""
    forum = post_as("forum", {"id": "f1", "handle": "maya"})
    social = post_as("social", {"id": "s1", "handle": "maya_x"})
    call("patch", f"/authors/{social}", json={"tags": ["vip"]})
    call("patch", f"/authors/{forum}", json={"tags": ["problem"]})
    call("post", f"/authors/{forum}/links", json={"other_author_id": social, "confirm": True})
    route_all(app, run_jobs)
    conversation = call("get", f"/authors/{forum}").get_json()["conversations"]
    mine = next(c for c in conversation if c["channel"] == "forum")
    assert mine["author"]["tags"] == ["problem"] and mine["author"]["person_tags"] == ["problem", "vip"]
    full = call("get", f"/conversations/{mine['id']}").get_json()
    assert full["author"]["tags"] == ["problem"] and full["author"]["person_tags"] == ["problem", "vip"]
    queue = full["queue"]
    listed, before = statements_for(app, call, f"/queues/{queue}/conversations")
    assert {c["author"]["handle"]: c["author"]["person_tags"] for c in listed["data"]}["maya"] == ["problem", "vip"]
    found, _ = statements_for(app, call, "/search?q=invoice")
    assert [c["author"]["person_tags"] for c in found["data"] if c["id"] == mine["id"]] == [["problem", "vip"]]
    lone = post_as("forum", {"id": "f2", "handle": "kim"})  # not linked: its own tags
    call("patch", f"/authors/{lone}", json={"tags": ["employee"]})
    for n in (3, 4):
        one = post_as("forum", {"id": f"f{n}", "handle": f"a{n}"})
        other = post_as("social", {"id": f"s{n}", "handle": f"b{n}"})
        call("post", f"/authors/{one}/links", json={"other_author_id": other, "confirm": True})
    route_all(app, run_jobs)
    listed, after = statements_for(app, call, f"/queues/{queue}/conversations")
    tags = {c["author"]["handle"]: c["author"]["person_tags"] for c in listed["data"]}
    assert tags["kim"] == ["employee"] and tags["maya"] == ["problem", "vip"] and len(listed["data"]) >= 4
    assert after == before
