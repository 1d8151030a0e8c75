"""Full-text search over conversations: ranked, filtered, highlighted and paged, on the index the database keeps.

How a search runs, on either database:
1. The query is parsed (search_query.py) into tokens and filters; nothing typed
   reaches FTS5 or tsquery syntax except tokens of letters and digits.
2. The text index gives the newest WINDOW matching messages, already joined
   to their conversations so visibility and filters apply before the cap. FTS5
   walks its doclist by rowid, newest first, and stops there. On PostgreSQL the
   newest matches come from a LIMIT subquery read lazily (backwards along the
   primary key for a common word, a GIN bitmap for a rare one) and joined to
   conversations by primary key: 2,000 first, then further back (SCANS) only
   when fewer than WINDOW of them pass the filters, so a selective filter over
   a common word costs more but never misses an older match.
   A lone word is also looked up as a customer's handle or name.
3. In Python: each message is scored (BM25's term-frequency and length
   weighting, a subject match counting double), the best per conversation is
   kept, ordered by score (then newest conversation first), the cursor
   applied, one page taken; snippets are cut from the matching posts
   (snippets.py) and escaped before the matched words are marked.

Why score in Python rather than with FTS5's bm25() or PostgreSQL's ts_rank():
bm25() reads the whole doclist of every term once per query for its IDF (at
1M messages, 50 ms for a word in 40% of them), and ts_rank() re-parses each
post; scoring the window here costs the same for a common word as a rare one,
and ranks identically on both databases. Every message in the window matches
every word (AND), so IDF would not change their order much; ranking within
the newest WINDOW matches means relevance orders recent history, and a query
matching more than that is one to narrow with a filter.
"""

import base64
import json
import re
from dataclasses import dataclass

import sqlalchemy as sa

from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent, Author, Channel, Conversation, Message, Queue
from workspace.models.search_index import AUTHORS_FTS, MESSAGES_FTS, VECTOR_COLUMN
from workspace.serializers import SERIALIZED
from workspace.services.conversations.queues import previews, visible_queue_ids
from workspace.services.conversations.search_query import TOKEN, SearchQuery, parse
from workspace.services.conversations.snippets import as_html, snippet_parts, term_pattern

# Matching messages ranked per search (the newest that pass the filters); bounds every search's cost.
# Each is loaded and scored, so it is a few pages' worth, not more.
WINDOW = 200
# Matching messages PostgreSQL reads, newest first, looking for WINDOW that pass the filters: a few
# thousand first; only a selective filter over a common word reads further (then every match).
SCANS = (2_000, 20_000, None)
# BM25's term-frequency saturation and length normalisation (the usual values).
K1, B = 1.2, 0.75
# Customers a lone word may name (handles and names are short; more than this is not a person search).
PEOPLE = 50
# A customer found by handle or name ranks above any text match (ranks: lower is better).
PERSON_RANK = -1.0e9
# The PostgreSQL vector of a message: a stored generated column, outside the metadata (models/search_index.py).
VECTOR = sa.literal_column(f"messages.{VECTOR_COLUMN}")
SIMPLE = sa.literal_column("'simple'::regconfig")
FTS_TABLE = sa.table(MESSAGES_FTS, sa.column("rowid", sa.Integer))
FTS_MATCH = sa.literal_column(MESSAGES_FTS).op("MATCH")


@dataclass
class Found:
    """One conversation in a search's results, with the snippet that shows why."""

    conversation: Conversation
    # The matching post around its first match: (text, matched) pieces, plain text (see snippet_parts).
    parts: list[tuple[str, bool]]
    rank: float
    # The start of the conversation's latest inbound post, as list rows show it (queues.previews).
    preview: str

    @property
    def snippet(self) -> str:
        """The pieces as safe HTML, each matched word in <mark>."""
        return as_html(self.parts)


@dataclass
class _Hit:
    conversation_id: int
    # The matching message's (subject, text), kept for its snippet; None when the hit is the conversation.
    post: tuple[str, str] | None
    rank: float


