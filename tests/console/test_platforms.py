"""Real senders in the real console: a Discourse personal message shows as private, and the agent's reply
is posted to a Discourse-compatible server by the worker process, its state updating live on the message."""

import requests

from tests.factories import SECRET
from tests.payloads import discourse_headers, discourse_post, encode
from tests.platforms import FakeDiscourse, LiveServer
from workspace.extensions import db
from workspace.models import Channel


def test_a_private_discourse_topic_is_answered_from_the_console(app, open_console, live_server):
    """The PM carries a private chip; the reply reaches the forum and the thread shows it sent without a reload."""
    forum = FakeDiscourse()
    forum.add_topic(321, ("maya", "@billing I was charged twice"))
    with LiveServer(forum.app) as server:
        with app.app_context():
            db.session.add(Channel(slug="community", name="Community", kind="discourse", secret=SECRET, settings={
                "base_url": server.url, "api_key": forum.api_key, "api_username": forum.api_username}))
            db.session.commit()
        body = encode(discourse_post(raw="@billing I was charged twice for March", topic_archetype="private_message"))
        response = requests.post(f"{live_server}/webhooks/community", data=body, timeout=10,
                                 headers=discourse_headers(body, SECRET))
        assert response.status_code == 202, response.text
        conversation_id = response.json()["conversation_id"]

        page = open_console("ana@example.com")
        page.click('#queues li[data-queue="billing"]')
        row = page.locator(f'#rows .row[data-id="{conversation_id}"]')
        row.wait_for(timeout=15000)
        assert row.locator(".chip.private").inner_text() == "private"
        row.click()
        page.wait_for_selector("#thread .message.inbound")
        assert "private message" in page.inner_text("#conv-meta")
        page.fill("#reply-text", "Refunded: you will see it in 3 days.")
        page.click("#send-reply")
        page.wait_for_selector("#thread .message.outbound .delivery.sent", timeout=15000)
        [posted] = [p for p in forum.posts_in(321) if p["username"] == forum.api_username]
        assert posted["raw"].startswith("Refunded: you will see it in 3 days.")
        link = page.get_attribute("#thread .message.outbound .permalink", "href")
        assert link == f"{server.url}/t/topic-321/321/{posted['post_number']}"
        assert page.errors == []
