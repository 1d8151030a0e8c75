"""The console in a phone-sized Chromium: the bell counts notifications live and opens them; the console is
installable (a valid manifest, its icons, a registered service worker); a push delivered through the DevTools
protocol shows one notification per conversation that links to it; offline, a page says so and comes back."""

import json
import struct

import requests

from tests.console.test_console import post_webhook
from tests.factories import make_post, wait_for
from workspace.extensions import db
from workspace.models import Agent, ApiToken

PHONE = {"width": 390, "height": 844}


def bob_token(app) -> str:
    with app.app_context():
        bob = db.session.query(Agent).filter_by(email="bob@example.com").one()
        row, secret = ApiToken.issue(bob, "browser test")
        db.session.add(row)
        db.session.commit()
    return secret


def test_the_bell_counts_live_and_opens_the_conversation(app, people, open_console, live_server):
    """Bob assigns a conversation to Ana: her bell shows 1 without a reload; choosing it opens the
    conversation and the count goes back to nothing."""
    page = open_console("ana@example.com", PHONE)
    conversation_id = post_webhook(live_server, make_post(text="Where is my refund?"))
    path, auth = f"{live_server}/api/v1/conversations/{conversation_id}", {"Authorization": f"Bearer {bob_token(app)}"}
    assert wait_for(lambda: requests.get(path, headers=auth, timeout=10).status_code == 200)  # routed
    response = requests.patch(path, json={"assignee": people["Ana"]}, headers=auth, timeout=10)
    assert response.status_code == 200, response.text
    page.wait_for_selector("#bell-count:not([hidden])")
    assert page.inner_text("#bell-count") == "1"
    page.click("#bell")
    page.click(f"#bell-list a[href='/conversations/{conversation_id}']")
    page.wait_for_selector("#conv-subject:not(:empty)")
    assert page.url.endswith(f"/conversations/{conversation_id}")
    page.wait_for_selector("#bell-count[hidden]", state="attached")
    assert page.errors == []


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])


def test_the_console_installs_shows_pushes_and_says_when_it_is_offline(app, people, open_console, live_server):
    """The manifest names the console, its start URL, standalone display and 192 and 512 px icons; the service
    worker registers; a push delivered through the DevTools protocol shows one notification per tag (a second
    for the same conversation replaces the first) whose link opens the conversation; offline, the offline page
    shows, and the console comes back by itself when the network does."""
    conversation_id = post_webhook(live_server, make_post(text="Card declined"))
    page = open_console("ana@example.com", PHONE)
    context = page.context
    manifest = requests.get(f"{live_server}/manifest.webmanifest", timeout=10)
    assert manifest.headers["Content-Type"].startswith("application/manifest+json")
    data = manifest.json()
    assert (data["name"], data["start_url"], data["display"]) == ("Switchboard", "/", "standalone")
    for icon in data["icons"]:
        size = png_size(requests.get(f"{live_server}{icon['src']}", timeout=10).content)
        assert f"{size[0]}x{size[1]}" == icon["sizes"]
    assert {icon["sizes"] for icon in data["icons"]} == {"192x192", "512x512"}
    assert page.evaluate("document.querySelector('link[rel=manifest]').href").endswith("/manifest.webmanifest")

    context.grant_permissions(["notifications"], origin=live_server)
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    assert page.evaluate("navigator.serviceWorker.ready.then(r => r.active.scriptURL)").endswith("/sw.js")
    assert wait_for(lambda: any(not r["isDeleted"] for r in registrations), timeout=10)
    registration_id = next(r["registrationId"] for r in registrations if not r["isDeleted"])

    def push(payload: dict) -> None:
        cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server, "registrationId": registration_id,
                                                      "data": json.dumps(payload)})

    def shown() -> list[dict]:
        return page.evaluate("navigator.serviceWorker.ready.then(r => r.getNotifications())"
                             ".then(ns => ns.map(n => ({title: n.title, tag: n.tag, body: n.body, url: n.data.url})))")

    tag, url = f"conversation-{conversation_id}", f"/conversations/{conversation_id}"
    push({"title": "Urgent: first", "body": "", "tag": tag, "url": url})
    assert wait_for(lambda: len(shown()) == 1, timeout=10)
    push({"title": "Urgent: again", "body": "", "tag": tag, "url": url})
    assert wait_for(lambda: [n["title"] for n in shown()] == ["Urgent: again"], timeout=10)
    [notification] = shown()
    assert (notification["tag"], notification["url"]) == (tag, url)
    page.goto(f"{live_server}{notification['url']}")  # what the worker's notificationclick opens
    page.wait_for_selector("#conv-subject:not(:empty)")

    context.set_offline(True)
    page.goto(f"{live_server}/", wait_until="commit")
    page.wait_for_selector("text=You are offline")
    context.set_offline(False)
    page.wait_for_selector("#queues li", state="attached", timeout=20000)
    assert page.errors == []
