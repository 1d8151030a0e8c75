"""Help articles: create, change, delete (admins), find by id or slug, and search (agents see published ones)."""

import re

import sqlalchemy as sa

from workspace.errors import NotFound, ValidationError
from workspace.extensions import db
from workspace.models import ARTICLE_STATUSES, Agent, Article, Queue, has_role, utcnow
from workspace.serializers import timestamp
from workspace.services import audit
from workspace.services.knowledge.markdown import excerpt, render_markdown

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 100_000
MAX_TAGS = 20
MAX_TAG_CHARS = 40
MAX_URL_CHARS = 2048
MAX_LOCALE_CHARS = 16
# Blank as the API document's patterns mean it (JavaScript's \s, which Python's str.strip() exceeds).
_BLANK = re.compile("^[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*$")
FIELDS = ("slug", "title", "body", "tags", "queue", "locale", "status", "external_url")
SEARCH_LIMIT = 20
MAX_QUERY_WORDS = 8


def slugify(title: str) -> str:
    """A slug from a title: lower-case words joined by hyphens (at most 120 characters)."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:120].strip("-") or "article"


def _text(data: dict, field: str, limit: int, *, blank: bool = False) -> str:
    value = data[field]
    if not isinstance(value, str) or "\x00" in value or len(value) > limit or (not blank and _BLANK.match(value)):
        raise ValidationError(f"{field}: text of at most {limit} characters{'' if blank else ', not blank'}",
                              code="invalid_field")
    return value if blank else (value.strip() or value)


def _clean(data, article: Article) -> None:
    """Check each given field and set it on the article (nothing is set if one is wrong: the caller rolls back)."""
    if not isinstance(data, dict) or set(data) - set(FIELDS):
        raise ValidationError(f"the body must be an object of {', '.join(FIELDS)}", code="invalid_field")
    if "slug" in data:
        if not isinstance(data["slug"], str) or not SLUG.match(data["slug"]):
            raise ValidationError("slug: lower-case letters, digits and hyphens", code="invalid_field")
        taken = db.session.scalar(sa.select(Article.id).where(Article.slug == data["slug"]))
        if taken is not None and taken != article.id:
            raise ValidationError(f"slug: {data['slug']!r} is taken", code="duplicate_slug")
        article.slug = data["slug"]
    if "title" in data:
        article.title = _text(data, "title", MAX_TITLE_CHARS)
    if "body" in data:
        article.body = _text(data, "body", MAX_BODY_CHARS, blank=True)
    if "tags" in data:
        tags = data["tags"]
        if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(
                isinstance(t, str) and len(t) <= MAX_TAG_CHARS and "\x00" not in t for t in tags):
            raise ValidationError(f"tags: at most {MAX_TAGS} words of at most {MAX_TAG_CHARS} characters",
                                  code="invalid_field")
        article.tags = sorted({t.strip().lower() for t in tags if t.strip()})  # blank ones are dropped
    if "queue" in data:
        article.queue_id = None
        if data["queue"] is not None:
            queue = db.session.scalar(sa.select(Queue).where(Queue.slug == data["queue"])) \
                if isinstance(data["queue"], str) else None
            if queue is None:
                raise NotFound(f"queue: no queue {data['queue']!r}")
            article.queue_id = queue.id
    if "locale" in data:
        article.locale = _text(data, "locale", MAX_LOCALE_CHARS)
    if "status" in data:
        if data["status"] not in ARTICLE_STATUSES:
            raise ValidationError("status: draft or published", code="invalid_field")
        article.status = data["status"]
    if "external_url" in data:
        url = data["external_url"]
        if url is not None and (not isinstance(url, str) or len(url) > MAX_URL_CHARS
                                or not re.match(r"^https?://[^\s/]+\S*$", url)):
            raise ValidationError("external_url: an http(s) URL", code="invalid_field")
        article.external_url = url


def snapshot(article: Article) -> dict:
    """What the audit log keeps of an article."""
    return {"slug": article.slug, "title": article.title, "status": article.status, "tags": article.tags,
            "queue_id": article.queue_id, "locale": article.locale, "external_url": article.external_url}


def create_article(data, agent: Agent | None, *, source: str = "admin") -> Article:
    """Add an article (a slug is made from the title when none is given)."""
    if not isinstance(data, dict) or "title" not in data:
        raise ValidationError("title: is required", code="invalid_field")
    article = Article(source=source, created_by_id=agent.id if agent else None, tags=[], body="", locale="en",
                      status="draft", created_at=utcnow(), updated_at=utcnow())
    _clean({"slug": slugify(str(data["title"])), **data} if "slug" not in data else data, article)
    db.session.add(article)
    db.session.flush()
    audit.record(agent, "article.create", "article", article.id, after=snapshot(article))
    db.session.commit()
    return article


def update_article(article: Article, data, agent: Agent) -> Article:
    """Change an article's fields."""
    before = snapshot(article)
    _clean(data, article)
    article.updated_at = utcnow()
    audit.record(agent, "article.update", "article", article.id, before=before, after=snapshot(article))
    db.session.commit()
    return article


