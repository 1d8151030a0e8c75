"""Bringing articles in: a folder of Markdown files, or a Discourse category export; again is harmless.

Each article is matched by its slug: importing the same source twice updates
what changed and adds nothing.
"""

import json
import re
from pathlib import Path

import sqlalchemy as sa

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent, Article
from workspace.services.knowledge.articles import FIELDS, create_article, slugify, update_article

FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
MAX_FILE_BYTES = 1024 * 1024


def _front_matter(text: str) -> tuple[dict, str]:
    """`key: value` lines between --- lines at the top (tags as `a, b` or `[a, b]`), and the rest."""
    found = FRONT_MATTER.match(text)
    if not found:
        return {}, text
    fields = {}
    for line in found.group(1).splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip().strip('"').strip("'")
        if key == "tags":
            fields["tags"] = [t.strip().strip('"\'') for t in value.strip("[]").split(",") if t.strip()]
        elif key in ("slug", "title", "queue", "locale", "status"):
            fields[key] = value
        elif key in ("url", "external_url"):
            fields["external_url"] = value or None
    return fields, text[found.end():]


def _upsert(fields: dict, agent: Agent | None, source: str) -> str:
    """Create or update one article by its slug; returns created or updated."""
    fields = {key: value for key, value in fields.items() if key in FIELDS}
    fields.setdefault("slug", slugify(fields.get("title", "")))
    existing = db.session.scalar(sa.select(Article).where(Article.slug == fields["slug"]))
    if existing is None:
        create_article(fields, agent, source=source)
        return "created"
    update_article(existing, fields, agent)
    return "updated"


def import_folder(folder: str | Path, agent: Agent | None = None, *, status: str = "published") -> dict:
    """Import every *.md file of a folder (subfolders too): front matter for the fields, the first `# heading`
    or the file name for a title, the file name for a slug.

    Returns:
        {"created": n, "updated": n}.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError(f"{folder}: no such folder")
    counts = {"created": 0, "updated": 0}
    for path in sorted(folder.rglob("*.md")):
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValidationError(f"{path.name}: larger than {MAX_FILE_BYTES} bytes")
        fields, body = _front_matter(path.read_text(encoding="utf-8-sig"))
        heading = re.match(r"\A\s*#\s+(.+)\n?", body)
        if "title" not in fields:
            fields["title"] = heading.group(1).strip() if heading else path.stem.replace("-", " ").capitalize()
        if heading:
            body = body[heading.end():]
        fields = {"slug": slugify(path.stem), "status": status, **fields, "body": body.strip()}
        try:
            counts[_upsert(fields, agent, "folder")] += 1
        except ValidationError as error:
            db.session.rollback()
            raise ValidationError(f"{path.name}: {error.message}") from None
    return counts


def import_discourse(data, agent: Agent | None = None, *, base_url: str | None = None,
                     status: str = "published") -> dict:
    """Import a Discourse category export (`{"topics": [{"title", "slug", "id", "tags", "posts": [...]}]}`, as
    `rake export:category` writes it): each topic's first post becomes an article, linked to the topic under
    base_url when given.

    Returns:
        {"created": n, "updated": n}.
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as error:
            raise ValidationError(f"not JSON: {error}") from None
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, list):
        raise ValidationError("a Discourse category export has a list of topics")
    counts = {"created": 0, "updated": 0}
    for number, topic in enumerate(topics, 1):
        posts = topic.get("posts") if isinstance(topic, dict) else None
        first = next((p for p in posts or [] if isinstance(p, dict) and p.get("post_number", 1) == 1), None)
        if not isinstance(topic.get("title"), str) or first is None or not isinstance(first.get("raw"), str):
            raise ValidationError(f"topic {number}: needs a title and a first post with its raw text")
        slug = topic.get("slug") if isinstance(topic.get("slug"), str) else slugify(topic["title"])
        fields = {"title": topic["title"][:200], "slug": slugify(slug), "body": first["raw"], "status": status,
                  "tags": [t for t in topic.get("tags") or [] if isinstance(t, str)]}
        if base_url and isinstance(topic.get("id"), int):
            fields["external_url"] = f"{base_url.rstrip('/')}/t/{fields['slug']}/{topic['id']}"
        try:
            counts[_upsert(fields, agent, "discourse")] += 1
        except ValidationError as error:
            db.session.rollback()
            raise ValidationError(f"topic {number}: {error.message}") from None
    return counts
