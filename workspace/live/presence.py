"""Who is viewing or typing on a conversation, and the soft lock of whoever is replying.

Kept in Redis so every web process sees the same picture. The lock is soft:
the console shows it and others take it over explicitly; it expires when its
holder stops typing for LOCK_SECONDS, or leaves.
"""

import json
import time
from dataclasses import dataclass

from flask import current_app

from workspace.infra.broker import redis_client

LOCK_SECONDS = 45
TYPING_SECONDS = 6


def _keys(conversation_id: int) -> tuple[str, str, str]:
    return (f"presence:{conversation_id}:viewers", f"presence:{conversation_id}:typing",
            f"presence:{conversation_id}:lock")


def join(conversation_id: int, agent) -> None:
    """Record an agent (one of their connections) as viewing the conversation."""
    viewers, _, _ = _keys(conversation_id)
    redis_client().hset(viewers, str(agent.id), json.dumps({"id": agent.id, "name": agent.name}))


def leave(conversation_id: int, agent_id: int) -> None:
    """Forget an agent on the conversation, releasing their lock."""
    viewers, typing, lock = _keys(conversation_id)
    redis = redis_client()
    redis.hdel(viewers, str(agent_id))
    redis.zrem(typing, str(agent_id))
    if redis.get(lock) == str(agent_id).encode():
        redis.delete(lock)


def typing(conversation_id: int, agent) -> bool:
    """Note that the agent is typing and take (or keep) the lock if nobody else holds it.

    Returns:
        Whether the agent holds the lock now.
    """
    _, typers, lock = _keys(conversation_id)
    redis = redis_client()
    redis.zadd(typers, {str(agent.id): time.time()})
    if redis.set(lock, agent.id, nx=True, ex=LOCK_SECONDS):
        return True
    if redis.get(lock) == str(agent.id).encode():
        redis.expire(lock, LOCK_SECONDS)
        return True
    return False


def take_over(conversation_id: int, agent) -> None:
    """Take the lock from whoever holds it (an explicit choice in the console)."""
    redis_client().set(_keys(conversation_id)[2], agent.id, ex=LOCK_SECONDS)


def snapshot(conversation_id: int) -> dict:
    """Viewers, who typed in the last few seconds, and the lock holder, for the `presence` event."""
    viewers_key, typing_key, lock_key = _keys(conversation_id)
    redis = redis_client()
    redis.zremrangebyscore(typing_key, 0, time.time() - TYPING_SECONDS)
    with redis.pipeline() as pipe:
        pipe.hgetall(viewers_key)
        pipe.zrange(typing_key, 0, -1)
        pipe.get(lock_key)
        pipe.ttl(lock_key)
        viewers_raw, typing_ids, holder, ttl = pipe.execute()
    viewers = {int(k): json.loads(v) for k, v in viewers_raw.items()}
    holder_id = int(holder) if holder else None
    return {
        "conversation_id": conversation_id,
        "viewers": sorted(viewers.values(), key=lambda v: v["name"]),
        "typing": [viewers[int(i)] for i in typing_ids if int(i) in viewers],
        "lock": ({"agent": viewers.get(holder_id, {"id": holder_id, "name": "someone"}), "expires_in": ttl}
                 if holder_id else None),
    }


def lock_holders(conversation_ids: list[int]) -> dict[int, int]:
    """Who holds the soft lock of each of these conversations (one Redis round-trip); unlocked ones are absent."""
    if not conversation_ids:
        return {}
    holders = redis_client().mget([_keys(conversation_id)[2] for conversation_id in conversation_ids])
    return {conversation_id: int(holder)
            for conversation_id, holder in zip(conversation_ids, holders, strict=True) if holder}
# Agents' own status (online, away, offline), from their consoles' connections
# and heartbeats: one hash for every web process, {agent id: {"status",
# "since", "seen"}}, times in epoch seconds. A console that vanishes without
# saying goodbye (a crashed process, a laptop lid) stops sending heartbeats,
# so a status older than PRESENCE_ONLINE_SECONDS counts as offline since then.
AGENTS_KEY = "presence:agents"
AGENT_STATUSES = ("online", "away")


def _connections_key(agent_id: int) -> str:
    return f"presence:agent:{agent_id}:connections"


def agent_connected(agent_id: int, now: float | None = None) -> str | None:
    """Count a new console connection and mark the agent online; returns their status before (see agent_heartbeat)."""
    redis_client().incr(_connections_key(agent_id))
    return agent_heartbeat(agent_id, "online", now)


def agent_heartbeat(agent_id: int, status: str, now: float | None = None) -> str | None:
    """Record that the agent's console is alive and whether they are online or away.

    Returns:
        The agent's status before this (online, away, offline), or None if never seen: the caller
        compares it with `status` to tell a change (the dashboard's agents table) from a plain beat.
    """
    now = time.time() if now is None else now
    redis = redis_client()
    raw = redis.hget(AGENTS_KEY, str(agent_id))
    before = _state(json.loads(raw), now) if raw else None
    since = before.since if before is not None and before.status == status else now
    redis.hset(AGENTS_KEY, str(agent_id), json.dumps({"status": status, "since": since, "seen": now}))
    return before.status if before is not None else None


def agent_disconnected(agent_id: int, now: float | None = None) -> None:
    """Forget one console connection; with none left the agent is offline from now."""
    now = time.time() if now is None else now
    redis = redis_client()
    if redis.decr(_connections_key(agent_id)) <= 0:
        redis.delete(_connections_key(agent_id))
        redis.hset(AGENTS_KEY, str(agent_id), json.dumps({"status": "offline", "since": now, "seen": now}))


@dataclass(frozen=True)
class AgentState:
    """An agent's status and since when (epoch seconds)."""

    status: str
    since: float


def agent_states(now: float | None = None) -> dict[int, AgentState]:
    """Every agent's status as of `now`: online, away, or offline (heartbeat too old, or disconnected).

    Agents never seen have no entry.
    """
    now = time.time() if now is None else now
    return {int(agent_id): _state(json.loads(raw), now) for agent_id, raw in redis_client().hgetall(AGENTS_KEY).items()}


def _state(record: dict, now: float) -> AgentState:
    """One agent's stored record as a status at `now`: online or away turns offline once heartbeats stop."""
    if record["status"] in AGENT_STATUSES and record["seen"] < now - current_app.config["PRESENCE_ONLINE_SECONDS"]:
        return AgentState("offline", record["seen"])
    return AgentState(record["status"], record["since"])
