"""Merging a duplicate and splitting a thread from the console, and undoing each."""

from tests.console.factories import serious_violations
from tests.console.test_console import post_webhook, row
from tests.factories import make_post


def test_an_agent_merges_a_duplicate_undoes_it_and_splits_a_thread(open_console, live_server):
    """Merge opens the target with both posts and an undo; the duplicate says where it went; split makes a new
    conversation from a later post, and so does a selection of ticked posts; each undoes."""
    target = post_webhook(live_server, make_post(text="@billing invoice wrong", thread_id="t1"))
    duplicate = post_webhook(live_server, make_post(text="@billing invoice still wrong", thread_id="t2"))
    post_webhook(live_server, make_post(text="and my login fails", thread_id="t2"))
    page = open_console("ana@example.com")
    page.goto(f"{live_server}/conversations/{duplicate}")
    page.wait_for_selector("#thread .message.inbound")
    page.wait_for_selector("#merge-into")
    assert serious_violations(page, "#conversation") == []
    page.fill("#merge-into", str(target))
    page.click("#conv-merge button[type=submit]")
    page.wait_for_selector(f"#conv-meta:text-matches('^#{target} ')")
    page.wait_for_selector("#thread .message.inbound >> nth=2")
    page.click("#undo-merge")
    page.wait_for_selector(f"#conv-meta:text-matches('^#{duplicate} ')")
    page.wait_for_selector("#thread .message.inbound >> nth=2", state="detached")
    page.click("#thread .message.inbound .split")
    page.wait_for_selector(f"#conv-meta:text-matches('^#{duplicate + 1} ')")
    assert page.inner_text("#thread").count("and my login fails") == 1
    page.click("#undo-merge")
    page.wait_for_selector(f"#conv-meta:text-matches('^#{duplicate} ')")
    page.wait_for_selector("#thread .message.inbound >> nth=1")
    assert page.is_hidden("#split-selected")
    page.check("#thread .message.inbound >> nth=1 >> .split-pick")  # a selection: split off together
    page.click("#split-selected")
    page.wait_for_selector(f"#conv-meta:text-matches('^#{duplicate + 2} ')")
    assert page.inner_text("#thread").count("and my login fails") == 1
    page.click("#undo-merge")
    page.wait_for_selector(f"#conv-meta:text-matches('^#{duplicate} ')")
    page.wait_for_selector("#thread .message.inbound >> nth=1")
    assert page.errors == []


def test_a_selection_of_duplicates_merges_into_the_open_conversation(open_console, live_server):
    """Open the conversation to keep, tick two duplicates, "Merge into open": it holds all three posts."""
    keep = post_webhook(live_server, make_post(text="@billing outage here", thread_id="k1"))
    dupes = [post_webhook(live_server, make_post(text=f"@billing outage too {n}", thread_id=f"d{n}",
                                                 author={"id": f"u{n}", "handle": f"h{n}"})) for n in range(2)]
    page = open_console("ana@example.com")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click('#queues li[data-queue="billing"]')
    for conversation_id in (keep, *dupes):
        row(page, conversation_id).wait_for()
    row(page, keep).click()
    page.wait_for_selector("#thread .message.inbound")
    for conversation_id in dupes:
        row(page, conversation_id).locator(".pick").click()
    page.click("#bulk-merge")
    page.wait_for_selector("#thread .message.inbound >> nth=2")
    assert page.errors == []
