"""A push as the worker sends it, shown by the console's service worker in a phone-sized Chromium, and the
worker's own notificationclick handler taking the agent's open console window to the conversation.

Headless Chromium cannot click a notification: it has no notification centre to click in, and neither the
DevTools protocol nor WebDriver has a command that clicks one (web-platform-tests issue 51125 asks for one).
So the click is a `notificationclick` NotificationEvent, carrying the notification the browser shows, dispatched
inside the service worker's own global scope (Playwright's `Worker.evaluate`), where sw.js's listener handles
it as it would a real click. Two things differ from a real click, both Chromium's rules for an event a script
made: its `waitUntil` throws (an untrusted event), so the test collects the promises it is handed instead; and
focusing a window needs the user activation only a real click grants, so `focus()` is refused after the
navigation has happened.
"""

import json

import pytest
import requests

from tests.console.test_console import post_webhook
from tests.factories import make_post, running, wait_for
from tests.push_service import PushService
from workspace.extensions import db
from workspace.models import Agent, ApiToken

PHONE = {"width": 390, "height": 844}
# What the stand-in adds to each push it decrypts (not part of the payload).
RECEIVED_ONLY = ("at", "topic", "urgency")
CLICK = """async (tag) => {
  const [notification] = await self.registration.getNotifications({ tag });
  const event = new NotificationEvent('notificationclick', { notification });
  const handed = [];
  Object.defineProperty(event, 'waitUntil', { value: (promise) => handed.push(promise) });
  self.dispatchEvent(event);
  const settled = await Promise.allSettled(handed);
  return { handed: handed.length,
           outcomes: settled.map((s) => (s.status === 'fulfilled' ? 'fulfilled' : s.reason.name)),
           left: (await self.registration.getNotifications({ tag })).length };
}"""


@pytest.fixture
def live_server(app, people, redis_url, tmp_path):
    """The Procfile's web and worker, allowed to push to the local push service on this machine."""
    with running(app, redis_url, tmp_path, SWITCHBOARD_DISPATCH_POLL_SECONDS="0.5",
                 SWITCHBOARD_PUSH_ALLOW_LOCAL_ENDPOINTS="1",
                 SWITCHBOARD_VAPID_KEY_FILE=str(tmp_path / "vapid.pem")) as base:
        yield base


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.close()


def token(app, email: str) -> dict:
    """An API token's Authorization header for this agent."""
    with app.app_context():
        agent = db.session.query(Agent).filter_by(email=email).one()
        row, secret = ApiToken.issue(agent, "push click test")
        db.session.add(row)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_a_pushed_assignment_shows_and_its_click_opens_the_conversation(app, people, open_console, live_server,
                                                                       push_service):
    """Bob assigns a conversation to Ana: the worker pushes to her subscribed phone (decrypted by the local
    push service); that payload, delivered to Chromium through the DevTools protocol, shows one notification
    tagged with the conversation; clicking it (the service worker's own handler) closes it and takes her
    open console, showing the queue, to the conversation."""
    phone = push_service.device("ana-phone")
    ana, bob = token(app, "ana@example.com"), token(app, "bob@example.com")
    response = requests.post(f"{live_server}/api/v1/push/devices", json=phone.subscription(), headers=ana, timeout=10)
    assert response.status_code == 201, response.text
    conversation_id = post_webhook(live_server, make_post(text="Card declined twice"))
    path = f"{live_server}/api/v1/conversations/{conversation_id}"
    assert wait_for(lambda: requests.get(path, headers=bob, timeout=10).status_code == 200)  # routed
    response = requests.patch(path, json={"assignee": people["Ana"]}, headers=bob, timeout=10)
    assert response.status_code == 200, response.text
    assert wait_for(lambda: phone.received, timeout=30)
    payload = {key: value for key, value in phone.received[-1].items() if key not in RECEIVED_ONLY}
    tag, url = f"conversation-{conversation_id}", f"/conversations/{conversation_id}"
    assert (payload["tag"], payload["url"]) == (tag, url) and payload["title"].startswith("Assigned to you by Bob")

    page = open_console("ana@example.com", PHONE)
    context = page.context
    context.grant_permissions(["notifications"], origin=live_server)
    cdp = context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    page.evaluate("navigator.serviceWorker.ready")
    assert wait_for(lambda: any(not r["isDeleted"] for r in registrations), timeout=10)
    registration_id = next(r["registrationId"] for r in registrations if not r["isDeleted"])
    # The page loaded before its worker took control: reload, so the worker controls the window it navigates.
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    assert "/conversations/" not in page.url

    cdp.send("ServiceWorker.deliverPushMessage", {"origin": live_server, "registrationId": registration_id,
                                                  "data": json.dumps(payload)})
    shown = "(tag) => navigator.serviceWorker.ready.then((r) => r.getNotifications({ tag }))" \
            ".then((ns) => ns.map((n) => ({ title: n.title, body: n.body, url: n.data.url })))"
    assert wait_for(lambda: page.evaluate(shown, tag), timeout=10)
    assert page.evaluate(shown, tag) == [{"title": payload["title"], "body": "", "url": url}]

    [worker] = [w for w in context.service_workers if w.url.endswith("/sw.js")]
    outcome = worker.evaluate(CLICK, tag)
    page.wait_for_url(f"{live_server}{url}")
    page.wait_for_selector("#conv-subject:not(:empty)")
    # One promise handed to waitUntil; it fails only at focus(), after the navigation (no user activation).
    assert outcome == {"handed": 1, "outcomes": ["InvalidAccessError"], "left": 0}
    assert page.errors == []
