"""Labelled training rows: from CSV/JSONL files, or from handled conversations and agents' corrections."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import sqlalchemy as sa

from routing import Post
from routing.text import model_text
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import TRIAGE, Agent, Channel, Conversation, Correction, Message, Queue
from workspace.services import audit
from workspace.services.admin import SLUG

# Percent of distinct texts held out of training for the promotion gate.
HOLDOUT_PERCENT = 20
# A label with fewer rows than this is trained on in full: too rare to spare rows for measuring.
MIN_ROWS_TO_HOLD_OUT = 5
# Conversations in these statuses have been looked at by an agent: their queue is a label.
HANDLED_STATUSES = ("open", "pending", "resolved")


def read_labelled_file(path: str | Path) -> tuple[list[str], list[str]]:
    """Read `text,label` rows (optional subject, channel) from a CSV or JSONL file as model inputs.

    Raises:
        ValidationError: a missing file, a missing column, an empty text or label (naming the row).
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if path.suffix.lower() in (".jsonl", ".ndjson"):
                rows = [(n, _json_row(line, f"{path.name} line {n}")) for n, line in enumerate(handle, 1)
                        if line.strip()]
            elif path.suffix.lower() == ".csv":
                reader = csv.DictReader(handle)
                missing = {"text", "label"} - set(reader.fieldnames or ())
                if missing:
                    raise ValidationError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}; "
                                          "the header must name text and label")
                rows = list(enumerate(reader, 2))  # row 1 is the header
            else:
                raise ValidationError(f"{path.name}: expected a .csv or .jsonl file")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise ValidationError(f"{path.name}: not a readable CSV file ({exc})") from exc
    texts, labels = [], []
    for number, row in rows:
        text, label = (str(row.get(key) or "").strip() for key in ("text", "label"))
        if not text or not label:
            raise ValidationError(f"{path.name} row {number}: {'text' if not text else 'label'} is empty")
        post = Post(text=text, subject=str(row.get("subject") or ""), channel=str(row.get("channel") or ""))
        texts.append(model_text(post))
        labels.append(label)
    return texts, labels


def _json_row(line: str, where: str) -> dict:
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise ValidationError(f"{where}: not JSON ({exc})") from exc
    if not isinstance(row, dict) or "text" not in row or "label" not in row:
        raise ValidationError(f"{where}: expected an object with text and label")
    return row


def conversation_examples() -> tuple[list[str], list[str], list[int]]:
    """Return labelled rows from handled conversations' final queues and agents' corrections.

    A conversation routed and then handled (open, pending or resolved) outside
    triage is labelled by its queue, its input being its subject, first inbound
    post and channel. Corrections add the conversations not already counted
    (say, since escalated); the final queue wins over an earlier correction.

    Returns:
        (texts, labels, ids of the unused corrections seen), rows in a stable order.
    """
    first_post = (
        sa.select(Message.conversation_id, sa.func.min(Message.id).label("message_id"))
        .where(Message.direction == "inbound").group_by(Message.conversation_id).subquery()
    )
    rows = db.session.execute(
        sa.select(Conversation.id, Conversation.subject, Message.text, Channel.slug, Queue.slug)
        .join(first_post, first_post.c.conversation_id == Conversation.id)
        .join(Message, Message.id == first_post.c.message_id)
        .join(Channel, Channel.id == Conversation.channel_id)
        .join(Queue, Queue.id == Conversation.queue_id)
        .where(Conversation.routed_at.is_not(None), Conversation.status.in_(HANDLED_STATUSES), Queue.slug != TRIAGE)
        .order_by(Conversation.id)
    ).all()
    seen = {row[0] for row in rows}
    texts = [model_text(Post(text=text, subject=subject or "", channel=channel))
             for _, subject, text, channel, _ in rows]
    labels = [row[4] for row in rows]
    unused = []
    for correction_id, conversation_id, text, label, used in db.session.execute(
        sa.select(Correction.id, Correction.conversation_id, Correction.text, Queue.slug, Correction.used_in_version)
        .join(Queue, Queue.id == Correction.to_queue_id).order_by(Correction.id.desc())
    ):
        if used is None:
            unused.append(correction_id)
        if conversation_id not in seen and label != TRIAGE:
            seen.add(conversation_id)  # newest correction first: the latest word on a conversation counts
            texts.append(text)
            labels.append(label)
    return texts, labels, unused


