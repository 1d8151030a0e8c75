"""The webhook endpoint senders post to."""

import json
import time

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import MethodNotAllowed

from workspace.channels.post import Ignored, SourceChange
from workspace.channels.registry import adapter_for
from workspace.errors import NotFound, SwitchboardError, Unauthorized, ValidationError
from workspace.extensions import db
from workspace.jobs import dispatch
from workspace.models import Channel
from workspace.observability import instruments, logs
from workspace.services.intake.edits import apply_source_changes
from workspace.services.intake.group_commit import store_delivery
from workspace.services.intake.mail import receive_mail
from workspace.web.validation import finite_number, refuse_constant, refuse_lone_surrogates, whole_body
from workspace.web.webhooks.limits import webhook_limits

bp = Blueprint("ingest", __name__)

CHANNELS = Channel.__table__
# Built once; a plain row is all the adapters need (id, kind, secret, enabled, settings).
CHANNEL_BY_SLUG = sa.select(CHANNELS.c.id, CHANNELS.c.slug, CHANNELS.c.kind, CHANNELS.c.secret,
                            CHANNELS.c.enabled, CHANNELS.c.settings).where(CHANNELS.c.slug == sa.bindparam("slug"))
# Looking the channel up cost ~14% of a single-post request; a short cache
# means a new secret or a disabled channel reaches every process within this.
CHANNEL_CACHE_SECONDS = 2.0


def find_channel(slug: str):
    """Return the channel row for a slug (cached briefly per app), or None."""
    cache = current_app.extensions.setdefault("channel_cache", {})
    cached = cache.get(slug)
    now = time.monotonic()
    if cached and cached[0] > now:
        return cached[1]
    channel = db.session.connection().execute(CHANNEL_BY_SLUG, {"slug": slug}).first()
    db.session.close()  # give the connection back now: the committer does the writing
    cache[slug] = (now + CHANNEL_CACHE_SECONDS, channel)
    return channel


def enabled_channel(slug: str):
    """Return the channel row for a slug, or raise 404 (no such channel) or 403 (disabled)."""
    channel = find_channel(slug)
    g.webhook_channel = channel.slug if channel is not None else None  # the metrics' label
    if channel is None:
        raise NotFound(f"no channel named {slug!r}", code="unknown_channel")
    if not channel.enabled:
        raise SwitchboardError(f"channel {slug!r} is disabled", code="channel_disabled", status=403)
    return channel


@bp.get("/webhooks/<slug>")
def answer_challenge(slug: str):
    """Answer a sender's check of its webhook URL (X's CRC: GET ?crc_token=...)."""
    channel = enabled_channel(slug)
    challenge = getattr(adapter_for(channel.kind), "challenge", None)
    if challenge is None:
        raise MethodNotAllowed(valid_methods=["POST"], description=f"{channel.kind} channels take POST only")
    return jsonify(challenge(channel, request.args))


@bp.post("/webhooks/<slug>")
def receive_webhook(slug: str):
    """Accept a signed delivery of one or more posts; 2xx only once committed."""
    started = time.perf_counter()
    channel = enabled_channel(slug)
    limits = webhook_limits()
    address = request.remote_addr or "?"
    limits.refuse_known_forger(channel, address)  # before the body is read or a signature computed
    adapter = adapter_for(channel.kind)
    if channel.kind == "email":
        return receive_email(channel, adapter, limits, address)
    body = whole_body()  # 413 past MAX_CONTENT_LENGTH, chunked or not
    if request.mimetype != "application/json":
        raise SwitchboardError("send the posts as application/json", code="unsupported_media_type",
                               status=415)
    try:
        adapter.authenticate(channel, request.headers, body)
    except Unauthorized:
        limits.count_bad_signature(channel, address)
        raise
    limits.take_delivery(channel)  # only signed deliveries count against the channel's rate
    payload = decode_json(body)
    try:
        posts = adapter.parse(payload, max_batch=current_app.config["WEBHOOK_MAX_BATCH"], headers=request.headers,
                              channel=channel)
    except Ignored as nothing:
        return jsonify(status="ignored", reason=str(nothing)), 200
    if posts and isinstance(posts[0], SourceChange):  # edits and deletions of posts already delivered
        return receive_changes(channel, posts)
    outcomes = store_delivery(current_app._get_current_object(), channel.id, posts,
                              current_app.config["THREAD_WINDOW_SECONDS"])
    instruments.observe_ingest(started)
    logs.add_fields(channel=channel.slug, conversation_ids=sorted({o.conversation_id for o in outcomes}))
    dispatch.notify(sorted({o.conversation_id for o in outcomes if o.status == "stored"}), logs.request_id())
    stored = sum(outcome.status == "stored" for outcome in outcomes)
    status = 202 if stored else 200
    if len(outcomes) == 1 and not isinstance(payload, list):  # one post in, one outcome out
        outcome = outcomes[0]
        return jsonify(status=outcome.status, id=outcome.external_id,
                       conversation_id=outcome.conversation_id, message_id=outcome.message_id), status
    return jsonify(
        stored=stored, duplicates=len(outcomes) - stored,
        results=[
            {"id": o.external_id, "status": o.status, "conversation_id": o.conversation_id,
             "message_id": o.message_id}
            for o in outcomes
        ],
    ), status


