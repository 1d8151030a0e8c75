"""People: one customer across channels, the links that join their authors, and their custom fields."""

import sqlalchemy as sa
from flask import g, jsonify

from workspace.errors import NotFound
from workspace.extensions import db
from workspace.models import Author, Channel, PersonLink
from workspace.serializers import serialize_person, serialize_person_link
from workspace.services import customers
from workspace.services.people import links, profiles
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref, text
from workspace.web.auth import agent_required, role_required
from workspace.web.validation import json_object

_FIELD_VALUE = {"type": ["string", "number", "boolean", "null"], "maxLength": profiles.MAX_FIELD_CHARS}
_FIELDS = {"type": "object", "maxProperties": profiles.MAX_FIELDS,
           "propertyNames": {"pattern": profiles.FIELD_NAME.pattern}, "additionalProperties": _FIELD_VALUE}


def person_view(author: Author) -> dict | None:
    """The author's person as the agent may see it (only authors they may see), or None when it has none."""
    if author.person is None:
        return None
    members = author.person.authors
    visible = customers.can_see_any(g.agent, [a.id for a in members])
    facts = profiles.facts_for([author])[author.id]
    return serialize_person(author.person, [a for a in members if a.id in visible], facts)


def links_view(author: Author) -> list[dict]:
    """The proposed and confirmed links of the author's person, between authors the agent may see."""
    found = links.links_of(profiles.author_ids_of(author))
    visible = customers.can_see_any(g.agent, sorted({i for link in found
                                                     for i in (link.author_id, link.other_author_id)}))
    return [serialize_person_link(link) for link in found
            if link.author_id in visible and link.other_author_id in visible]


def _visible_link(link_id: int) -> PersonLink:
    """A link between two authors the agent may both see; any other does not exist for them."""
    link = links.get_link(link_id)
    if len(customers.can_see_any(g.agent, [link.author_id, link.other_author_id])) != 2:
        raise NotFound(f"no link {link_id}")
    return link


@bp.patch("/authors/<int:author_id>/fields")
@agent_required
def update_person_fields(author_id: int):
    """Set custom fields on the customer's person (made for them if need be): `{"fields": {"plan": "pro"}}`;
    null removes a field."""
    author = customers.visible_author(author_id, g.agent)
    profiles.set_fields(author, json_object()["fields"], g.agent)
    return jsonify(person_view(db.session.get(Author, author_id)))


@bp.post("/authors/<int:author_id>/links")
@agent_required
def link_authors(author_id: int):
    """Link the customer to another author you know is them (`confirm: true` joins them at once)."""
    body = json_object()
    author = customers.visible_author(author_id, g.agent)
    other = customers.visible_author(body["other_author_id"], g.agent)
    return jsonify(serialize_person_link(links.link_authors(author, other, g.agent,
                                                            confirm=body.get("confirm", False)))), 201


@bp.post("/person-links/<int:link_id>/confirm")
@agent_required
def confirm_person_link(link_id: int):
    """Confirm a proposed link: the two authors become one person (undoable)."""
    return jsonify(serialize_person_link(links.confirm_link(_visible_link(link_id), g.agent)))


@bp.post("/person-links/<int:link_id>/dismiss")
@agent_required
def dismiss_person_link(link_id: int):
    """Dismiss a proposed link: these authors are not one person (it is not proposed again)."""
    return jsonify(serialize_person_link(links.dismiss_link(_visible_link(link_id), g.agent)))


@bp.post("/person-links/<int:link_id>/undo")
@agent_required
def undo_person_link(link_id: int):
    """Undo a confirmed link: the authors it joined are apart again, as they were."""
    return jsonify(serialize_person_link(links.undo_link(_visible_link(link_id), g.agent)))


@bp.post("/people/import")
@role_required("supervisor")
def import_people():
    """Set custom fields on many customers at once (a CRM export), all or nothing."""
    channels = dict(db.session.execute(sa.select(Channel.slug, Channel.id)).all())
    return jsonify(profiles.import_fields(json_object()["people"], g.agent, channels))


