"""What admins manage: agents (roles, queues, activation), queues (SLA, threshold) and channels."""

import re

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from workspace.channels.registry import KINDS, clean_settings
from workspace.channels.settings import visible_settings
from workspace.errors import NotFound, SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.models import ROLES, STRATEGIES, Agent, Channel, Queue, is_id
from workspace.models.channel import new_secret
from workspace.services import acknowledgements, audit

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LEVELS = ("urgent", "high", "normal", "low")
MAX_CAPACITY = 1000


def _string(data: dict, key: str, *, limit: int, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise ValidationError(f"{key}: is required", code="invalid_field")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit or "\x00" in value:
        raise ValidationError(f"{key}: a string of 1 to {limit} characters", code="invalid_field")
    return value.strip()


def only_fields(data, allowed: tuple[str, ...]) -> dict:
    """Return the body if it is an object of only these fields; else a 400 naming the first unknown one."""
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object", code="invalid_field")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError(f"{unknown[0]}: unknown field (fields: {', '.join(allowed)})", code="invalid_field")
    return data


def _new_slug(model, data: dict) -> str:
    """The slug for a new queue or channel: well-formed and not taken."""
    slug = _string(data, "slug", limit=64, required=True)
    if not SLUG.match(slug):
        raise ValidationError("slug: lower-case letters, digits, - and _", code="invalid_field")
    if db.session.scalar(sa.select(model).where(model.slug == slug)):
        raise SwitchboardError(f"slug: {model.__tablename__[:-1]} {slug} exists", code="conflict", status=409)
    return slug


def _queues(slugs) -> list[Queue]:
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        raise ValidationError("queues: a list of queue slugs", code="invalid_field")
    found = db.session.scalars(sa.select(Queue).where(Queue.slug.in_(slugs))).all()
    missing = sorted(set(slugs) - {q.slug for q in found})
    if missing:
        raise NotFound(f"queues: no queue named {missing[0]!r}")
    return list(found)


def capacity_value(field: str, value, *, nullable: bool) -> int | None:
    """A capacity: a whole number from 0 to MAX_CAPACITY (or null where allowed)."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
        raise ValidationError(f"{field}: a whole number from 0 to {MAX_CAPACITY}{', or null' if nullable else ''}",
                              code="invalid_field")
    return value


def agent_state(agent: Agent) -> dict:
    """What the audit log records of an agent (never the password)."""
    return {"email": agent.email, "name": agent.name, "role": agent.role, "active": agent.active,
            "queues": sorted(q.slug for q in agent.queues), "capacity": agent.capacity}


AGENT_FIELDS = ("email", "name", "role", "password", "active", "queues", "capacity")


def save_agent(agent: Agent | None, data, admin: Agent) -> Agent:
    """Create (agent None) or change an agent; changing role, activation or password ends their sessions."""
    data = only_fields(data, AGENT_FIELDS)
    creating = agent is None
    before = None if creating else agent_state(agent)
    email = _string(data, "email", limit=254, required=creating)
    if email is not None:
        email = email.lower()
        if not EMAIL.match(email):
            raise ValidationError("email: not an email address", code="invalid_field")
        clash = db.session.scalar(sa.select(Agent).where(Agent.email == email))
        if clash is not None and clash is not agent:
            raise SwitchboardError(f"email: {email} is taken", code="conflict", status=409)
    name = _string(data, "name", limit=120, required=creating)
    role = data.get("role", "agent" if creating else None)
    if role is not None and role not in ROLES:
        raise ValidationError(f"role: one of {', '.join(ROLES)}", code="invalid_field")
    password = data.get("password")
    if password is not None and (not isinstance(password, str) or len(password) < 10):
        raise ValidationError("password: at least 10 characters", code="invalid_field")
    active = data.get("active")
    if active is not None and not isinstance(active, bool):
        raise ValidationError("active: true or false", code="invalid_field")
    capacity = capacity_value("capacity", data["capacity"], nullable=False) if "capacity" in data else None
    if creating:
        agent = Agent(email=email, name=name, role=role)
        db.session.add(agent)
    for attribute, value in (("email", email), ("name", name), ("role", role), ("active", active),
                             ("capacity", capacity)):
        if value is not None:
            setattr(agent, attribute, value)
    if password is not None:
        agent.password_hash = generate_password_hash(password)
    if "queues" in data:
        agent.queues = _queues(data["queues"])
    if not creating and (password is not None or before["role"] != agent.role or before["active"] != agent.active):
        agent.session_version += 1
    db.session.flush()
    audit.record(admin, "agent.create" if creating else "agent.update", "agent", agent.id,
                 before=before, after=agent_state(agent))
    db.session.commit()
    return agent


QUEUE_FIELDS = ("slug", "name", "description", "sla_minutes", "routing_threshold", "assignment", "lead_id",
                "signature")
# An email signature's length: a few lines of name, team and links.
MAX_SIGNATURE = 2000


def save_queue(queue: Queue | None, data, admin: Agent) -> Queue:
    """Create (queue None) or change a queue: name, description, SLA targets, routing threshold, signature."""
    data = only_fields(data, QUEUE_FIELDS if queue is None else QUEUE_FIELDS[1:])
    creating = queue is None
    before = None if creating else _queue_state(queue)
    if creating:
        slug = _new_slug(Queue, data)
        queue = Queue(slug=slug, name=_string(data, "name", limit=120) or slug)
        db.session.add(queue)
    elif "name" in data:
        queue.name = _string(data, "name", limit=120, required=True)
    if "description" in data:
        description = data["description"]
        if not isinstance(description, str) or len(description) > 2000:
            raise ValidationError("description: a string of at most 2000 characters", code="invalid_field")
        queue.description = description
    if "signature" in data:
        signature = data["signature"]
        if not isinstance(signature, str) or len(signature) > MAX_SIGNATURE or "\x00" in signature:
            raise ValidationError(f"signature: a string of at most {MAX_SIGNATURE} characters", code="invalid_field")
        queue.signature = signature.replace("\r\n", "\n").strip()
    if "sla_minutes" in data:
        targets = data["sla_minutes"]
        # JSON has one number type: 60.0 is the whole number 60 (as the API document's "integer" accepts it).
        if targets is not None and (not isinstance(targets, dict) or set(targets) - set(LEVELS) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v == int(v) and 1 <= v <= 525_600
                for v in targets.values())):
            raise ValidationError("sla_minutes: {level: minutes} for urgent/high/normal/low", code="invalid_field")
        queue.sla_minutes = {level: int(v) for level, v in targets.items()} if targets else None
    if "routing_threshold" in data:
        threshold = data["routing_threshold"]
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0 <= threshold <= 1):
            raise ValidationError("routing_threshold: a number from 0 to 1, or null", code="invalid_field")
        queue.routing_threshold = threshold
    if "assignment" in data:
        if data["assignment"] not in STRATEGIES:
            raise ValidationError(f"assignment: one of {', '.join(STRATEGIES)}", code="invalid_field")
        queue.assignment = data["assignment"]
    if "lead_id" in data:
        queue.lead_id = _lead(data["lead_id"])
    db.session.flush()
    audit.record(admin, "queue.create" if creating else "queue.update", "queue", queue.id,
                 before=before, after=_queue_state(queue))
    db.session.commit()
    return queue


def _lead(agent_id) -> int | None:
    """A queue's lead: an active supervisor or admin (automations hand breached work to them), or None."""
    if agent_id is None:
        return None
    lead = db.session.get(Agent, agent_id) if is_id(agent_id) else None
    if lead is None:
        raise NotFound(f"lead_id: no agent {agent_id}")
    if not lead.active or lead.role == "agent":
        raise ValidationError("lead_id: an active supervisor's or admin's id, or null", code="invalid_field")
    return lead.id


def _queue_state(queue: Queue) -> dict:
    return {"slug": queue.slug, "name": queue.name, "description": queue.description,
            "sla_minutes": queue.sla_minutes, "routing_threshold": queue.routing_threshold,
            "assignment": queue.assignment, "lead_id": queue.lead_id, "signature": queue.signature}


CHANNEL_FIELDS = ("slug", "name", "kind", "enabled", "rotate_secret", "settings", "acknowledgement")
# A channel's slug and kind are fixed once senders are pointed at it.
CHANNEL_CHANGES = ("name", "enabled", "rotate_secret", "settings", "acknowledgement")


def save_channel(channel: Channel | None, data, admin: Agent) -> Channel:
    """Create (channel None) or change a channel: name, enabled, settings, and a fresh secret on request."""
    data = only_fields(data, CHANNEL_FIELDS if channel is None else CHANNEL_CHANGES)
    creating = channel is None
    before = None if creating else _channel_state(channel)
    if creating:
        slug = _new_slug(Channel, data)
        kind = data.get("kind", "native")
        if kind not in KINDS:
            raise ValidationError(f"kind: one of {', '.join(KINDS)}", code="invalid_field")
        channel = Channel(slug=slug, name=_string(data, "name", limit=120) or slug, kind=kind, settings={})
        db.session.add(channel)
    elif "name" in data:
        channel.name = _string(data, "name", limit=120, required=True)
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            raise ValidationError("enabled: true or false", code="invalid_field")
        channel.enabled = data["enabled"]
    if "settings" in data:
        channel.settings = clean_settings(channel.kind, data["settings"], channel.settings)
    if "acknowledgement" in data:
        channel.acknowledgement = acknowledgements.parse_settings(channel.kind, data["acknowledgement"])
    if data.get("rotate_secret") is True:
        channel.secret = new_secret()
    db.session.flush()
    after = _channel_state(channel)
    if data.get("rotate_secret") is True:
        after["secret_rotated"] = True
    if "settings" in data:  # names only: write-only values must not reach the log, nor show unchanged
        after["settings_changed"] = sorted(data["settings"])
    audit.record(admin, "channel.create" if creating else "channel.update", "channel", channel.id,
                 before=before, after=after)
    db.session.commit()
    return channel


def _channel_state(channel: Channel) -> dict:
    return {"slug": channel.slug, "name": channel.name, "kind": channel.kind, "enabled": channel.enabled,
            "settings": visible_settings(channel.settings), "acknowledgement": acknowledgements.describe(channel)}


def find(model, **key):
    """Return one row by a unique key or raise NotFound."""
    row = db.session.scalar(sa.select(model).filter_by(**key))
    if row is None:
        raise NotFound(f"no {model.__tablename__[:-1]} {next(iter(key.values()))}")
    return row
