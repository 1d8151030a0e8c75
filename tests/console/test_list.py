"""The console's list in a real browser: the server's order, deep links, j/k, going on after resolve and move."""

import sqlalchemy as sa

from tests.console.test_console import post_webhook, row
from tests.factories import make_post
from workspace.extensions import db
from workspace.models import Conversation
from workspace.models.conversation import NOT_DUE

BILLING = 12


def post_billing(live_server, count: int) -> list[int]:
    """`count` @billing posts, each from its own customer (one customer's posts would join one conversation)."""
    return [post_webhook(live_server, make_post(
        text=f"@billing invoice question number {number}", subject=f"Invoice {number}",
        author={"id": f"c{number}", "handle": f"customer{number}", "name": f"Customer {number}"}))
        for number in range(count)]


def server_order(page, status: str = "open") -> list[int]:
    """The billing queue's order as the API gives it."""
    return page.evaluate(f"""fetch('/api/v1/queues/billing/conversations?status={status}&limit=100')
        .then((response) => response.json()).then((page) => page.data.map((c) => c.id))""")


def shown_order(page) -> list[int]:
    return page.eval_on_selector_all("#rows .row", "rows => rows.map((row) => Number(row.dataset.id))")


def opened(page, conversation_id: int) -> None:
    """Wait until this conversation is open and its row (when listed) highlighted."""
    page.wait_for_function(f"() => location.pathname === '/conversations/{conversation_id}'"
                           f" && document.querySelector('#conv-subject').textContent !== ''"
                           f" && document.querySelector('#thread .message')")
    row_of = f"document.querySelector('#rows .row[data-id=\"{conversation_id}\"]')"
    page.wait_for_function(f"() => !{row_of} || {row_of}.matches('.selected')")


def on_screen(page, conversation_id: int) -> bool:
    """The row is drawn and wholly inside the list pane's visible part."""
    return page.evaluate(f"""() => {{
        const row = document.querySelector('#rows .row[data-id="{conversation_id}"]');
        if (!row) return false;
        const box = row.getBoundingClientRect(), pane = document.querySelector('#list').getBoundingClientRect();
        return box.top >= pane.top && box.bottom <= pane.bottom; }}""")


def test_the_list_keeps_the_servers_order_and_goes_on_after_each_action(app, open_console, live_server):
    """Conversations with no SLA clock come last in their priority, as on the server; a deep link opens its
    conversation in its own queue (not the busiest) highlighted; j walks down with the row kept on screen; e,
    Send & resolve and a move each open the next conversation; Undo brings a resolved one back with its preview;
    a move with nothing after it stays and the customer's history shows the new queue."""
    ids = post_billing(live_server, BILLING)
    for number in range(BILLING + 3):  # triage is the busiest queue, so it is the one a plain start shows
        post_webhook(live_server, make_post(text=f"hello {number}",
                                            author={"id": f"t{number}", "handle": f"t{number}"}))
    page = open_console("ana@example.com", viewport={"width": 1400, "height": 700})
    page.wait_for_function(f"() => document.querySelector('#queues li[data-queue=billing] .count-open')"
                           f"?.textContent === '{BILLING} open'", timeout=30000)
    with app.app_context():  # three lose their SLA clock, one is waiting on its customer
        db.session.execute(sa.update(Conversation).where(Conversation.id.in_(ids[:3])).values(sla_due_at=NOT_DUE))
        db.session.execute(sa.update(Conversation).where(Conversation.id == ids[3]).values(status="pending"))
        db.session.commit()

    # A deep link to the waiting one: its queue, its status, its row highlighted; with nothing after it a move
    # stays on it and the customer's history says where it went.
    page.goto(f"{live_server}/conversations/{ids[3]}")
    opened(page, ids[3])
    assert page.get_attribute('#queues li[data-queue="billing"]', "class") == "active"
    assert page.input_value("#filter-status") == "pending" and shown_order(page) == [ids[3]]
    page.wait_for_selector("#cust-history li")
    assert "queue billing" in page.inner_text("#cust-history")
    page.select_option("#conv-queue", "triage")
    page.wait_for_function("() => document.querySelector('#cust-history').textContent.includes('queue triage')")
    assert "Moved" in page.inner_text("#toast")

    # The open list in the server's order, the three with no clock last (the server's order says so too).
    page.goto(f"{live_server}/conversations/{ids[0]}")
    opened(page, ids[0])
    order = server_order(page)
    assert set(order[-3:]) == set(ids[:3]) and len(order) == BILLING - 1
    page.wait_for_function(f"() => document.querySelectorAll('#rows .row').length === {len(order)}")
    assert shown_order(page) == order
    assert on_screen(page, ids[0])

    # j from the top down to the fifth: each opens the next, kept on screen.
    page.goto(f"{live_server}/conversations/{order[0]}")
    opened(page, order[0])
    page.click("#conv-subject")  # the keys act on the page, not a field
    for index in range(1, 8):
        page.keyboard.press("j")
        opened(page, order[index])
        assert on_screen(page, order[index])
    page.keyboard.press("k")
    opened(page, order[6])

    # e resolves and opens the next; Undo reopens it, its row back in place with its preview.
    page.keyboard.press("e")
    opened(page, order[7])
    page.wait_for_selector(f'#rows .row[data-id="{order[6]}"]', state="detached")
    page.click("#toast .undo")
    opened(page, order[6])
    page.wait_for_selector(f'#rows .row[data-id="{order[6]}"] .preview')
    assert "invoice question" in page.inner_text(f'#rows .row[data-id="{order[6]}"] .preview')

    # Send & resolve goes on to another conversation of the list; so does a move. (Which one follows the list's
    # order at that moment: a reply stops the first-reply clock, which moves the row.)
    page.fill("#reply-text", "Sorted, thank you.")
    page.click("#send-resolve")
    following = went_on(page, order[6])
    page.select_option("#conv-queue", "triage")
    went_on(page, following)
    assert shown_order(page) == server_order(page)
    assert page.errors == []