def read_mapping(path: str | Path) -> dict[str, str]:
    """Read a label -> queue mapping from a CSV file with columns label and queue.

    Raises:
        ValidationError: a missing file or column, an empty cell, or a label mapped twice (naming the row).
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if {"label", "queue"} - set(reader.fieldnames or ()):
                raise ValidationError(f"{path.name}: the header must name label and queue")
            pairs = [(n, (row.get("label") or "").strip(), (row.get("queue") or "").strip())
                     for n, row in enumerate(reader, 2)]
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    mapping: dict[str, str] = {}
    for number, label, queue in pairs:
        if not label or not queue:
            raise ValidationError(f"{path.name} row {number}: {'label' if not label else 'queue'} is empty")
        if mapping.get(label, queue) != queue:
            raise ValidationError(f"{path.name} row {number}: {label!r} is already mapped to {mapping[label]!r}")
        mapping[label] = queue
    return mapping


def map_labels(labels: Sequence[str], mapping: Mapping[str, str]) -> list[str]:
    """Return each label as the queue slug the mapping names for it (labels not in it stay as they are)."""
    return [mapping.get(label, label) for label in labels]


def creatable_queues(labels: Sequence[str]) -> list[str]:
    """Return, sorted, the labels that are not queues yet, each checked to be a usable queue slug.

    Raises:
        ValidationError: a label that cannot be a queue slug (naming it), or the triage queue.
    """
    known = set(db.session.scalars(sa.select(Queue.slug)))
    missing = sorted(set(labels) - known)
    bad = [label for label in missing if not SLUG.match(label) or label == TRIAGE]
    if bad or TRIAGE in labels:
        raise ValidationError(f"labels that cannot be queue slugs: {', '.join(map(repr, bad[:10] or [TRIAGE]))}; "
                              "map them to slugs (lower-case letters, digits, - and _; never triage) with a "
                              "label -> queue mapping")
    return missing


def create_missing_queues(labels: Sequence[str], agent: Agent | None) -> list[str]:
    """Create (in the caller's transaction, audited) a queue for each label that is not one yet.

    Returns:
        The slugs created, sorted.

    Raises:
        ValidationError: as creatable_queues().
    """
    missing = creatable_queues(labels)
    for slug in missing:
        queue = Queue(slug=slug, name=slug.replace("_", " ").replace("-", " ").capitalize())
        db.session.add(queue)
        db.session.flush()
        audit.record(agent, "queue.create", "queue", queue.id, after={"slug": slug, "source": "training file"})
    return missing


def check_labels(labels: Sequence[str]) -> None:
    """Refuse labels that are not queues (or are triage), and data with fewer than two learnable labels."""
    from routing.classifier import MIN_EXAMPLES  # lazy: scikit-learn, which the web process never loads

    counts = Counter(labels)
    known = set(db.session.scalars(sa.select(Queue.slug))) - {TRIAGE}
    unknown = sorted(set(counts) - known)
    if unknown:
        listed = ", ".join(f"{label!r} ({counts[label]} rows)" for label in unknown[:10])
        raise ValidationError(f"labels that are not queues: {listed}; labels must be queue slugs "
                              f"({', '.join(sorted(known)) or 'none exist yet'}), and never triage: map them "
                              "to queues, or let training create the missing queues")
    usable = [label for label, n in counts.items() if n >= MIN_EXAMPLES]
    if len(usable) < 2:
        raise ValidationError(f"training needs at least 2 labels with {MIN_EXAMPLES}+ examples each; got "
                              + (", ".join(f"{label} ({n})" for label, n in sorted(counts.items())) or "no rows"))


def held_out(text: str) -> bool:
    """Tell whether a text falls in the share that no version is trained on (a stable hash, not chance)."""
    bucket = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:4], "big") % 100
    return bucket < HOLDOUT_PERCENT


def split_held_out(texts: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str], list[str], list[str]]:
    """Split rows into training and held-out parts by held_out(), keeping rare labels' rows for training.

    Returns:
        (train_texts, train_labels, held_texts, held_labels), each in the input order.
    """
    counts = Counter(labels)
    parts: tuple[list[str], list[str], list[str], list[str]] = ([], [], [], [])
    for text, label in zip(texts, labels, strict=True):
        side = 2 if counts[label] >= MIN_ROWS_TO_HOLD_OUT and held_out(text) else 0
        parts[side].append(text)
        parts[side + 1].append(label)
    return parts

