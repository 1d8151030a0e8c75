"""The console in a real browser: sign in, live updates, reply and resolve, presence, get next, safety."""

import json

import requests

from tests.console.factories import PASSWORD
from tests.factories import SECRET, make_post
from workspace.channels.signature import sign


def post_webhook(base: str, payload: dict) -> int:
    body = json.dumps(payload).encode()
    response = requests.post(f"{base}/webhooks/forum", data=body, timeout=10, headers={
        "Content-Type": "application/json", "X-Switchboard-Signature": sign(SECRET, body)})
    assert response.status_code == 202, response.text
    return response.json()["conversation_id"]


def row(page, conversation_id: int):
    return page.locator(f'#rows .row[data-id="{conversation_id}"]')


def test_sign_in_shows_the_agents_queues(browser, live_server):
    """A wrong password is refused on the page; the right one opens the console with Ana's queues only."""
    page = browser.new_page()
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    page.fill("input[name=email]", "ana@example.com")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "wrong email or password" in page.inner_text(".error")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queues li")
    assert sorted(page.eval_on_selector_all("#queues li", "items => items.map(i => i.dataset.queue)")) == [
        "billing", "triage"]
    page.close()


def test_a_webhook_post_appears_live_and_counts_update(open_console, live_server):
    """With the console open on billing, a new @billing post appears in the list without a reload."""
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    conversation_id = post_webhook(live_server, make_post(text="@billing I was charged twice!", subject="Twice"))
    row(page, conversation_id).wait_for(timeout=15000)
    assert "charged twice" in row(page, conversation_id).inner_text()
    page.wait_for_function(
        "() => document.querySelector('#queues li[data-queue=billing] .count-open').textContent === '1 open'")
    assert page.errors == []


def test_reply_and_resolve(open_console, live_server):
    """Open a conversation, reply and resolve in one move: the reply is in the thread, the row leaves the open list."""
    conversation_id = post_webhook(live_server, make_post(text="@billing where is my refund?"))
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    row(page, conversation_id).click()
    page.wait_for_selector("#thread .message.inbound")
    page.fill("#reply-text", "Your refund left today.")
    page.click("#send-resolve")
    page.wait_for_selector("#thread .message.outbound")
    assert "Your refund left today." in page.inner_text("#thread .message.outbound")
    page.wait_for_function("() => document.querySelector('#conv-status').value === 'resolved'")
    row(page, conversation_id).wait_for(state="detached")


def test_two_agents_see_each_other_and_the_reply_lock(open_console, live_server):
    """Ana and Bob on one conversation see each other; Ana typing locks it for Bob, who can take over."""
    conversation_id = post_webhook(live_server, make_post(text="@billing help"))
    ana, bob = open_console("ana@example.com"), open_console("bob@example.com")
    for page in (ana, bob):
        page.goto(f"{live_server}/conversations/{conversation_id}")
        page.wait_for_selector("#connection.live")
        page.wait_for_selector("#thread .message")
    ana.wait_for_function("() => document.querySelector('#presence').textContent.includes('Bob')")
    bob.wait_for_function("() => document.querySelector('#presence').textContent.includes('Ana')")
    ana.type("#reply-text", "Working on it")
    bob.wait_for_selector("#lock:not([hidden])")
    assert "Ana is replying" in bob.inner_text("#lock") and bob.is_disabled("#reply-text")
    bob.click("#take-over")
    bob.wait_for_selector("#lock", state="hidden")
    ana.wait_for_selector("#lock:not([hidden])")
    assert "Bob is replying" in ana.inner_text("#lock")


PRESS_GET_NEXT = """() => window.pressed = fetch('/api/v1/conversations/next', {method: 'POST',
    headers: {'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content}}).then(r => r.json())"""


def test_simultaneous_get_next_hands_out_different_conversations(open_console, live_server):
    """Two agents press Get next at the same moment and are handed two different conversations."""
    first = post_webhook(live_server, make_post(text="@billing one", author={"id": "p1", "handle": "p1"}))
    second = post_webhook(live_server, make_post(text="@billing two", author={"id": "p2", "handle": "p2"}))
    ana, bob = open_console("ana@example.com"), open_console("bob@example.com")
    for page, wanted in ((ana, first), (bob, second)):
        page.click('#queues li[data-queue="billing"]')
        row(page, wanted).wait_for(timeout=15000)
    # Both requests leave before either answer is awaited, so the server sees them race.
    ana.evaluate(PRESS_GET_NEXT)
    bob.evaluate(PRESS_GET_NEXT)
    handed = {page.evaluate("window.pressed.then(c => c.id)") for page in (ana, bob)}
    assert handed == {first, second}