def search(agent: Agent, text: str, *, limit: int = 50, cursor: str | None = None) -> tuple[list[Found], str | None]:
    """Find the conversations an agent may see that match a query, best first, one page at a time.

    Args:
        agent: who is searching; only conversations in queues they may see are returned.
        text: what they typed (untrusted): words, "phrases", from:@handle, tag:, status:,
            queue:, channel:, lang: (ISO 639-1), before:/after: dates.
        limit: page size.
        cursor: the opaque cursor a previous page returned, or None.

    Returns:
        (found, next_cursor or None)

    Raises:
        ValidationError: the query or the cursor is malformed.
    """
    query = parse(text)
    after_key = _decode_cursor(cursor) if cursor else None
    ordered = _ranked(agent, query)
    if after_key is not None:
        ordered = [hit for hit in ordered if _key(hit) > after_key]
    page = ordered[:limit]
    next_cursor = _encode_cursor(page[-1]) if len(ordered) > limit else None
    return _load(page, query), next_cursor


def matching_ids(agent: Agent, text: str, limit: int) -> list[int]:
    """The ids of the first `limit` conversations `search` would list, best first, none of them loaded.

    Raises:
        ValidationError: the query is malformed.
    """
    return [hit.conversation_id for hit in _ranked(agent, parse(text))[:limit]]


def _ranked(agent: Agent, query: SearchQuery) -> list[_Hit]:
    """Every matching conversation the agent may see (its best hit), in the results' order."""
    if not (query.has_text or query.has_filter or query.person):
        return []
    conditions = _conversation_conditions(agent, query)
    if conditions is None:
        return []
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        # Starting parallel workers costs ~5 ms, more than any of these bounded queries
        # takes; LOCAL lasts until the request's transaction ends.
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    hits = []
    if query.has_text:
        hits += _message_hits(dialect, query, conditions)
    if query.person:
        hits += _person_hits(dialect, query, conditions)
    if not query.has_text and not query.person:
        hits += _recent_hits(query, conditions)
    best: dict[int, _Hit] = {}
    for hit in hits:
        if hit.conversation_id not in best or hit.rank < best[hit.conversation_id].rank:
            best[hit.conversation_id] = hit
    return sorted(best.values(), key=_key)


def _conversation_conditions(agent: Agent, query: SearchQuery) -> list | None:
    """Visibility and the conversation-level filters; None when they already rule everything out."""
    queue_ids = visible_queue_ids(agent)
    if query.queue:
        queue_ids = list(db.session.scalars(sa.select(Queue.id).where(Queue.slug == query.queue,
                                                                      Queue.id.in_(queue_ids))))
    if not queue_ids:
        return None
    # "+ 0" keeps the planner off the queue-order index: without statistics SQLite would
    # scan a whole queue by it rather than start from the text index or a customer's conversations.
    conditions = [(Conversation.queue_id + 0).in_(queue_ids)]
    if query.status:
        conditions.append(Conversation.status == query.status)
    if query.tag:
        # Tags are a JSON list of strings; its text holds "tag" with the quotes (as the queue filter reads it).
        conditions.append(sa.cast(Conversation.tags, sa.Text).contains(json.dumps(query.tag)))
    if query.language:
        conditions.append(Conversation.language == query.language)
    if query.channel:
        channel_id = db.session.scalar(sa.select(Channel.id).where(Channel.slug == query.channel))
        if channel_id is None:
            return None
        conditions.append(Conversation.channel_id == channel_id)
    return conditions


def _author_ids(handle: str) -> list[int]:
    """The customers with this handle, whatever its case, on any channel (from the handle index)."""
    column = Author.handle.collate("NOCASE") if db.engine.dialect.name == "sqlite" else sa.func.lower(Author.handle)
    return list(db.session.scalars(sa.select(Author.id).where(column == handle).limit(PEOPLE)))


def _message_hits(dialect: str, query: SearchQuery, conditions: list) -> list[_Hit]:
    """The newest WINDOW messages matching the words and phrases, with their relevance."""
    where = [*conditions]
    if query.author_handle:
        where.append(Message.author_id.in_(_author_ids(query.author_handle)))
    if query.after:
        where.append(Message.created_at >= query.after)
    if query.before:
        where.append(Message.created_at < query.before)
    rows = _newest_matches(dialect, query, where, prefix=False)
    if query.prefix_last and len(rows) < WINDOW:
        # The last word may still be being typed. Matching it as a prefix makes the index merge
        # every term it begins (costly for "paym", cheap for a whole common word, which fills
        # the window as a word and so is never asked as a prefix).
        rows = _newest_matches(dialect, query, where, prefix=True)
    posts = [(subject, text) for _, _, subject, text in rows]
    return [_Hit(conversation_id, post, -points)
            for (_, conversation_id, _, _), post, points in zip(rows, posts, score(query, posts), strict=True)]


