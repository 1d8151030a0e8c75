"""Suggestions in a real browser: shown beside the conversation with source and confidence, a digit puts one in
the composer without sending it, sending an edited one records edited (the rest ignored); clean and phone-sized."""

import pytest
import sqlalchemy as sa

from tests.console.factories import serious_violations
from tests.console.test_console import post_webhook
from tests.factories import make_post, running, wait_for
from tests.services.assist.test_drafts import ChatStub
from workspace.extensions import db
from workspace.models import Agent, Article, AuditEntry, Author, Conversation, Incident, Macro, Message, Suggestion

REFUNDS = ["I was charged twice for my order, refund please", "refund the double charge on my card",
           "you billed me twice, I want my money back", "double charge on my order, need a refund"]
RESETS = ["password reset link never arrives", "forgot my password, cannot log in",
          "reset my password please", "locked out, the password reset fails"]


@pytest.fixture
def live_server(app, people, redis_url, tmp_path):
    """Web and worker as the Procfile runs them, with drafts from a local chat-completions stub."""
    stub = ChatStub()
    stub.answer = "Sorry! We refunded the duplicate charge [1]."
    with running(app, redis_url, tmp_path, SWITCHBOARD_DISPATCH_POLL_SECONDS="0.5",
                 SWITCHBOARD_GENERATOR_URL=f"http://127.0.0.1:{stub.port}/v1") as base:
        yield base
    stub.server.shutdown()


def seed_history(app) -> int:
    """A refund and a password macro, each applied by Ana to four past posts (as the audit log records it)."""
    with app.app_context():
        ana = db.session.scalar(sa.select(Agent).where(Agent.email == "ana@example.com"))
        refund = Macro(name="Refund a double charge", template="Sorry! We refunded the duplicate charge.",
                       scope="global", actions=[{"type": "reply"}])
        reset = Macro(name="Password reset", template="Use the reset link on the sign-in page.", scope="global",
                      actions=[{"type": "reply"}])
        article = Article(slug="double-charges", title="Charged twice for one order? The refund", status="published",
                          body="If you were charged twice for one order, we refund the duplicate.",
                          external_url="https://help.example.com/double-charges")
        outage = Incident(title="Double charges after the billing update", match_kind="phrase",
                          match_value="charged twice", answer_macro=refund)
        db.session.add_all([refund, reset, article, outage])
        db.session.flush()
        for number, (text, macro) in enumerate([(t, refund) for t in REFUNDS] + [(t, reset) for t in RESETS]):
            author = Author(channel_id=1, external_id=f"old{number}", handle=f"old{number}", name="")
            conversation = Conversation(channel_id=1, author=author, queue_id=2, status="resolved", subject="")
            db.session.add_all([author, conversation,
                                Message(conversation=conversation, channel_id=1, author=author, text=text)])
            db.session.flush()
            db.session.add(AuditEntry(agent_id=ana.id, action="conversation.macro", target_type="conversation",
                                      target_id=conversation.id, after={"macro_id": macro.id}))
        db.session.commit()
        return refund.id


def outcomes(app, conversation_id: int) -> dict:
    with app.app_context():
        try:
            return {(s.kind, s.macro_id): s.outcome for s in db.session.scalars(
                sa.select(Suggestion).where(Suggestion.conversation_id == conversation_id))}
        finally:
            db.session.remove()


def test_a_digit_inserts_a_suggestion_which_only_the_agent_sends(app, open_console, live_server, root):
    """The learned macro is first with its confidence; 1 fills the composer and sends nothing; sending it edited
    records edited for it and ignored for the others; a help article is suggested and found by search, its link
    inserted; the known issue shows with its answer, put in the composer by u; a generated draft is marked; the
    panel is axe-clean and fits a phone; the admin page shows the version's acceptance and adds an article."""
    refund_id = seed_history(app)
    conversation_id = post_webhook(live_server, make_post(text="I was charged twice for one order, refund please"))
    assert wait_for(lambda: outcomes(app, conversation_id), timeout=60)
    page = open_console("ana@example.com")
    page.goto(f"{live_server}/conversations/{conversation_id}")
    page.wait_for_selector("#suggestions .suggestion")
    first = page.inner_text("#suggestions li:first-child .suggestion")
    assert "Macro: Refund a double charge" in first and "%" in first and "applied to similar posts" in first
    assert "Article: Charged twice for one order? The refund" in page.inner_text("#suggestion-list")
    page.click("#suggestions summary")
    page.fill("#article-query", "refund twice")
    page.click("#article-search button")
    page.click("#article-results >> text=Insert link")
    assert page.input_value("#reply-text") == "https://help.example.com/double-charges"
    page.fill("#reply-text", "")
    assert "Known issue: Double charges after the billing update" in page.inner_text("#known-issues")
    page.click("#thread")
    page.keyboard.press("u")
    page.wait_for_function("() => document.querySelector('#reply-text').value.includes('refunded the duplicate')")
    page.fill("#reply-text", "")
    page.click("#generate-draft")
    page.wait_for_function("() => document.querySelector('#reply-text').value.includes('[1]')")
    assert page.is_visible("#draft-mark")
    assert serious_violations(page, "#suggestions") == [] and serious_violations(page, "#known-issues") == []
    assert serious_violations(page, "#composer") == []
    page.fill("#reply-text", "")
    page.click("#thread")
    page.keyboard.press("1")
    page.wait_for_function("() => document.querySelector('#reply-text').value.includes('refunded the duplicate')")
    assert wait_for(lambda: outcomes(app, conversation_id)[("macro", refund_id)] == "inserted")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.conversation_id == conversation_id, Message.direction == "outbound")) == 0
    page.fill("#reply-text", "Sorry about that! We refunded the duplicate charge today.")
    page.click("#send-reply")
    page.wait_for_selector("#thread .message.outbound")
    assert wait_for(lambda: outcomes(app, conversation_id)[("macro", refund_id)] == "edited")
    # The console records each suggestion's outcome in its own request: the others' ignored follow the edited.
    assert wait_for(lambda: set(outcomes(app, conversation_id).values()) <= {"edited", "ignored"})
    for width in (360, 390):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    admin = open_console(root)
    admin.goto(f"{live_server}/admin")
    admin.wait_for_selector("#suggestion-versions tbody tr")
    cells = admin.locator("#suggestion-versions tbody tr").first.locator("td").all_inner_texts()
    assert cells[0].endswith("(active)") and cells[6] == "1" and cells[8] != "–"
    assert serious_violations(admin, "#suggestions-admin") == []
    admin.fill("#article-form [name=title]", "Card delivery times")
    admin.fill("#article-form [name=body]", "Cards arrive in **five** days.")
    admin.select_option("#article-form [name=status]", "published")
    admin.click("#article-form button[type=submit]")
    admin.wait_for_selector("#articles tbody tr >> text=card-delivery-times")
    assert serious_violations(admin, "#articles-admin") == []
