"""The priority weights admins set: stored overrides of routing's defaults, validated, audited, read each batch."""

import dataclasses
import logging
import math

import sqlalchemy as sa

from routing import PriorityWeights
from workspace.errors import ValidationError
from workspace.extensions import db
from workspace.models import Agent, PriorityWeightSetting, utcnow
from workspace.services import audit

log = logging.getLogger(__name__)
DEFAULTS = PriorityWeights()
POINTS = (0, 1_000)  # a factor's points: 0 turns it off; past 1,000 one factor would drown every other
THRESHOLD = (-1_000, 1_000)
# name -> (lowest, highest, whole number?, what it means); the order is the editor's.
FIELDS: dict[str, tuple[float, float, bool, str]] = {
    "urgency_points": (*POINTS, False, "points per urgency term (outage, hacked, charged twice…)"),
    "urgency_max_terms": (0, 10, True, "urgency terms counted at most"),
    "negative_points": (*POINTS, False, "points for the angriest tone (scaled by how negative)"),
    "positive_points": (*POINTS, False, "points taken off for the warmest tone"),
    "vip_points": (*POINTS, False, "points for a VIP customer"),
    "influence_points": (*POINTS, False, "points per ten times more followers than the floor"),
    "influence_floor": (1, 1_000_000_000, True, "followers below which reach adds nothing"),
    "verified_points": (*POINTS, False, "points for a verified author"),
    "publicity_points": (*POINTS, False, "points for a threat to go public (press, reviews, lawyers)"),
    "publicity_reach_points": (*POINTS, False, "more publicity points per ten times the follower floor"),
    "waiting_points": (*POINTS, False, "points when the wait reaches the SLA target"),
    "waiting_cap": (0, 10, False, "waiting counted up to this many SLA targets"),
    "urgent_at": (*THRESHOLD, False, "score from which a post is urgent"),
    "high_at": (*THRESHOLD, False, "score from which a post is high"),
    "normal_at": (*THRESHOLD, False, "score from which a post is normal (below: low)"),
}


def _row() -> PriorityWeightSetting | None:
    return db.session.scalar(sa.select(PriorityWeightSetting).order_by(PriorityWeightSetting.id).limit(1))


def current_weights() -> PriorityWeights:
    """Return the weights in force: routing's defaults with the admins' stored overrides."""
    row = _row()
    if row is None or not row.values:
        return DEFAULTS
    try:
        return parse_weights(row.values)
    except ValidationError as error:  # stored before a range narrowed: routing must go on, with the defaults
        log.warning("stored priority weights ignored (%s): routing with the defaults", error)
        return DEFAULTS


def parse_weights(values: object) -> PriorityWeights:
    """Check an object of weights (each optional: a missing one keeps its default) and build the weights.

    Raises:
        ValidationError: naming the first weight that is unknown, not a number or out of its range.
    """
    if not isinstance(values, dict):
        raise ValidationError("body: must be a JSON object of weights", code="invalid_field")
    for name, value in values.items():
        if name not in FIELDS:
            raise ValidationError(f"{name}: not a priority weight (weights: {', '.join(FIELDS)})",
                                  code="invalid_field")
        low, high, whole, _ = FIELDS[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValidationError(f"{name}: must be a number", code="invalid_field")
        if whole and value != int(value):
            raise ValidationError(f"{name}: must be a whole number", code="invalid_field")
        if not low <= value <= high:
            raise ValidationError(f"{name}: must be from {low:g} to {high:g}", code="invalid_field")
    typed = {name: int(value) if FIELDS[name][2] else float(value) for name, value in values.items()}
    try:
        return dataclasses.replace(DEFAULTS, **typed)
    except ValueError:  # the thresholds out of order
        raise ValidationError("urgent_at: must be at least high_at, which must be at least normal_at",
                              code="invalid_field")


def weights_document() -> dict:
    """The weights in force, routing's defaults and each weight's range and meaning, for the editor."""
    row, weights = _row(), current_weights()
    return {
        "values": {name: getattr(weights, name) for name in FIELDS},
        "defaults": {name: getattr(DEFAULTS, name) for name in FIELDS},
        "fields": {name: {"min": low, "max": high, "integer": whole, "meaning": meaning}
                   for name, (low, high, whole, meaning) in FIELDS.items()},
        "updated_at": row.updated_at.isoformat() if row is not None else None,
    }


def save_weights(values: object, agent: Agent) -> dict:
    """Replace the stored weights (a weight left out goes back to its default), audited; the worker reads
    them at its next batch."""
    weights = parse_weights(values)
    changed = {name: getattr(weights, name) for name in FIELDS if getattr(weights, name) != getattr(DEFAULTS, name)}
    row = _row()
    before = dict(row.values) if row is not None else {}
    if row is None:
        row = PriorityWeightSetting(values={})
        db.session.add(row)
    row.values, row.updated_by_id, row.updated_at = changed, agent.id, utcnow()
    db.session.flush()
    audit.record(agent, "priority_weights.update", "priority_weights", row.id, before=before, after=changed)
    db.session.commit()
    return weights_document()
