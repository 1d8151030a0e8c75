"""Serve the suggestions the worker stored for a conversation, record what agents did with each, and count it.

Nothing here sends anything: a suggestion reaches the customer only as the
text of a reply an agent sends through the ordinary reply endpoint.
"""

import sqlalchemy as sa

from workspace.errors import NotFound, SwitchboardError
from workspace.extensions import db
from workspace.models import OUTCOMES, Agent, Conversation, Message, Suggestion, SuggestionVersion, utcnow
from workspace.serializers import timestamp
from workspace.services import audit
from workspace.services.knowledge.markdown import excerpt
from workspace.services.responses.library import can_use

# Where each outcome may go next: shown → inserted → sent or edited; shown or inserted → ignored.
NEXT = {"shown": ("inserted", "ignored"), "inserted": ("sent", "edited", "ignored")}
RECORDABLE = ("inserted", "sent", "edited", "ignored")
# How much of a past reply a suggestion carries (the composer takes the whole of it).
REPLY_PREVIEW_CHARS = 2000


# Macros first, then past replies, then articles.
KIND_ORDER = sa.case({"macro": 0, "reply": 1}, value=Suggestion.kind, else_=2)


def _may_see(suggestion: Suggestion, agent: Agent) -> bool:
    """Macros the agent may use; articles still published (one unpublished since is not offered)."""
    if suggestion.kind == "macro":
        return can_use(agent, suggestion.macro)
    return suggestion.kind != "article" or suggestion.article.status == "published"


def current(conversation: Conversation, agent: Agent) -> list[Suggestion]:
    """The suggestions for the conversation's newest suggested-for post, macros then replies, by rank; the ones
    shown for the first time are marked shown (macros the agent may not use are left out)."""
    newest = db.session.scalar(sa.select(sa.func.max(Suggestion.id))
                               .where(Suggestion.conversation_id == conversation.id))
    if newest is None:
        return []
    latest = db.session.get(Suggestion, newest)
    found = [s for s in db.session.scalars(
        sa.select(Suggestion).where(Suggestion.conversation_id == conversation.id,
                                    Suggestion.message_id == latest.message_id,
                                    Suggestion.version_id == latest.version_id)
        .order_by(KIND_ORDER, Suggestion.rank)) if _may_see(s, agent)]
    unseen = [s for s in found if s.shown_at is None]
    if unseen:
        now = utcnow()
        for suggestion in unseen:
            suggestion.shown_at, suggestion.agent_id = now, agent.id
        db.session.commit()
    return found


def find(suggestion_id: int, conversation: Conversation) -> Suggestion:
    """One of the conversation's suggestions."""
    suggestion = db.session.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.conversation_id != conversation.id:
        raise NotFound("no such suggestion")
    return suggestion


def record(suggestion: Suggestion, outcome: str, agent: Agent) -> Suggestion:
    """Record what the agent did with a suggestion: inserted it, sent it as is or edited, or passed it by.

    Raises:
        SwitchboardError: 409 when the outcome cannot follow the recorded one (sent twice, inserted after ignored).
    """
    if outcome not in NEXT.get(suggestion.outcome, ()):
        raise SwitchboardError(f"a suggestion {suggestion.outcome} cannot become {outcome}", code="outcome_order",
                               status=409)
    before = suggestion.outcome
    suggestion.outcome, suggestion.agent_id, suggestion.decided_at = outcome, agent.id, utcnow()
    audit.record(agent, "suggestion.outcome", "conversation", suggestion.conversation_id,
                 before={"suggestion_id": suggestion.id, "outcome": before},
                 after={"suggestion_id": suggestion.id, "outcome": outcome, "version_id": suggestion.version_id})
    db.session.commit()
    return suggestion


def serialize_suggestion(suggestion: Suggestion) -> dict:
    """A suggestion with its source: the macro (id, name), the article (slug, title, url, excerpt), or the past
    reply (text, its conversation)."""
    if suggestion.kind == "macro":
        source = {"macro_id": suggestion.macro_id, "name": suggestion.macro.name}
    elif suggestion.kind == "article":
        article = suggestion.article
        source = {"article_id": article.id, "slug": article.slug, "title": article.title,
                  "url": article.external_url, "excerpt": excerpt(article.body)}
    else:
        reply: Message = suggestion.source_message
        source = {"message_id": reply.id, "conversation_id": reply.conversation_id,
                  "text": reply.text[:REPLY_PREVIEW_CHARS]}
    return {"id": suggestion.id, "kind": suggestion.kind, "rank": suggestion.rank,
            "confidence": suggestion.confidence, "evidence": suggestion.evidence, "outcome": suggestion.outcome,
            "version_id": suggestion.version_id, "message_id": suggestion.message_id, "source": source}


def acceptance() -> list[dict]:
    """Every version, newest first, with how many of its suggestions ended in each outcome and the rates."""
    counts: dict[int, dict] = {}
    for version_id, outcome, n in db.session.execute(
            sa.select(Suggestion.version_id, Suggestion.outcome, sa.func.count())
            .where(Suggestion.shown_at.is_not(None)).group_by(Suggestion.version_id, Suggestion.outcome)):
        counts.setdefault(version_id, {})[outcome] = n
    versions = []
    for version in db.session.scalars(sa.select(SuggestionVersion).order_by(SuggestionVersion.id.desc())):
        outcomes = {outcome: counts.get(version.id, {}).get(outcome, 0) for outcome in OUTCOMES}
        shown = sum(outcomes.values())
        used = outcomes["inserted"] + outcomes["sent"] + outcomes["edited"]
        versions.append({"id": version.id, "active": version.active, "decision": version.decision,
                         "metrics": version.metrics, "training_size": version.training_size,
                         "trained_at": timestamp(version.trained_at), "outcomes": outcomes, "shown": shown,
                         "insert_rate": used / shown if shown else None,
                         "sent_rate": (outcomes["sent"] + outcomes["edited"]) / shown if shown else None})
    return versions
