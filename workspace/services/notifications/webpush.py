"""Pushing an agent's new notifications to their devices (RFC 8030, encrypted per RFC 8291, VAPID per 8292).

Runs in the worker only. Each run claims the agent's notifications not yet pushed, keeps those the agent's
settings allow (and whose conversation they may still see), and sends one push (also to the agent's
Slack-compatible webhook and, when they opted in, by mail): a single conversation's
notification (tagged with the conversation, so a newer one replaces it on the phone), or, when several
wait, one summary of the agent's unread ones, tagged so the next summary replaces it. A burst of 500
urgent posts therefore shows as one notification that says 500, and never more than PUSH_PER_MINUTE pushes
a minute reach one agent: past that, the rest wait for the periodic run.
"""

import json
import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
import sqlalchemy as sa
from flask import current_app
from pywebpush import WebPusher

from workspace.extensions import db
from workspace.infra.broker import redis_client
from workspace.live import presence
from workspace.models import Agent, Conversation, Message, Notification, PushSubscription, utcnow
from workspace.services.conversations.actions import can_see
from workspace.services.notifications import mail, vapid
from workspace.services.notifications import settings as preferences
from workspace.services.notifications.subscriptions import UnsafeEndpoint, check_endpoint

log = logging.getLogger(__name__)

# A push service answering these has forgotten the subscription: it is removed.
GONE = (404, 410)
MAX_BODY = 120
# Devices of one agent pushed to at once (each request waits on a push service, not on this machine).
PARALLEL_DEVICES = 8
NOUNS = {"assigned": "assigned to you", "mention": "mentions", "reply": "customer replies", "sla": "SLAs at risk",
         "urgent": "urgent", "incident": "incidents", "mention_refused": "notes not delivered"}


def _cap_key(agent_id: int) -> str:
    return f"switchboard:push:cap:{agent_id}"


# One pooled HTTP session per process: a push service's TLS connection is kept alive between pushes instead of
# being set up again for each (pywebpush otherwise posts through a new connection every time).
_http = requests.Session()


def push_pending(agent_id: int) -> dict:
    """Push what waits for one agent (see the module's docstring).

    Returns:
        What happened: {"claimed", "sent", "removed", "failed"} counts, or {"capped": 1}.
    """
    redis, cap = redis_client(), current_app.config["PUSH_PER_MINUTE"]
    if int(redis.get(_cap_key(agent_id)) or 0) >= cap:
        return {"capped": 1}
    claimed = _claim(agent_id)
    result = {"claimed": len(claimed), "sent": 0, "removed": 0, "failed": 0}
    agent = db.session.get(Agent, agent_id)
    devices = db.session.scalars(sa.select(PushSubscription).where(PushSubscription.agent_id == agent_id)).all()
    row = preferences.settings_for(agent_id)
    webhook = row.webhook_url
    mail_to = mail.recipient(row, agent) if agent is not None else None
    wanted = _wanted(agent, row, claimed) if (devices or webhook or mail_to) and agent is not None and agent.active \
        else []
    if not wanted:
        return result
    with redis.pipeline() as pipe:
        pipe.set(_cap_key(agent_id), 0, ex=60, nx=True).incr(_cap_key(agent_id)).execute()
    message = _message(agent, row, wanted)
    for outcome in send_all(devices, message):
        result[outcome] += 1
    if webhook:
        result["sent" if post_to_webhook(webhook, message) else "failed"] += 1
    if mail_to:
        result["sent" if mail.send(message, mail_to) else "failed"] += 1
    db.session.commit()
    return result


def post_to_webhook(url: str, message: dict) -> bool:
    """Post the notification to a Slack-compatible incoming webhook (`{"text": ...}` with the console's link).

    Returns:
        Whether it was taken (a failure is logged; the devices' pushes stand).
    """
    link = f"{current_app.config['PUBLIC_URL']}{message['url']}"
    text = f"{message['title']}: <{link}|open in Switchboard>" + (f"\n{message['body']}" if message["body"] else "")
    try:
        check_endpoint(url)
        response = requests.post(url, json={"text": text}, timeout=current_app.config["PUSH_TIMEOUT_SECONDS"],
                                 allow_redirects=False)
    except (requests.RequestException, UnsafeEndpoint) as error:
        log.warning("notification webhook failed: %s", error)
        return False
    if response.status_code >= 300:
        log.warning("notification webhook answered %s", response.status_code)
    return response.status_code < 300


def _claim(agent_id: int) -> list[Notification]:
    """Mark the agent's unpushed notifications as decided, atomically (two runs never push one twice)."""
    ids = db.session.scalars(sa.update(Notification).where(
        Notification.agent_id == agent_id, Notification.pushed_at.is_(None))
        .values(pushed_at=utcnow()).returning(Notification.id)).all()
    db.session.commit()
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)))


