"""Macros and bulk in a real browser: select several, apply a macro, watch the progress, undo the tags."""

import sqlalchemy as sa

from tests.console.test_console import only_elements, post_webhook, row
from tests.factories import make_post
from workspace.extensions import db
from workspace.models import Conversation, Macro, Message

OUTAGE = {"name": "Outage reply", "scope": "global", "description": "Login outage",
          "template": "Hi {{ author.first_name | default('there') }}, the login outage is fixed.",
          "actions": [{"type": "reply"}, {"type": "add_tags", "tags": ["outage"]}]}


def add_macro(app) -> None:
    with app.app_context():
        db.session.add(Macro(**OUTAGE))
        db.session.commit()


def state(app, ids):
    with app.app_context():
        tags = {c.id: c.tags for c in db.session.scalars(sa.select(Conversation).where(Conversation.id.in_(ids)))}
        replies = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(
            Message.direction == "outbound"))
        return tags, replies


def dry_run_the_outage_macro(page, count: int) -> None:
    """In the open macro picker: type a few letters, Enter, and check the dry run (count, sample reply)."""
    page.keyboard.type("outa")
    page.wait_for_selector('#macro-list li.active:has-text("Outage reply")')
    page.keyboard.press("Enter")
    page.wait_for_selector("#bulk-dialog[open] .summary")
    assert page.inner_text("#bulk-dialog .summary").startswith(f"{count} conversations: {count} will change")
    assert "Hi Maya" in page.inner_text("#bulk-dialog .sample .reply")
    assert only_elements(page, "#bulk-summary")  # no "false" for the empty lists of locked and failing ones


def test_an_agent_applies_a_macro_to_several_watches_progress_and_undoes_the_tags(app, open_console, live_server):
    """Ana ticks one box and shift-clicks a range, presses `;`, picks the macro by typing, sees the dry run
    with the rendered reply, runs it, watches it finish, and undoes: the tags go, the replies stay sent."""
    add_macro(app)
    ids = [post_webhook(live_server, make_post(text=f"@billing I cannot log in {n}",
                                               author={"id": f"u{n}", "handle": f"h{n}", "name": f"Maya{n} Lin"}))
           for n in range(4)]
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    for conversation_id in ids:
        row(page, conversation_id).wait_for(timeout=15000)
    order = page.eval_on_selector_all("#rows .row", "rows => rows.map(r => Number(r.dataset.id))")
    row(page, order[0]).locator(".pick").click()
    row(page, order[2]).locator(".pick").click(modifiers=["Shift"])
    assert page.inner_text("#bulk-count") == "3 selected"
    page.keyboard.press(";")
    page.wait_for_selector("#macro-picker[open]")
    dry_run_the_outage_macro(page, 3)
    page.click("#bulk-run")
    page.wait_for_selector('#bulk-progress[data-state="finished"]', timeout=20000)
    assert "3 of 3" in page.inner_text("#bulk-progress-text")
    picked = order[:3]
    tags, replies = state(app, picked)
    assert all(value == ["outage"] for value in tags.values()) and replies == 3
    page.reload()  # the result is still there after a reload, with its undo
    page.wait_for_selector('#bulk-progress[data-state="finished"] #bulk-undo:not([hidden])')
    page.click("#bulk-undo")
    page.wait_for_selector('#bulk-progress[data-state="undone"]', timeout=20000)
    tags, replies = state(app, picked)
    assert all(value == [] for value in tags.values()) and replies == 3
    assert page.errors == []


def test_the_picker_previews_on_the_open_conversation_and_applies_with_enter(app, open_console, live_server):
    """On one conversation, `;` shows the rendered reply and changes before anything is sent; Enter applies."""
    add_macro(app)
    conversation_id = post_webhook(live_server, make_post(text="@billing login broken",
                                                          author={"id": "z", "handle": "zed", "name": "Zed Q"}))
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    row(page, conversation_id).click()
    page.wait_for_selector("#thread .message.inbound")
    page.keyboard.press(";")
    page.wait_for_selector("#macro-preview .reply")
    assert page.inner_text("#macro-preview .reply") == "Hi Zed, the login outage is fixed."
    assert "add tags outage" in page.inner_text("#macro-preview .changes")
    assert state(app, [conversation_id]) == ({conversation_id: []}, 0)
    page.keyboard.press("Enter")
    page.wait_for_selector("#thread .message.outbound")
    assert "Hi Zed" in page.inner_text("#thread .message.outbound")
    page.wait_for_function("() => document.querySelector('#conv-tags').value === 'outage'")
    assert page.errors == []


def test_an_admin_writes_a_macro_on_the_admin_page_and_a_bad_template_is_refused(app, root, open_console,
                                                                                  live_server):
    """The admin page saves a macro (the server checks it) and refuses a template reaching for internals."""
    page = open_console(root)
    page.goto(f"{live_server}/admin")
    page.wait_for_selector("#macro-form")
    page.fill("#macro-form input[name=name]", "Refund sent")
    page.fill("#macro-form textarea[name=template]", "{{ ''.__class__.__mro__ }}")
    page.click("#macro-save")
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('unsafe')")
    page.fill("#macro-form textarea[name=template]", "Hi {{ author.first_name | default('there') }}, refund sent.")
    page.click("#macro-save")
    page.wait_for_selector('#macros-admin tr:has-text("Refund sent")')
    with app.app_context():
        assert db.session.scalar(sa.select(Macro.template)) == \
            "Hi {{ author.first_name | default('there') }}, refund sent."
    assert page.errors == []
