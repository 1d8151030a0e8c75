"""The OpenAPI 3.1 document of the API and the webhook endpoint (kept true by tests).

API modules add their own paths and schemas to PATHS and SCHEMAS beside
their routes, so a route and its documentation change together.
"""

from flask import jsonify

from workspace.config import Config
from workspace.models import MAX_ID, STATUSES
from workspace.services.conversations.search import WINDOW as SEARCH_WINDOW
from workspace.web.api import bp
from workspace.web.validation import DocumentedRequests

NULLABLE_STRING = {"type": ["string", "null"]}
PERSON_TAGS = {"type": "array", "items": {"type": "string"},
               "description": "the union of the tags of all their person's authors (VIP anywhere is VIP everywhere)"}
# A database id: ids out of this range name no row (a 404 in a path, a 400 in a body).
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# A queue's or channel's slug, as services.admin.SLUG checks it.
SLUG = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"}


def whole_number_query(name: str, *, low: int = 0, high: int = MAX_ID, **extra) -> dict:
    """A query parameter that validation.whole_number reads: digits from low to high; empty means absent."""
    return {"name": name, "in": "query", "allowEmptyValue": True,
            "schema": {"type": "integer", "minimum": low, "maximum": high}, **extra}


# The page size every list takes (validation.page_size).
PAGE_LIMIT = whole_number_query("limit", low=1, high=Config.API_MAX_PAGE_SIZE)


def text(limit: int, *, blank: bool = False) -> dict:
    """A string of at most `limit` characters, without NUL (no database stores it); not blank unless allowed."""
    if blank:
        return {"type": "string", "maxLength": limit, "pattern": "^[^\\x00]*$", "x-pattern": "no NUL character"}
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": "^[^\\x00]*[^\\s\\x00][^\\x00]*$",
            "x-pattern": "must not be blank (nor hold a NUL character)"}


def closed(properties: dict, *, required: tuple = (), **extra) -> dict:
    """An object of exactly these fields (others are refused, as the services refuse them)."""
    return {"type": "object", "properties": properties, "additionalProperties": False,
            **({"required": list(required)} if required else {}), **extra}

TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def ref(name: str) -> dict:
    """A $ref to a schema of this document."""
    return {"$ref": f"#/components/schemas/{name}"}


def list_of(name: str) -> dict:
    """A 200 answer carrying `{"data": [...]}` of one schema."""
    return json_body({"type": "object", "required": ["data"],
                      "properties": {"data": {"type": "array", "items": ref(name)}}}, "The list.")