def _wanted(agent: Agent, row, claimed: list[Notification]) -> list[Notification]:
    """The claimed notifications the agent's settings (`row`) let through now, about conversations they may
    still see (an agent just removed from a queue gets no more pushes for it) and that are still unread."""
    conversations = {c.id: c for c in db.session.scalars(sa.select(Conversation).where(
        Conversation.id.in_({n.conversation_id for n in claimed if n.conversation_id})))}
    state = presence.agent_states().get(agent.id)
    in_console = state is not None and state.status == "online"
    now = utcnow()
    wanted = []
    for notification in claimed:
        conversation = conversations.get(notification.conversation_id)
        if notification.read_at is not None:
            continue
        if notification.conversation_id is not None and (conversation is None or not can_see(agent, conversation)):
            continue
        if preferences.wants_push(row, notification, conversation, now, in_console=in_console):
            wanted.append(notification)
    return wanted


def _message(agent: Agent, row, wanted: list[Notification]) -> dict:
    """The payload: the least a phone needs to show and open it (no customer words unless asked for)."""
    subjects = {(n.conversation_id, n.incident_id) for n in wanted}
    if len(subjects) == 1:
        latest = wanted[-1]
        if latest.conversation_id is not None:
            tag, url = f"conversation-{latest.conversation_id}", f"/conversations/{latest.conversation_id}"
        else:
            tag, url = f"incident-{latest.incident_id}", "/dashboard"
        return {"title": latest.title, "body": _body(row, latest), "tag": tag, "url": url, "count": 1,
                "kind": latest.kind}
    unread = Counter(dict(db.session.execute(
        sa.select(Notification.kind, sa.func.count()).where(Notification.agent_id == agent.id,
                                                            Notification.read_at.is_(None))
        .group_by(Notification.kind)).all()))
    total = sum(unread.values())
    parts = ", ".join(f"{count} {NOUNS[kind]}" for kind, count in unread.most_common())
    title = f"{total} urgent conversations waiting" if set(unread) == {"urgent"} else f"{total} unread notifications"
    return {"title": title, "body": parts, "tag": "summary", "url": "/", "count": total, "kind": "summary"}


def _body(row, notification: Notification) -> str:
    """The customer's latest words, only for an agent who opted in (their settings, `row`)."""
    if notification.conversation_id is None or not row.include_text:
        return ""
    text = db.session.scalar(sa.select(Message.text).where(
        Message.conversation_id == notification.conversation_id, Message.direction == "inbound")
        .order_by(Message.id.desc()).limit(1)) or ""
    return text[:MAX_BODY]


def send_all(devices: list[PushSubscription], message: dict) -> list[str]:
    """Send one push to each device, at once (a slow push service delays only its own device); a device the
    push service forgot is removed, a failure is noted on it.

    Returns:
        Each device's outcome: "sent", "removed" or "failed" (the worker goes on either way).
    """
    config = current_app.config
    outgoing = [_request(device, message) for device in devices]  # signed here: VAPID needs the app's config
    if len(outgoing) > 1:
        with ThreadPoolExecutor(min(PARALLEL_DEVICES, len(outgoing))) as pool:
            answers = list(pool.map(lambda request: _post(request, config), outgoing))
    else:
        answers = [_post(request, config) for request in outgoing]
    return [_outcome(device, answer) for device, answer in zip(devices, answers, strict=True)]


def _request(device: PushSubscription, message: dict) -> dict | Exception:
    """What to post to one device's push service, or why nothing may be posted there."""
    try:
        check_endpoint(device.endpoint)  # again: a host's address may have changed since it subscribed
    except UnsafeEndpoint as error:
        return error
    return {"subscription": {"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh, "auth": device.auth}},
            "headers": {**vapid.authorization(device.endpoint), "Urgency": "high", "Topic": message["tag"][:32]},
            "data": json.dumps({**message, "renotify": True})}


def _post(request: dict | Exception, config) -> requests.Response | Exception:
    """Encrypt and post one push (no database or app context: it may run on a pool's thread)."""
    if isinstance(request, Exception):
        return request
    try:
        return WebPusher(request["subscription"], requests_session=_http).send(
            data=request["data"], headers=request["headers"], ttl=config["PUSH_TTL_SECONDS"],
            timeout=config["PUSH_TIMEOUT_SECONDS"])
    except requests.RequestException as error:
        return error


def _outcome(device: PushSubscription, answer: requests.Response | Exception) -> str:
    """Note on the device how its push went; remove it when its push service has forgotten it."""
    if isinstance(answer, Exception):
        log.warning("push to device %s failed: %s", device.id, answer)
        device.last_error = f"{type(answer).__name__}: {answer}"[:300]
        return "failed"
    if answer.status_code in GONE:
        db.session.delete(device)
        return "removed"
    if answer.status_code >= 300:
        device.last_error = f"HTTP {answer.status_code}: {answer.text[:200]}"
        return "failed"
    device.last_sent_at, device.last_error = utcnow(), None
    return "sent"


def waiting_agents() -> list[int]:
    """Agents with notifications whose push is still undecided (capped, or their job was lost)."""
    return list(db.session.scalars(sa.select(Notification.agent_id).where(Notification.pushed_at.is_(None))
                                   .distinct().order_by(Notification.agent_id)))

