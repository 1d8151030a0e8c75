"""Attachments of received email: their bytes, to whoever may see the conversation."""

from flask import Response, g

from workspace.errors import NotFound
from workspace.extensions import db
from workspace.models import EmailAttachment
from workspace.services.conversations.actions import ensure_visible
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS
from workspace.web.auth import agent_required

# Types a browser may show in place: images, which the console shows inline. Everything else is a download of
# application/octet-stream, so no attachment is ever rendered as a page of our origin.
SHOWN_INLINE = frozenset({"image/png", "image/jpeg", "image/gif"})
# The answer is a file, never a document: no script, no styles, nothing fetched, sandboxed if opened.
ATTACHMENT_POLICY = "default-src 'none'; sandbox"


@bp.get("/attachments/<int:attachment_id>")
@agent_required
def get_attachment(attachment_id: int):
    """An email attachment's bytes as received: images inline, every other type as a download."""
    attachment = db.session.get(EmailAttachment, attachment_id)
    if attachment is None:
        raise NotFound("no such attachment")
    ensure_visible(attachment.message.conversation, g.agent)  # hidden as the conversation is
    if attachment.data is None:
        raise NotFound(f"{attachment.filename} was over the size limit: only its name and size were kept",
                       code="attachment_not_kept")
    inline = attachment.content_type in SHOWN_INLINE
    response = Response(attachment.data, mimetype=attachment.content_type if inline else "application/octet-stream")
    response.headers["Content-Disposition"] = ("inline" if inline else "attachment") + \
        f"; filename*=UTF-8''{_quoted(attachment.filename)}"
    response.headers["Content-Security-Policy"] = ATTACHMENT_POLICY
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def _quoted(filename: str) -> str:
    """The file name percent-encoded for Content-Disposition's filename* (RFC 6266)."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "".join(f"%{b:02X}" for b in c.encode())
                   for c in filename)


PATHS["/api/v1/attachments/{attachment_id}"] = {"get": {
    "operationId": "get_attachment",
    "summary": "An email attachment's bytes: PNG, JPEG and GIF inline, anything else as application/octet-stream.",
    "parameters": [{"name": "attachment_id", "in": "path", "required": True, "schema": ID}],
    "responses": {"200": {"description": "The file as received.", "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/gif": {"schema": {"type": "string", "format": "binary"}}}},
        "401": ERROR, "403": ERROR, "404": ERROR},
}}