def test_a_signed_out_socket_is_refused(browser, live_server):
    """Without a session, the Socket.IO connection is refused by the server."""
    page = browser.new_page()
    page.goto(f"{live_server}/login")
    page.add_script_tag(url=f"{live_server}/static/vendor/socket.io.min.js")
    outcome = page.evaluate("""() => new Promise((resolve) => {
        const socket = io({transports: ['websocket'], reconnection: false});
        socket.on('connect', () => resolve('connected'));
        socket.on('connect_error', (error) => resolve('refused: ' + error.message));
        setTimeout(() => resolve('timeout'), 8000);
    })""")
    assert outcome == "refused: unauthorized"
    page.close()


def test_a_post_with_a_script_tag_renders_as_text(open_console, live_server):
    """Hostile post text is shown literally: no script runs, no image handler fires, no javascript: link."""
    text = ("@billing <script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\"> "
            "javascript:alert(3) https://example.com/safe")
    conversation_id = post_webhook(live_server, make_post(text=text, subject="<b>bold?</b>"))
    page = open_console("ana@example.com")
    page.goto(f"{live_server}/conversations/{conversation_id}")
    page.wait_for_selector("#thread .message.inbound")
    shown = page.inner_text("#thread .message.inbound .text")
    assert "<script>window.pwned = 1</script>" in shown and "<img src=x" in shown
    assert page.evaluate("window.pwned") is None
    assert page.inner_text("#conv-subject") == "<b>bold?</b>"
    links = page.eval_on_selector_all("#thread a", "links => links.map(a => a.href)")
    assert links == ["https://example.com/safe"]
    assert page.errors == []


def test_keyboard_and_phone_layout(open_console, live_server):
    """'?' opens the shortcuts; on a phone-sized screen the list and the conversation take turns."""
    conversation_id = post_webhook(live_server, make_post(text="@billing small screen"))
    page = open_console("ana@example.com", viewport={"width": 390, "height": 800})
    page.keyboard.press("?")
    assert page.is_visible("#help")
    page.keyboard.press("Escape")
    assert page.is_visible("#list") and not page.is_visible("#sidebar")
    row(page, conversation_id).click()
    page.wait_for_selector("#thread .message")
    assert page.is_visible("#conversation") and not page.is_visible("#list")
    page.click("#back")
    assert page.is_visible("#list") and not page.is_visible("#conversation")
    page.click("#back")
    assert page.is_visible("#sidebar") and not page.is_visible("#list")
    page.click('#queues li[data-queue="billing"]')
    assert page.is_visible("#list")


def test_nothing_open_shows_no_conversation_pane_and_missing_fields_print_nothing(open_console, live_server):
    """With no conversation open its pane and the customer panel stay hidden; a customer with no name, email,
    followers or trust level shows no "null" or "undefined" anywhere once a conversation is open."""
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    assert page.is_hidden("#conversation") and page.is_hidden("#customer")
    conversation_id = post_webhook(live_server, make_post(text="@billing hi", author={"id": "bare", "handle": "bare"}))
    row(page, conversation_id).click()
    page.wait_for_selector("#thread .message.inbound")
    page.wait_for_selector("#cust-history li")
    assert page.is_visible("#conversation") and page.is_visible("#customer")
    for pane in ("#customer", "#conversation", "#rows"):
        text = page.inner_text(pane)
        assert "null" not in text and "undefined" not in text and "NaN" not in text, (pane, text)
    assert page.inner_text("#cust-name") == "@bare"
    page.click("#why")  # the explanation: no rule, no SLA, no assignment here, and no stray "0" or "false" for them
    for pane in ("#cust-meta", "#explanation"):
        assert only_elements(page, pane), page.inner_text(pane)
    assert page.errors == []


def only_elements(page, selector: str) -> bool:
    """Every child is an element: no "null", "false" or "0" left as text by a missing optional part."""
    return page.eval_on_selector(selector, "node => [...node.childNodes].every(child => child.nodeType === 1)")