def _newest_matches(dialect: str, query: SearchQuery, where: list, *, prefix: bool) -> list:
    """(id, conversation id, subject, text) of the newest WINDOW messages matching the query and conditions."""
    columns = (Message.id, Message.conversation_id, Message.subject, Message.text)
    if dialect == "sqlite":
        statement = (sa.select(*columns).select_from(FTS_TABLE.join(Message, Message.id == FTS_TABLE.c.rowid))
                     .where(FTS_MATCH(fts5_query(query, prefix=prefix))).order_by(FTS_TABLE.c.rowid.desc()))
    else:
        # The newest matches come from a subquery with its own LIMIT, which PostgreSQL cannot
        # flatten: it reads them lazily, newest first (backwards along the primary key for a common
        # word, a GIN bitmap and a small sort for a rare one), and the join below stops as soon as
        # WINDOW pass the filters. Joined directly, the planner started from the conversations a
        # filter named (status:open: every open conversation, then each one's messages), which cost
        # a second at 1M messages. Only when too few of the newest pass the filters does a search read
        # further back (SCANS), so a selective filter over a common word costs more, never misses.
        tsquery = sa.func.to_tsquery(SIMPLE, tsquery_text(query, prefix=prefix))
        matches = (sa.select(*columns, Message.author_id, Message.created_at).where(VECTOR.op("@@")(tsquery))
                   .order_by(Message.id.desc()))
        for scan in SCANS:
            newest = (matches.limit(scan) if scan else matches).subquery("newest")
            # The filters name Message's columns (from:, after:, before:); here they read the subquery's.
            adapt = sa.sql.util.ClauseAdapter(newest)
            statement = (sa.select(newest.c.id, newest.c.conversation_id, newest.c.subject, newest.c.text)
                         .join(Conversation, Conversation.id == newest.c.conversation_id)
                         .where(*(adapt.traverse(condition) for condition in where))
                         .order_by(newest.c.id.desc()).limit(WINDOW))
            rows = db.session.execute(statement).all()
            # Fewer than WINDOW passed the filters: older matches may still pass them, unless this
            # scan already read every match there is (a rare term's usual case).
            if len(rows) >= WINDOW or not scan or db.session.scalar(
                    sa.select(sa.func.count()).select_from(newest)) < scan:
                return rows
    statement = statement.join(Conversation, Conversation.id == Message.conversation_id).where(*where).limit(WINDOW)
    return db.session.execute(statement).all()


def score(query: SearchQuery, posts: list[tuple[str, str]]) -> list[float]:
    """Relevance of each (subject, text): BM25's saturating term frequency over length, summed over terms.

    Args:
        query: the parsed query; its words and phrases are the terms (the last word as a prefix when typed last).
        posts: (subject, text) of each matching message.

    Returns:
        One score per post, higher for more relevant.
    """
    patterns = [term_pattern([word], None) for word in query.words]
    if query.words and query.prefix_last:
        patterns[-1] = term_pattern([], query.words[-1])
    patterns += [re.compile(r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, phrase)) + r"(?![^\W_])", re.IGNORECASE)
                 for phrase in query.phrases]
    lengths = [text.count(" ") + 1 for _, text in posts]
    average = sum(lengths) / len(lengths) if lengths else 1.0
    scores = []
    for (subject, text), length in zip(posts, lengths, strict=True):
        norm = K1 * (1 - B + B * length / average)
        total = 0.0
        for pattern in patterns:
            frequency = len(pattern.findall(text)) + 2 * len(pattern.findall(subject))
            total += frequency * (K1 + 1) / (frequency + norm)
        scores.append(total)
    return scores