SCHEMAS["Person"] = {
    "type": ["object", "null"], "required": ["id", "name", "fields", "tags", "followers", "verified", "authors"],
    "description": "one customer across channels: tags are the union of their authors', followers the highest",
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "fields": {"type": "object"},
                   "tags": {"type": "array", "items": {"type": "string"}}, "followers": {"type": "integer"},
                   "verified": {"type": "boolean"}, "authors": {"type": "array", "items": ref("Author")},
                   "created_at": {"type": "string"}},
}
SCHEMAS["PersonLink"] = {
    "type": "object", "required": ["id", "status", "evidence", "authors", "decided_by", "created_at", "decided_at"],
    "properties": {
        "id": {"type": "integer"}, "status": {"enum": ["proposed", "confirmed", "dismissed", "undone"]},
        "evidence": {"type": "array", "items": {"type": "object", "required": ["kind", "detail"], "properties": {
            "kind": {"enum": ["email", "profile_url", "name_handle", "agent"]}, "detail": {"type": "string"}}}},
        "authors": {"type": "array", "items": ref("Author"), "minItems": 2, "maxItems": 2},
        "decided_by": ref("Agent"), "created_at": {"type": "string"}, "decided_at": {"type": ["string", "null"]}},
}
_AUTHOR = [{"name": "author_id", "in": "path", "required": True, "schema": ID}]
_LINK = [{"name": "link_id", "in": "path", "required": True, "schema": ID}]
_LINK_ANSWERS = {"200": json_body(ref("PersonLink"), "The link."), "401": ERROR, "404": ERROR, "409": ERROR}
PATHS["/api/v1/authors/{author_id}/fields"] = {"patch": {
    "operationId": "update_person_fields", "summary": "Set custom fields on the customer's person.",
    "parameters": _AUTHOR,
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"fields": _FIELDS}, required=("fields",))}}},
    "responses": {"200": json_body(ref("Person"), "The person."), "400": ERROR, "401": ERROR, "404": ERROR}}}
PATHS["/api/v1/authors/{author_id}/links"] = {"post": {
    "operationId": "link_authors", "summary": "Link the customer to another author (an agent's evidence).",
    "parameters": _AUTHOR,
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"other_author_id": ID, "confirm": {"type": "boolean"}}, required=("other_author_id",))}}},
    "responses": {"201": json_body(ref("PersonLink"), "The link."), "400": ERROR, "401": ERROR, "404": ERROR,
                  "409": ERROR}}}
for _verb, _summary in (("confirm", "Confirm a proposed link: one person (undoable)."),
                        ("dismiss", "Dismiss a proposed link."), ("undo", "Undo a confirmed link.")):
    PATHS[f"/api/v1/person-links/{{link_id}}/{_verb}"] = {"post": {
        "operationId": f"{_verb}_person_link", "summary": _summary, "parameters": _LINK,
        "responses": _LINK_ANSWERS}}
_IMPORT_ROW = {"type": "object", "required": ["fields"], "additionalProperties": False,
               "oneOf": [{"required": [key]} for key in profiles.MATCH_KEYS],
               "properties": {"channel": {"type": "string", "maxLength": 64}, "external_id": text(255),
                              "handle": text(255), "email": text(254), "fields": _FIELDS}}
PATHS["/api/v1/people/import"] = {"post": {
    "operationId": "import_people", "summary": "Set custom fields on many customers (by channel and external id "
                                               "or handle, or by email), all or nothing.",
    "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
        {"people": {"type": "array", "minItems": 1, "maxItems": profiles.MAX_IMPORT_ROWS, "items": _IMPORT_ROW}},
        required=("people",))}}},
    "responses": {"200": json_body({"type": "object", "required": ["matched", "unmatched"], "properties": {
        "matched": {"type": "integer"}, "unmatched": {"type": "array", "items": {"type": "integer"}}}},
        "How many customers changed; the rows that named nobody."),
        "400": ERROR, "401": ERROR, "403": ERROR}}}
