"""The dry run: the chosen conversations go through the actions in a transaction that is rolled back.

At most BULK_DRY_RUN_LIMIT of them, the first in work order: a dry run answers
while the agent waits, in the web process's event loop, so its cost must not
grow with the selection (20,000 conversations took seconds and held every
other request of the process). The rest are judged by the bulk job itself,
which reports each one done, skipped or failed, with progress, as it goes.
"""

from flask import current_app

from workspace.errors import SwitchboardError
from workspace.extensions import db
from workspace.live import presence
from workspace.models import Agent
from workspace.services.responses.actions import apply_actions
from workspace.services.responses.bulk.selection import (
    agent_names,
    check_body,
    choose_what,
    choose_which,
    load_conversations,
    skip_reason,
)

# The dry run shows the rendered reply and changes of this many conversations.
SAMPLE_SIZE = 3
# Dry-run lists of locked and failing conversations stop at this many.
LIST_LIMIT = 50


def dry_run(body, agent: Agent) -> dict:
    """What a bulk action would do, with nothing written: how many change, VIPs, locks, failures, a sample.

    The first `checked` of the `total` conversations (BULK_DRY_RUN_LIMIT at most) really go through the
    actions, in a transaction that is rolled back; the figures count those. Locks are counted for all.
    """
    body = check_body(body)
    kind, template, actions, _ = choose_what(body, agent)
    ids, _ = choose_which(body, agent)
    include_locked = body.get("include_locked") is True
    holders = presence.lock_holders(ids)
    names = agent_names(holders.values())
    checked = ids[:current_app.config["BULK_DRY_RUN_LIMIT"]]
    summary = {"kind": kind, "total": len(ids), "checked": len(checked), "will_change": 0, "unchanged": 0, "vip": 0,
               "locked": [], "skipped": 0, "failing": 0, "failures": [], "sample": []}
    try:
        for start in range(0, len(checked), current_app.config["BULK_BATCH"]):
            chunk = checked[start:start + current_app.config["BULK_BATCH"]]
            conversations = load_conversations(chunk)
            for conversation_id in chunk:
                conversation = conversations.get(conversation_id)
                holder = holders.get(conversation_id)
                if holder is not None and holder != agent.id and len(summary["locked"]) < LIST_LIMIT:
                    summary["locked"].append({"conversation_id": conversation_id,
                                              "agent": {"id": holder, "name": names.get(holder)}})
                if skip_reason(conversation, agent, holder, include_locked, names):
                    summary["skipped"] += 1
                    continue
                if "vip" in (conversation.author.tags or []):
                    summary["vip"] += 1
                try:
                    applied = apply_actions(conversation, template, actions, agent)
                except SwitchboardError as error:
                    summary["failing"] += 1
                    if len(summary["failures"]) < LIST_LIMIT:
                        summary["failures"].append({"conversation_id": conversation_id, "reason": error.message})
                    continue
                summary["will_change" if applied.changes else "unchanged"] += 1
                if applied.changes and len(summary["sample"]) < SAMPLE_SIZE:
                    summary["sample"].append({"conversation_id": conversation_id, "subject": conversation.subject,
                                              "author": conversation.author.name or conversation.author.handle,
                                              "reply": applied.reply_text, "changes": applied.changes})
            db.session.rollback()
    finally:
        db.session.rollback()
    summary["locked_count"] = sum(1 for holder in holders.values() if holder != agent.id)
    return summary
