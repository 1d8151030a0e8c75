"""Email from the console: forward a conversation to a third party, and start one by writing a new mail."""

from flask import current_app, g, jsonify, request

from workspace.channels.email import drafts
from workspace.channels.registry import DEFAULT_REPLY_LIMIT as MAX_REPLY_CHARS
from workspace.extensions import db
from workspace.models import Conversation
from workspace.serializers import serialize_conversation, serialize_message
from workspace.services.conversations.actions import ensure_visible
from workspace.services.conversations.email import forward
from workspace.services.conversations.new_email import MAX_SUBJECT, start_conversation
from workspace.services.conversations.threads import thread_page
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, SLUG, closed, ref, text
from workspace.web.auth import agent_required

ADDRESS = {"type": "string", "maxLength": 254, "pattern": drafts.ADDRESS_PATTERN, "x-pattern": "an email address"}
ADDRESSES = {"type": "array", "maxItems": drafts.MAX_ADDRESSES, "items": ADDRESS}

# A mail's addresses as stored (name and address), and a message's email details in the API's answers.
MAILBOX = {"type": "object", "required": ["address", "name"],
           "properties": {"address": {"type": "string"}, "name": {"type": "string"}}}
SCHEMAS["EmailDetails"] = {
    "type": "object", "description": ("Email: a received message's addresses, the parts split from its text and "
                                      "files; or how an outbound one was sent (kind, To, Cc, Bcc, signature, files)."),
    "required": ["from", "to", "cc", "quoted", "signature", "html", "attachments"],
    "properties": {
        "kind": {"enum": ["received", "reply", "forward", "new"]},
        "from": MAILBOX, "to": {"type": "array", "items": MAILBOX}, "cc": {"type": "array", "items": MAILBOX},
        "bcc": {"type": "array", "items": MAILBOX, "description": "outbound only: in the envelope, never a header"},
        "copies": {"type": "array", "items": {"type": "string"},
                   "description": "received only: whom the customer copied besides us (a reply's default Cc)"},
        "forwarded": {"type": "array", "items": {"type": "integer"},
                      "description": "a forward: the messages it carried"},
        "reply_to": {"type": "array", "items": MAILBOX},
        "recipients_dropped": {"type": "integer", "description": "recipients past the 100 kept"},
        "quoted": {"type": "string", "description": "the quoted history, split from the new text"},
        "signature": {"type": "string"},
        "html": {"type": "string", "description": (
            "the HTML part sanitised on receipt (no scripts, handlers, styles or remote images; inline cid: "
            "images point at their attachment)")},
        "remote_images": {"type": "integer", "description": "remote images removed from the HTML, never fetched"},
        "automatic": {"type": ["string", "null"], "description": "why a machine sent it (never answered)"},
        "bounced": {"type": "array", "items": {"type": "string"}, "description": "a bounce: the failed addresses"},
        "attachments": {"type": "array", "items": {
            "type": "object", "required": ["id", "filename", "content_type", "size", "inline", "stored", "url"],
            "properties": {"id": {"type": "integer"}, "filename": {"type": "string"},
                           "content_type": {"type": "string", "description": "what its bytes show"},
                           "size": {"type": "integer"}, "inline": {"type": "boolean"},
                           "stored": {"type": "boolean", "description": "false: over the size limit, not kept"},
                           "url": {"type": "string"}}}},
    },
}
FILES = {"type": "array", "maxItems": drafts.MAX_FILES, "items": closed(
    {"filename": text(drafts.MAX_FILENAME), "content_base64": {"type": "string"}},
    required=("filename", "content_base64"))}
# What a reply on an email conversation may add (POST .../replies), and the names the view passes on.
EMAIL_REPLY_FIELDS = {"cc": {**ADDRESSES, "description": "absent: whom the customer's latest mail copied"},
                      "bcc": {**ADDRESSES, "description": "never in the mail's headers"},
                      "attachments": {**FILES, "description": f"at most {drafts.MAX_FILES_BYTES} bytes in all"}}
EMAIL_FIELDS = tuple(EMAIL_REPLY_FIELDS)
# Routes whose body may carry files.
WITH_FILES = frozenset({"api.reply_to_conversation", "api.start_email_conversation"})


@bp.before_request
def _allow_files():
    """Let the routes that take attachments read a body up to the files' limit (others keep the app's)."""
    if request.endpoint in WITH_FILES:
        request.max_content_length = max(drafts.MAX_REQUEST_BYTES, current_app.config["MAX_CONTENT_LENGTH"])


@bp.post("/conversations/<int:conversation_id>/forwards")
@agent_required
def forward_conversation(conversation_id: int):
    """Forward an email conversation (or one message of it) to a third party, with a note; queued as a reply."""
    conversation = ensure_visible(db.session.get(Conversation, conversation_id), g.agent)
    return jsonify(serialize_message(forward(conversation, request.get_json(), g.agent))), 201


@bp.post("/conversations")
@agent_required
def start_email_conversation():
    """Start a conversation by sending a new email from an email channel into a queue you work."""
    conversation = start_conversation(request.get_json(), g.agent)
    page = thread_page(conversation.id, limit=current_app.config["THREAD_PAGE_SIZE"])
    return jsonify(serialize_conversation(conversation, thread=page)), 201


_FAIL = {"400": ERROR, "401": ERROR, "404": ERROR}
PATHS["/api/v1/conversations/{conversation_id}/forwards"] = {"post": {
    "operationId": "forward_conversation",
    "summary": "Forward an email conversation (or message_id, one of its messages) to a third party.",
    "description": ("The forward is stored in the thread and delivered like a reply, to `to` and `cc` with the note "
                    "above the forwarded messages (and their attachments); the third party's answer joins the "
                    "conversation as their own post only when threaded by our Message-ID or reply address. "
                    "400 not_email on other channels."),
    "parameters": [{"name": "conversation_id", "in": "path", "required": True, "schema": ID}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed({
        "to": {**ADDRESSES, "minItems": 1}, "cc": ADDRESSES, "note": text(MAX_REPLY_CHARS, blank=True),
        "message_id": ID}, required=("to",))}}},
    "responses": {"201": {"description": "The stored forward.", "content": {
        "application/json": {"schema": ref("Message")}}}, **_FAIL}}}
PATHS["/api/v1/conversations"] = {"post": {
    "operationId": "start_email_conversation",
    "summary": "Start a conversation by sending a new email (pending on the customer, assigned to you).",
    "description": ("`channel` must be an email channel (400 not_email) and `queue` one you work (404 otherwise). "
                    "The mail goes out through the normal delivery job; the customer's answer joins the "
                    "conversation by our Message-ID or reply address."),
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed({
        "channel": SLUG, "queue": SLUG, "to": ADDRESS, "subject": text(MAX_SUBJECT), "text": text(MAX_REPLY_CHARS),
        **EMAIL_REPLY_FIELDS}, required=("channel", "queue", "to", "subject", "text"))}}},
    "responses": {"201": {"description": "The new conversation.", "content": {
        "application/json": {"schema": ref("ConversationDetail")}}}, "413": ERROR, **_FAIL}}}