def receive_email(channel, adapter, limits, address: str):
    """Accept one signed raw message (message/rfc822) from an inbound-parse service; 2xx only once committed."""
    request.max_content_length = current_app.config["EMAIL_MAX_BYTES"]
    body = whole_body()
    if request.mimetype != adapter.MEDIA_TYPE:
        raise SwitchboardError(f"send the message as {adapter.MEDIA_TYPE}", code="unsupported_media_type",
                               status=415)
    try:
        adapter.authenticate(channel, request.headers, body)
    except Unauthorized:
        limits.count_bad_signature(channel, address)
        raise
    limits.take_delivery(channel)
    outcome = receive_mail(channel, body)
    if outcome.status == "suspended":
        return jsonify(status="suspended", id=outcome.message_key), 202
    logs.add_fields(channel=channel.slug, conversation_ids=[outcome.conversation_id])
    if outcome.status == "stored":
        dispatch.notify([outcome.conversation_id], logs.request_id())
    return jsonify(status=outcome.status, id=outcome.message_key, conversation_id=outcome.conversation_id,
                   message_id=outcome.message_id), 202 if outcome.status == "stored" else 200


def receive_changes(channel, changes: list[SourceChange]):
    """Answer a delivery of edits, deletions or recoveries: 200 with what became of each, once committed;
    a conversation whose edit may change its route goes back to routing."""
    outcomes, reroute = apply_source_changes(channel.id, changes)
    dispatch.notify(reroute, logs.request_id())
    logs.add_fields(channel=channel.slug, conversation_ids=sorted({o.conversation_id for o in outcomes
                                                                   if o.conversation_id is not None}))
    results = [{"id": o.external_id, "status": o.status, "conversation_id": o.conversation_id,
                "message_id": o.message_id} for o in outcomes]
    if len(results) == 1:
        return jsonify(results[0]), 200
    return jsonify(results=results), 200


@bp.after_request
def count_answer(response):
    """Count each webhook POST's answer by channel and status (an in-process increment, no round-trip)."""
    if request.method == "POST":
        instruments.count_webhook(g.get("webhook_channel"), response.status_code)
    return response


def decode_json(body: bytes):
    """Decode a UTF-8 JSON body strictly; any defect is a 400 that says what it is."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValidationError(f"body is not valid UTF-8 (byte {error.start})", code="invalid_encoding")
    try:
        payload = json.loads(text, parse_constant=refuse_constant, parse_float=finite_number)
    except json.JSONDecodeError as error:
        raise ValidationError(f"body is not valid JSON: {error.msg} at line {error.lineno} "
                              f"column {error.colno}", code="invalid_json")
    except RecursionError:
        raise ValidationError("body is nested too deeply", code="invalid_json")
    except ValueError as error:  # Python's limit on digits in an integer (4,300 by default)
        raise ValidationError(f"body: a number has too many digits ({str(error).split(';')[0]})",
                              code="invalid_json")
    refuse_lone_surrogates(text, payload)
    return payload
