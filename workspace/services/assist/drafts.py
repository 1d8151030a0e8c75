"""Drafts from a generator: an OpenAI-compatible chat-completions endpoint, grounded in the suggestions' sources.

Off unless GENERATOR_URL is set. The prompt holds the customer's own post and
numbered sources only: the macros and articles suggested for it and past
replies, from which other customers' names, handles, e-mail addresses and
phone numbers are removed first. The model must cite the sources it uses as
[n] or answer ABSTAIN; a draft citing none is refused as unsupported. A draft
is only ever put in the composer, marked as generated, and audited as such.
"""

import re

import requests
import sqlalchemy as sa
from flask import current_app

from workspace.errors import NotFound, SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.models import Agent, Conversation, Message, Suggestion
from workspace.services import audit
from workspace.services.knowledge.markdown import excerpt
from workspace.services.responses.actions import render_text

MAX_SOURCE_CHARS = 1500
MAX_POST_CHARS = 4000
SYSTEM_PROMPT = (
    "You draft a reply for a support agent, who will check it before sending. Use only the numbered sources "
    "below; cite each one you use as [n]. Do not invent facts, links or promises. If the sources do not answer "
    "the customer's post, reply with the single word ABSTAIN.")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
_HANDLE = re.compile(r"(?<![\w/])@\w{2,}")
_CITATION = re.compile(r"\[(\d+)\]")


def scrub(text: str, names: list[str]) -> str:
    """Another customer's reply with their personal data taken out: e-mail addresses, phone numbers, @handles
    and the given names."""
    text = _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))
    text = _HANDLE.sub("[handle]", text)
    for name in sorted({n for n in names if n and len(n) > 1}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "[customer]", text, flags=re.I)
    return text


def _sources(conversation: Conversation, agent: Agent) -> list[dict]:
    """The newest suggestions' sources as the prompt numbers them."""
    newest = db.session.scalar(sa.select(sa.func.max(Suggestion.message_id))
                               .where(Suggestion.conversation_id == conversation.id))
    rows = db.session.scalars(sa.select(Suggestion).where(
        Suggestion.conversation_id == conversation.id, Suggestion.message_id == newest)
        .order_by(Suggestion.kind, Suggestion.rank)) if newest else []
    sources = []
    for suggestion in rows:
        if suggestion.kind == "macro":
            try:
                text = render_text(suggestion.macro.template, conversation, agent)
            except ValidationError:
                continue
            sources.append({"kind": "macro", "ref": suggestion.macro_id, "title": suggestion.macro.name,
                            "text": text})
        elif suggestion.kind == "article" and suggestion.article.status == "published":
            article = suggestion.article
            sources.append({"kind": "article", "ref": article.id, "title": article.title,
                            "text": f"{excerpt(article.body, MAX_SOURCE_CHARS)} {article.external_url or ''}"})
        elif suggestion.kind == "reply":
            reply: Message = suggestion.source_message
            author = reply.conversation.author
            names = [author.name, *(author.name or "").split(), author.handle]
            sources.append({"kind": "reply", "ref": reply.id, "text": scrub(reply.text, names),
                            "title": f"a past reply (conversation {reply.conversation_id})"})
    return [{**source, "n": n, "text": source["text"][:MAX_SOURCE_CHARS].strip()}
            for n, source in enumerate(sources, 1) if source["text"].strip()]


def _ask(messages: list[dict]) -> str:
    """One chat-completions call; the generator down or answering nonsense is a 503."""
    config = current_app.config
    headers = {"Authorization": f"Bearer {config['GENERATOR_KEY']}"} if config["GENERATOR_KEY"] else {}
    try:
        response = requests.post(f"{config['GENERATOR_URL']}/chat/completions", headers=headers, timeout=config[
            "GENERATOR_TIMEOUT_SECONDS"], json={"model": config["GENERATOR_MODEL"], "messages": messages,
                                                "temperature": 0})
        response.raise_for_status()
        content = response.json()["choices"][0]["message"]["content"]
    except (requests.RequestException, ValueError, KeyError, IndexError, TypeError) as error:
        raise SwitchboardError(f"the draft generator is unavailable: {type(error).__name__}",
                               code="generator_unavailable", status=503) from None
    if not isinstance(content, str):
        raise SwitchboardError("the draft generator answered without text", code="generator_unavailable",
                               status=503)
    return content.strip()


def draft_reply(conversation: Conversation, agent: Agent) -> dict:
    """Ask the generator for a draft grounded in the conversation's suggestions; abstain when they are missing
    or the answer cites none of them. Audited as a generated draft either way."""
    if not current_app.config["GENERATOR_URL"]:
        raise NotFound("no draft generator is configured (SWITCHBOARD_GENERATOR_URL)", code="generator_off")
    sources = _sources(conversation, agent)
    post = db.session.scalar(sa.select(Message.text).where(
        Message.conversation_id == conversation.id, Message.direction == "inbound").order_by(Message.id.desc())
        .limit(1)) or ""
    draft, reason = None, "no suggested macro, article or past reply to ground a draft on"
    if sources:
        listing = "\n\n".join(f"[{s['n']}] {s['title']}:\n{s['text']}" for s in sources)
        question = f"Customer's post:\n{post[:MAX_POST_CHARS]}\n\nSources:\n{listing}"
        answer = _ask([{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}])
        cited = {int(n) for n in _CITATION.findall(answer)} & {s["n"] for s in sources}
        if answer.upper().startswith("ABSTAIN"):
            reason = "the generator found no answer in the sources"
        elif not cited:
            reason = "the generator's answer cited no source"
        else:
            draft, reason = answer, None
    result = {"draft": draft, "abstained": draft is None, "reason": reason, "generated": True,
              "sources": [{key: s[key] for key in ("n", "kind", "ref", "title")} for s in sources]}
    audit.record(agent, "draft.generated", "conversation", conversation.id,
                 after={**result, "model": current_app.config["GENERATOR_MODEL"]})
    db.session.commit()
    return result
