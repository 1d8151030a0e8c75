"""Languages in the app: routing stores each post's language on its message and conversation; rules route by it."""

import sqlalchemy as sa

from tests.factories import make_post
from workspace.extensions import db
from workspace.jobs.dispatch import dispatch_once
from workspace.models import Conversation, Message, Rule


def test_a_language_rule_routes_spanish_posts_and_the_language_is_stored(app, ctx, channel, deliver, run_jobs):
    """A per-language queue by rule: the Spanish post lands in it; both posts keep their detected language."""
    db.session.add(Rule(position=1, name="spanish speakers", conditions={"language": "es"},
                        actions={"queue": "tech"}))
    db.session.commit()
    spanish = deliver(make_post(text="Mi pago todavía no ha llegado, por favor ayúdenme",
                                author={"id": "u7", "handle": "lucia", "name": "Lucía"})).get_json()
    english = deliver(make_post(text="My payment has not arrived yet, please help me")).get_json()
    assert dispatch_once(10)
    run_jobs()
    db.session.expire_all()
    first, second = (db.session.get(Conversation, body["conversation_id"]) for body in (spanish, english))
    assert (first.queue.slug, first.language) == ("tech", "es")
    assert (second.queue.slug, second.language) == ("triage", "en")
    assert set(db.session.execute(sa.select(Message.conversation_id, Message.language)).all()) == {
        (first.id, "es"), (second.id, "en")}
    assert first.explanation["language"] == "es"