def json_body(schema: dict, description: str) -> dict:
    """A JSON response or request body with this schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = json_body(ref("Error"), "An error, in the one envelope every error uses.")
ERRORS = {"401": ERROR, "404": ERROR}

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"],
                                 "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "Agent": {
        "type": ["object", "null"], "required": ["id", "name", "email", "role"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                       "email": {"type": "string"}, "role": {"enum": ["agent", "supervisor", "admin"]}},
    },
    "QueueCounts": {
        "type": "object", "required": ["open", "unassigned", "pending", "at_risk"],
        "properties": {**{k: {"type": "integer"} for k in ("open", "unassigned", "pending")},
                       "at_risk": {"type": "integer", "maximum": 100,
                                   "description": "open and due within the at-risk window; 100 means 100 or more"}},
    },
    "Queue": {
        "type": "object", "required": ["id", "slug", "name", "description", "counts"],
        "properties": {"id": {"type": "integer"}, "slug": {"type": "string"}, "name": {"type": "string"},
                       "description": {"type": "string"}, "counts": ref("QueueCounts"),
                       "signature": {"type": "string", "description": "appended to email replies from the queue"},
                       "at_risk_cap": {"type": "integer", "description": "at_risk at or above this shows as cap-1+"}},
    },
    "AuthorSummary": {
        "type": "object", "required": ["id", "handle", "name", "followers", "verified", "tags"],
        "properties": {"id": {"type": "integer"}, "handle": {"type": "string"}, "name": {"type": "string"},
                       "followers": {"type": "integer"}, "verified": {"type": "boolean"},
                       "tags": {"type": "array", "items": {"type": "string"}}, "person_tags": PERSON_TAGS},
    },
    "Author": {
        "type": "object",
        "required": ["id", "channel", "external_id", "handle", "name", "email", "followers", "verified",
                     "tags", "created_at"],
        "properties": {"id": {"type": "integer"}, "channel": {"type": "string"},
                       "external_id": {"type": "string"}, "handle": {"type": "string"},
                       "name": {"type": "string"}, "email": NULLABLE_STRING, "followers": {"type": "integer"},
                       "verified": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}},
                       "created_at": TIME, "trust_level": {"type": ["integer", "null"]},
                       "profile_url": NULLABLE_STRING, "avatar_url": NULLABLE_STRING,
                       "person_id": {"type": ["integer", "null"], "description": "their person, once linked"},
                       "person_tags": PERSON_TAGS},
    },
    "Conversation": {
        "type": "object",
        "required": ["id", "status", "queue", "channel", "priority", "priority_score", "subject", "tags",
                     "assignee", "author", "sla_due_at", "created_at", "updated_at", "last_message_at"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"enum": ["new", "open", "pending", "resolved", "escalated", "spam"]},
            "queue": NULLABLE_STRING, "channel": {"type": "string"},
            "channel_kind": {"type": "string", "description": "native, discourse, x, khoros or email"},
            "priority": {"enum": ["urgent", "high", "normal", "low"]},
            "priority_score": {"type": "number"}, "subject": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}}, "assignee": ref("Agent"),
            "author": ref("AuthorSummary"), "sla_due_at": NULLABLE_TIME, "created_at": TIME,
            "updated_at": TIME, "last_message_at": TIME,
            "sentiment": {"type": ["number", "null"], "description": "VADER compound in [-1, 1] of the newest routed "
                          "post; outside English from its emoticons and emoji only (words count as neutral)"},
            "language": {**NULLABLE_STRING, "description": "ISO 639-1 code of the newest routed post"},
            "snoozed_until": {**NULLABLE_TIME, "description": "pending until then (a macro's snooze)"},
            "priority_reasons": {"type": "array", "items": {"type": "object"}},
            "preview": {"type": "string", "description": "start of the latest post (lists only)"},
            "private": {"type": "boolean", "description": "a private thread on its platform (Discourse PM)"},
            "merged_into": {"type": ["integer", "null"], "description": "the conversation this duplicate was "
                            "merged into; its later posts follow there"},
            "sort_key": {"type": "string", "description": "sorted by code unit, gives the queue's work order"},
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "direction", "external_id", "author_id", "agent", "subject", "text", "url",
                     "in_reply_to", "created_at", "received_at"],
        "properties": {
            "id": {"type": "integer"}, "direction": {"enum": ["inbound", "outbound", "note"]},
            "external_id": NULLABLE_STRING, "author_id": {"type": ["integer", "null"]},
            "agent": ref("Agent"), "subject": {"type": "string"}, "text": {"type": "string"},
            "url": NULLABLE_STRING, "in_reply_to": NULLABLE_STRING, "created_at": TIME, "received_at": TIME,
            "delivery_status": {"enum": [None, "queued", "sending", "sent", "failed", "skipped"]},
            "delivery_error": NULLABLE_STRING,
            "language": {**NULLABLE_STRING, "description": "ISO 639-1 code detected when routed"},
            "email": ref("EmailDetails"),
            "hidden": {"type": "boolean", "description": "deleted where it was posted (its text is gone)"},
            "automatic": {"enum": [None, "acknowledgement"],
                          "description": "a reply a machine wrote: a channel's automatic first reply"},
            "edits": {"type": "array", "description": "versions an edit at the source replaced, oldest first",
                      "items": {"type": "object", "properties": {"text": {"type": "string"},
                                                                 "subject": {"type": "string"},
                                                                 "replaced_at": {"type": "string"}}}},
        },
    },
    "SearchResult": {
        "allOf": [ref("Conversation"), {
            "type": "object", "required": ["snippet", "highlights"],
            "properties": {"snippet": {"type": "string", "description": (
                "Escaped HTML: the matching post's text around the first match, matched words in <mark>.")},
                "highlights": {"type": "array", "description": (
                    "The same snippet as plain-text pieces in order, `mark` true on each matched word: set each as "
                    "text (never as HTML) to show it without parsing the post."),
                    "items": {"type": "object", "required": ["text", "mark"], "additionalProperties": False,
                              "properties": {"text": {"type": "string"}, "mark": {"type": "boolean"}}}}},
        }],
    },
    "ConversationDetail": {
        "allOf": [ref("Conversation"), {
            "type": "object", "required": ["messages", "explanation", "routed_at", "author"],
            "properties": {"messages": {"type": "array", "items": ref("Message"),
                                        "description": "the newest messages, oldest first"},
                           "earlier_messages": {"type": ["integer", "null"], "description":
                                                "`before` for GET .../messages: the earlier ones (null: none)"},
                           "explanation": {"type": ["object", "null"]}, "routed_at": NULLABLE_TIME,
                           "author": ref("Author"), "escalation": ref("Escalation"),
                           "satisfaction": ref("SatisfactionRating")},
        }],
    },
    "AuthorDetail": {
        "allOf": [ref("Author"), {
            "type": "object", "required": ["conversations", "notes"],
            "properties": {"conversations": {"type": "array", "items": ref("Conversation"),
                                             "description": "the latest, newest first"},
                           "more_conversations": {"type": ["string", "null"], "description":
                                                  "`cursor` for GET .../conversations: the rest (null: none)"},
                           "notes": {"type": "array", "items": ref("AuthorNote")},
                           "person": ref("Person"), "links": {"type": "array", "items": ref("PersonLink")}},
        }],
    },
    "PostAuthor": {
        "type": "object", "required": ["id", "handle"],
        "properties": {"id": {"type": ["string", "integer"]}, "handle": {"type": "string"},
                       "name": {"type": "string"}, "followers": {"type": "integer", "minimum": 0},
                       "email": {"type": "string"}, "verified": {"type": "boolean"},
                       "url": {"type": "string", "format": "uri", "description": "their profile or homepage"},
                       "avatar_url": {"type": "string", "format": "uri"}},
    },
    "Post": {
        "type": "object", "required": ["id", "author", "text"],
        "properties": {"id": {"type": ["string", "integer"]}, "author": ref("PostAuthor"),
                       "text": {"type": "string", "minLength": 1}, "subject": {"type": "string"},
                       "thread_id": {"type": ["string", "integer"]},
                       "in_reply_to": {"type": ["string", "integer"]},
                       "url": {"type": "string", "format": "uri"}, "created_at": TIME},
        "additionalProperties": True,
    },
    "PostOutcome": {
        "type": "object", "required": ["status", "id", "conversation_id", "message_id"],
        "properties": {"status": {"enum": ["stored", "duplicate"]}, "id": {"type": "string"},
                       "conversation_id": {"type": "integer"}, "message_id": {"type": "integer"}},
    },
    "BatchOutcome": {
        "type": "object", "required": ["stored", "duplicates", "results"],
        "properties": {"stored": {"type": "integer"}, "duplicates": {"type": "integer"},
                       "results": {"type": "array", "items": ref("PostOutcome")}},
    },
    "Health": {
        "type": "object", "required": ["status", "checks"],
        "properties": {"status": {"enum": ["ok", "unavailable"]},
                       "checks": {"type": "object", "additionalProperties": {"type": "string"}}},
    },
}

SCHEMAS["SuspendedMail"] = {
    "type": "object", "required": ["status", "id"],
    "properties": {"status": {"const": "suspended"}, "id": {"type": "string", "description": "its Message-ID"}},
}
SCHEMAS["IgnoredDelivery"] = {
    "type": "object", "required": ["status", "reason"],
    "properties": {"status": {"const": "ignored"}, "reason": {"type": "string"}},
}
WEBHOOK_OUTCOME = {"oneOf": [ref("PostOutcome"), ref("BatchOutcome"), ref("SuspendedMail")]}

PATHS = {
    "/api/v1/queues": {"get": {
        "operationId": "list_queues", "summary": "List every queue with its live counts.",
        "responses": {"200": json_body({"type": "object", "required": ["data"], "properties": {
            "data": {"type": "array", "items": ref("Queue")}}}, "The queues."), "401": ERROR},
    }},
    "/api/v1/queues/{slug}/conversations": {"get": {
        "operationId": "list_queue_conversations",
        "summary": "A queue's conversations in work order: priority, SLA due time, age.",
        "parameters": [
            {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "status", "in": "query", "schema": {"enum": list(STATUSES), "default": "open"}},
            PAGE_LIMIT,
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            {"name": "assignee", "in": "query", "allowEmptyValue": True, "description": "me, none, any or an id",
             "schema": {"anyOf": [{"enum": ["me", "none", "any"]}, {"type": "integer", "minimum": 0,
                                                                  "maximum": MAX_ID}]}},
            {"name": "tag", "in": "query", "allowEmptyValue": True, "schema": {"type": "string"}},
            {"name": "channel", "in": "query", "allowEmptyValue": True, "schema": {"type": "string"}},
        ],
        "responses": {"200": json_body({"type": "object", "required": ["data", "next_cursor"], "properties": {
            "data": {"type": "array", "items": ref("Conversation")}, "next_cursor": NULLABLE_STRING}},
            "One page."), "400": ERROR, **ERRORS},
    }},
    "/api/v1/search": {"get": {
        "operationId": "search_conversations",
        "summary": "Conversations matching `q` (your queues only), best match first, one page at a time.",
        "description": (
            "Full-text search over posts, subjects and customers' handles and names. `q` takes words (all must"
            " match; the last also matches as a word start, for results as you type), \"quoted phrases\", and"
            " filters: `from:@handle` (posts by that customer), `tag:refund`, `status:open`, `queue:billing`,"
            " `channel:forum`, `lang:es` (the language detected in its newest post),"
            " `before:2026-03-01` (posted before that day) and `after:2026-03-01` (on that day"
            " or later). A lone word also finds customers by handle or name; they rank first. Results are ranked"
            f" among the newest {SEARCH_WINDOW} matching posts: narrow a very common word with a filter. Each"
            " result carries"
            " `snippet`, escaped HTML with the matched words in `<mark>`. Filters alone list matching"
            " conversations, newest activity first."),
        "parameters": [
            {"name": "q", "in": "query", "required": True,
             "schema": {"type": "string", "minLength": 2, "maxLength": 500, "pattern": "\\S[\\s\\S]*\\S",
                        "description": "at least 2 characters besides spaces"}},
            PAGE_LIMIT,
            {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {"200": json_body({"type": "object", "required": ["data", "next_cursor"], "properties": {
            "data": {"type": "array", "items": ref("SearchResult")}, "next_cursor": NULLABLE_STRING}},
            "One page of matches."), "400": ERROR, "401": ERROR},
    }},
    "/api/v1/conversations/{conversation_id}": {"get": {
        "operationId": "get_conversation",
        "summary": "A conversation with its messages, author and routing explanation.",
        "parameters": [{"name": "conversation_id", "in": "path", "required": True,
                        "schema": ID}],
        "responses": {"200": json_body(ref("ConversationDetail"), "The conversation."), **ERRORS},
    }},
    "/api/v1/authors/{author_id}": {"get": {
        "operationId": "get_author", "summary": "A customer with their latest conversations.",
        "parameters": [{"name": "author_id", "in": "path", "required": True, "schema": ID}],
        "responses": {"200": json_body(ref("AuthorDetail"), "The customer."), **ERRORS},
    }},
    "/api/v1/openapi.json": {"get": {
        "operationId": "openapi_document", "summary": "This document.", "security": [],
        "responses": {"200": {"description": "The OpenAPI document."}},
    }},
    "/webhooks/{slug}": {"get": {
        "operationId": "answer_challenge",
        "summary": "X's CRC check: the crc_token signed with the consumer secret (X channels only).",
        "security": [],
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                       {"name": "crc_token", "in": "query", "required": True, "schema": {"type": "string"}}],
        "responses": {
            "200": json_body({"type": "object", "required": ["response_token"], "properties": {
                "response_token": {"type": "string", "description": "sha256=<base64 HMAC-SHA256>"}}}, "The answer."),
            "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "405": ERROR,
        },
    }, "post": {
        "operationId": "receive_webhook",
        "summary": ("Deliver one post, or an array of up to 500, signed with the channel's secret; Discourse, "
                    "X and Khoros channels take their platform's own payloads and signatures; email channels one "
                    "raw message (message/rfc822, up to EMAIL_MAX_BYTES), its Message-ID its id."),
        "security": [{"signature": []}],
        "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "oneOf": [ref("Post"), {"type": "array", "items": ref("Post"), "minItems": 1, "maxItems": 500}]}},
            "message/rfc822": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {
            "202": json_body(WEBHOOK_OUTCOME, "Stored (committed) and queued for routing."),
            "200": json_body({"oneOf": [ref("PostOutcome"), ref("BatchOutcome"), ref("IgnoredDelivery")]},
                             "Every post was already stored, or the event carries no post: nothing changed."),
            "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "413": ERROR, "415": ERROR,
            "429": {**ERROR, "description": (
                "Over the channel's rate_limit (signed deliveries a second), or too many badly signed deliveries "
                "from this address; Retry-After says how many seconds to wait."),
                "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}},
        },
    }},
    "/healthz": {"get": {
        "operationId": "healthz", "summary": "Database and Redis reachability.", "security": [],
        "responses": {"200": json_body(ref("Health"), "All reachable."),
                      "503": json_body(ref("Health"), "Something is unreachable; checks name it.")},
    }},
    "/ping": {"get": {"operationId": "ping", "summary": "Liveness: answers at once.", "security": [],
                      "responses": {"200": {"description": "pong"}}}},
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {"title": "Switchboard API", "version": "1.0.0",
             "description": "Support-queue triage: webhooks in, routed conversations out."},
    "servers": [{"url": "/"}],
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "An API token from `flask token create`."},
            "signature": {"type": "apiKey", "in": "header", "name": "X-Switchboard-Signature",
                          "description": "sha256=<hex HMAC-SHA256 of the raw body with the channel secret>"},
        },
    },
}


@bp.get("/openapi.json")
def openapi_document():
    """Serve the OpenAPI document."""
    return jsonify(DOCUMENT)


# Requests are checked against this document once authenticated and authorised (see web.auth).
bp.record_once(lambda state: state.app.extensions.setdefault("documented_requests", DocumentedRequests(DOCUMENT)))