def delete_article(article: Article, agent: Agent) -> None:
    """Remove an article (suggestions of it go with it)."""
    audit.record(agent, "article.delete", "article", article.id, before=snapshot(article))
    db.session.delete(article)
    db.session.commit()


def get_article(article_id: int, agent: Agent) -> Article:
    """An article by id; drafts are for admins only (to the others they do not exist)."""
    article = db.session.get(Article, article_id)
    if article is None or (article.status != "published" and not has_role(agent, "admin")):
        raise NotFound("no such article")
    return article


def published_by_slug(slugs: set[str]) -> dict[str, Article]:
    """The published articles of these slugs (what macros may reference)."""
    if not slugs:
        return {}
    return {a.slug: a for a in db.session.scalars(sa.select(Article).where(
        Article.slug.in_(sorted(slugs)), Article.status == "published"))}


def template_fields(slugs: set[str]) -> dict[str, dict]:
    """What `article(slug)` gives a macro template, for the published articles of these slugs."""
    return {slug: {"slug": slug, "title": a.title, "url": a.external_url, "excerpt": excerpt(a.body)}
            for slug, a in published_by_slug(slugs).items()}


def search_articles(query: str, agent: Agent, *, limit: int = SEARCH_LIMIT) -> list[Article]:
    """Articles whose title, body or tags hold every word of the query, title matches first, newest next;
    published ones only, unless the agent is an admin. An empty query lists the newest."""
    words = re.findall(r"\w+", query.lower())[:MAX_QUERY_WORDS]
    statement = sa.select(Article)
    if not has_role(agent, "admin"):
        statement = statement.where(Article.status == "published")
    patterns = [f"%{word.replace('_', '!_')}%" for word in words]  # _ matches any character in LIKE
    for pattern in patterns:
        statement = statement.where(sa.or_(sa.func.lower(Article.title).like(pattern, escape="!"),
                                           sa.func.lower(Article.body).like(pattern, escape="!"),
                                           sa.func.lower(sa.cast(Article.tags, sa.Text)).like(pattern, escape="!")))
    title_hits = sum((sa.case((sa.func.lower(Article.title).like(p, escape="!"), 1), else_=0) for p in patterns),
                     sa.literal(0))
    statement = statement.order_by(title_hits.desc(), Article.updated_at.desc(), Article.id.desc()).limit(limit)
    return list(db.session.scalars(statement))


def serialize_article(article: Article, *, body: bool = True) -> dict:
    """An article with its safe HTML and a plain excerpt (for a reply); the Markdown source too when `body`."""
    data = {"id": article.id, "slug": article.slug, "title": article.title, "tags": article.tags,
            "queue": article.queue.slug if article.queue else None, "locale": article.locale,
            "status": article.status, "external_url": article.external_url, "source": article.source,
            "excerpt": excerpt(article.body), "updated_at": timestamp(article.updated_at)}
    if body:
        data.update(body=article.body, body_html=render_markdown(article.body))
    return data
