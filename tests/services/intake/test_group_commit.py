"""Group commit: concurrent deliveries share a transaction without sharing each other's fate."""

import threading

import sqlalchemy as sa

from tests.factories import make_post
from workspace.channels.native import parse_post
from workspace.extensions import db
from workspace.models import Channel, Message
from workspace.services.intake.group_commit import PostCommitter


def channel_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Channel.id))


def run_together(committer, deliveries):
    """Submit deliveries from parallel threads; return each one's outcomes or error."""
    results = [None] * len(deliveries)
    barrier = threading.Barrier(len(deliveries))

    def submit(index, args):
        barrier.wait()
        try:
            results[index] = committer.store(*args)
        except Exception as error:  # the test inspects it
            results[index] = error

    threads = [threading.Thread(target=submit, args=(i, d)) for i, d in enumerate(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_deliveries_are_all_stored_and_answered(app, channel):
    """Twenty parallel single-post deliveries each get their own committed outcome."""
    committer = PostCommitter(app)
    cid = channel_id(app)
    posts = [parse_post(make_post(author={"id": f"a{n}", "handle": f"h{n}"})) for n in range(20)]
    results = run_together(committer, [(cid, [post], 3600) for post in posts])
    assert [r[0].status for r in results] == ["stored"] * 20
    assert [r[0].external_id for r in results] == [post.external_id for post in posts]
    with app.app_context():
        stored = dict(db.session.execute(sa.select(Message.external_id, Message.id)).all())
    assert {r[0].external_id: r[0].message_id for r in results} == stored


def test_the_same_post_in_two_concurrent_deliveries_is_stored_once(app, channel):
    """One delivery stores it; the other is told it is a duplicate of the same message."""
    committer = PostCommitter(app)
    post = parse_post(make_post())
    first, second = run_together(committer, [(channel_id(app), [post], 3600)] * 2)
    assert sorted([first[0].status, second[0].status]) == ["duplicate", "stored"]
    assert first[0].message_id == second[0].message_id


def test_a_failing_delivery_does_not_sink_its_group(app, channel, monkeypatch):
    """If one delivery in a group fails, the others are committed on their own."""
    from workspace.services.intake import group_commit

    real_stage = group_commit.stage_posts
    poisoned = parse_post(make_post(text="poison"))

    def stage(channel_id, posts, window_seconds):
        if any(post.text == "poison" for post in posts):
            raise ValueError("bad delivery")
        return real_stage(channel_id, posts, window_seconds)

    monkeypatch.setattr(group_commit, "stage_posts", stage)
    monkeypatch.setattr(group_commit, "store_posts", lambda ch, posts, window_seconds: (
        _raise() if any(p.text == "poison" for p in posts) else _store(ch, posts, window_seconds)))
    cid = channel_id(app)
    good = [parse_post(make_post(author={"id": f"g{n}", "handle": "g"})) for n in range(5)]
    results = run_together(PostCommitter(app), [(cid, [poisoned], 3600)] + [(cid, [p], 3600) for p in good])
    assert isinstance(results[0], ValueError)
    assert all(r[0].status == "stored" for r in results[1:])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 5


def _raise():
    raise ValueError("bad delivery")


def _store(channel_id, posts, window_seconds):
    from workspace.services.intake.store import store_posts

    return store_posts(channel_id, posts, window_seconds=window_seconds)
