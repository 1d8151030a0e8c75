"""Help articles over the API: search and read (agents; drafts for admins), create, change, delete (admins)."""

from flask import g, jsonify, request

from workspace.models import ARTICLE_STATUSES
from workspace.services.knowledge import articles as service
from workspace.web.api import bp
from workspace.web.api.openapi import ERROR, ID, PATHS, SCHEMAS, closed, json_body, ref, text
from workspace.web.auth import agent_required, role_required


@bp.get("/articles")
@agent_required
def search_articles():
    """Articles holding every word of `q` (title matches first; the newest when `q` is empty), with excerpts."""
    found = service.search_articles(request.args.get("q", ""), g.agent)
    return jsonify(data=[service.serialize_article(a, body=False) for a in found])


@bp.post("/articles")
@role_required("admin")
def create_article():
    """Add an article (a draft unless `status` is published)."""
    return jsonify(service.serialize_article(service.create_article(request.get_json(), g.agent))), 201


@bp.get("/articles/<int:article_id>")
@agent_required
def get_article(article_id: int):
    """One article: its Markdown and its safe HTML."""
    return jsonify(service.serialize_article(service.get_article(article_id, g.agent)))


@bp.patch("/articles/<int:article_id>")
@role_required("admin")
def update_article(article_id: int):
    """Change an article."""
    article = service.get_article(article_id, g.agent)
    return jsonify(service.serialize_article(service.update_article(article, request.get_json(), g.agent)))


@bp.delete("/articles/<int:article_id>")
@role_required("admin")
def delete_article(article_id: int):
    """Remove an article."""
    service.delete_article(service.get_article(article_id, g.agent), g.agent)
    return "", 204


SCHEMAS["Article"] = {
    "type": "object", "required": ["id", "slug", "title", "tags", "status", "excerpt"],
    "properties": {
        "id": {"type": "integer"}, "slug": {"type": "string"}, "title": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}, "queue": {"type": ["string", "null"]},
        "locale": {"type": "string"}, "status": {"enum": list(ARTICLE_STATUSES)},
        "external_url": {"type": ["string", "null"]}, "source": {"enum": ["admin", "folder", "discourse"]},
        "excerpt": {"type": "string", "description": "the opening as plain text, for a reply"},
        "updated_at": {"type": ["string", "null"]},
        "body": {"type": "string", "description": "Markdown (single article only)"},
        "body_html": {"type": "string", "description": "the body rendered and sanitized: formatting and http(s) "
                                                       "links only, no images, scripts or raw HTML"}}}
_FIELDS = {
    "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,119}$"},
    "title": text(service.MAX_TITLE_CHARS), "body": text(service.MAX_BODY_CHARS, blank=True),
    "tags": {"type": "array", "maxItems": service.MAX_TAGS, "items": {
        **text(service.MAX_TAG_CHARS)}},
    "queue": {"type": ["string", "null"], "description": "a queue slug (404 if none), or null for every queue"},
    "locale": text(service.MAX_LOCALE_CHARS), "status": {"enum": list(ARTICLE_STATUSES)},
    "external_url": {"type": ["string", "null"], "maxLength": service.MAX_URL_CHARS,
                     "pattern": "^https?://[^\\s/]+\\S*$"}}
_ID = [{"name": "article_id", "in": "path", "required": True, "schema": ID}]
_ONE = json_body(ref("Article"), "The article.")
_FAIL = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}
PATHS["/api/v1/articles"] = {
    "get": {"operationId": "search_articles", "summary": "Search help articles (published ones; admins see drafts).",
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 500}}],
            "responses": {"200": json_body({"type": "object", "required": ["data"], "properties": {
                "data": {"type": "array", "items": ref("Article")}}}, "Up to 20 articles."), **_FAIL}},
    "post": {"operationId": "create_article", "summary": "Add a help article (admins).",
             "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
                 _FIELDS, required=("title",))}}},
             "responses": {"201": _ONE, **_FAIL}}}
PATHS["/api/v1/articles/{article_id}"] = {
    "get": {"operationId": "get_article", "summary": "One help article with its safe HTML.", "parameters": _ID,
            "responses": {"200": _ONE, **_FAIL}},
    "patch": {"operationId": "update_article", "summary": "Change a help article (admins).", "parameters": _ID,
              "requestBody": {"required": True, "content": {"application/json": {"schema": closed(
                  _FIELDS, minProperties=1)}}},
              "responses": {"200": _ONE, **_FAIL}},
    "delete": {"operationId": "delete_article", "summary": "Remove a help article (admins).", "parameters": _ID,
               "responses": {"204": {"description": "Removed."}, **_FAIL}}}