def _person_hits(dialect: str, query: SearchQuery, conditions: list) -> list[_Hit]:
    """Conversations of the customers a lone word names by handle or name (substring or word prefix)."""
    person = query.person
    if dialect == "sqlite":
        tokens = TOKEN.findall(person)
        if not tokens:
            return []
        match = " ".join(f'"{token}"' for token in tokens) + "*"
        authors = sa.text(f"SELECT rowid FROM {AUTHORS_FTS} WHERE {AUTHORS_FTS} MATCH :match LIMIT :cap")
        author_ids = list(db.session.scalars(authors, {"match": match, "cap": PEOPLE}))
    else:
        # One branch per index (an OR of them led PostgreSQL to read every customer).
        branches = [sa.select(Author.id).where(sa.func.lower(Author.handle) == person)]
        # Trigrams need three characters to narrow anything, and digits (an order number) are
        # no handle's distinctive part: those are matched whole.
        if len(person) >= 3 and not person.isdigit():
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", person) + "%"
            branches += [sa.select(Author.id).where(sa.func.lower(column).like(pattern, escape="\\"))
                         for column in (Author.handle, Author.name)]
        author_ids = list(db.session.scalars(sa.union(*branches).limit(PEOPLE)))
    if query.author_handle:  # "maya from:@maya_k": only the customer both name
        author_ids = sorted(set(author_ids) & set(_author_ids(query.author_handle)))
    if not author_ids:
        return []
    return [_Hit(conversation_id, None, PERSON_RANK) for conversation_id in db.session.scalars(
        sa.select(Conversation.id).where(Conversation.author_id.in_(author_ids), *conditions,
                                         *_conversation_dates(query))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(WINDOW))]


def _recent_hits(query: SearchQuery, conditions: list) -> list[_Hit]:
    """Filters alone: the matching conversations, newest activity first."""
    where = [*conditions, *_conversation_dates(query)]
    if query.author_handle:
        where.append(Conversation.author_id.in_(_author_ids(query.author_handle)))
    rows = db.session.execute(sa.select(Conversation.id, Conversation.last_message_at).where(*where)
                              .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(WINDOW))
    return [_Hit(conversation_id, None, -last.timestamp()) for conversation_id, last in rows]


def _conversation_dates(query: SearchQuery) -> list:
    """Date filters for results that are whole conversations: active on or after, started before."""
    dates = []
    if query.after:
        dates.append(Conversation.last_message_at >= query.after)
    if query.before:
        dates.append(Conversation.created_at < query.before)
    return dates


def fts5_query(query: SearchQuery, *, prefix: bool = True) -> str:
    """The FTS5 MATCH expression: every token quoted, phrases as one string, the last word as a prefix if asked."""
    parts = [f'"{word}"' for word in query.words] + ['"' + " ".join(phrase) + '"' for phrase in query.phrases]
    if query.words and query.prefix_last and prefix:
        parts[len(query.words) - 1] += "*"
    return " ".join(parts)


def tsquery_text(query: SearchQuery, *, prefix: bool = True) -> str:
    """The PostgreSQL tsquery: tokens ANDed, phrases as <-> chains, the last word as a prefix if asked."""
    parts = [f"'{word}'" for word in query.words]
    if query.words and query.prefix_last and prefix:
        parts[-1] += ":*"
    parts += ["(" + " <-> ".join(f"'{word}'" for word in phrase) + ")" for phrase in query.phrases]
    return " & ".join(parts)


def _load(page: list[_Hit], query: SearchQuery) -> list[Found]:
    """The page's conversations, in order, each with its snippet and preview."""
    if not page:
        return []
    ids = [hit.conversation_id for hit in page]
    conversations = {c.id: c for c in db.session.scalars(
        sa.select(Conversation).where(Conversation.id.in_(ids))
        .options(*SERIALIZED)).unique()}
    latest = previews(ids)
    terms = query.terms()
    prefix = query.words[-1] if query.words and query.prefix_last else None
    pattern = term_pattern(terms, prefix)
    found = []
    for hit in page:
        preview = latest.get(hit.conversation_id, "")
        subject, text = hit.post or ("", preview)
        if subject and pattern and not pattern.search(text):
            text = subject  # the words matched the subject alone
        found.append(Found(conversations[hit.conversation_id], snippet_parts(text, terms, prefix=prefix), hit.rank,
                           preview))
    return found


def _key(hit: _Hit) -> tuple[float, int]:
    """The results' order: best rank first, then the newest conversation."""
    return hit.rank, -hit.conversation_id


def _encode_cursor(hit: _Hit) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(_key(hit))).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        rank, key = json.loads(raw)
        return float(rank), int(key)
    except (ValueError, TypeError, json.JSONDecodeError):
        raise ValidationError("cursor: not a cursor this API returned", code="invalid_cursor")