def went_on(page, left: int) -> int:
    """Wait until the console left this conversation for another one in the list, its row gone; return that one."""
    page.wait_for_selector(f'#rows .row[data-id="{left}"]', state="detached")
    page.wait_for_function(f"() => location.pathname !== '/conversations/{left}'")
    now = int(page.evaluate("location.pathname.split('/').pop()"))
    opened(page, now)
    assert now in shown_order(page)
    return now


def test_a_live_update_keeps_the_order_and_the_preview(app, open_console, live_server):
    """A row that leaves the list and comes back through live events keeps its preview line, and the rows
    stay in the server's order as they change."""
    ids = post_billing(live_server, 4)
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    page.wait_for_function("() => document.querySelectorAll('#rows .row').length === 4", timeout=30000)
    row(page, ids[1]).click()
    page.wait_for_selector("#thread .message")
    page.select_option("#conv-status", "pending")  # leaves the open list (the next one opens)
    row(page, ids[1]).wait_for(state="detached")
    page.goto(f"{live_server}/")
    page.wait_for_selector("#connection.live", state="attached")
    page.click('#queues li[data-queue="billing"]')
    page.wait_for_function("() => document.querySelectorAll('#rows .row').length === 3")
    page.evaluate(f"""fetch('/api/v1/conversations/{ids[1]}', {{method: 'PATCH',
        headers: {{'Content-Type': 'application/json',
                   'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content}},
        body: JSON.stringify({{status: 'open', priority: 'urgent'}})}})""")
    row(page, ids[1]).wait_for()
    # The row may come back through the status change's event a moment before the priority's puts it first.
    page.wait_for_function(f"() => document.querySelector('#rows .row')?.dataset.id === '{ids[1]}'")
    assert shown_order(page) == server_order(page)
    assert page.errors == []


def test_j_shows_the_next_conversation_fetched_ahead_unless_it_changed_since(app, open_console, live_server):
    """While one conversation is read the next is fetched, so j shows it even if the network fails by then (the
    copy is read again after); a copy older than the list's row (the next one changed meanwhile) is not shown:
    j fetches it anew and shows the change."""
    post_billing(live_server, 3)
    page = open_console("ana@example.com")
    page.click('#queues li[data-queue="billing"]')
    page.wait_for_function("() => document.querySelectorAll('#rows .row').length === 3")
    first, second, third = shown_order(page)
    with page.expect_response(lambda response: response.url.endswith(f"/api/v1/conversations/{second}")):
        page.click(f'#rows .row[data-id="{first}"]')
        opened(page, first)
    page.route(f"**/api/v1/conversations/{second}", lambda route: route.abort())
    page.keyboard.press("j")
    opened(page, second)
    assert page.inner_text("#conv-subject") != "" and page.errors == []
    page.unroute(f"**/api/v1/conversations/{second}")
    # The third was fetched ahead too; it is changed (a live event brings the list's row up to date) before j.
    page.wait_for_function(f"() => performance.getEntriesByType('resource')"
                           f".some((entry) => entry.name.endsWith('/api/v1/conversations/{third}'))")
    page.evaluate(f"fetch('/api/v1/conversations/{third}', {{method: 'PATCH', headers: {{'Content-Type': "
                  f"'application/json', 'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content}}, "
                  f"body: JSON.stringify({{priority: 'low'}})}})")  # low: it stays last in the list
    page.wait_for_selector(f'#rows .row[data-id="{third}"] .prio-low', state="attached")
    page.keyboard.press("j")
    opened(page, third)
    page.wait_for_function("() => document.querySelector('#conv-priority').value === 'low'")
