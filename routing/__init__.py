"""Switchboard routing: plain posts in, explained Decisions out (no Flask here).

The classifier (routing.classifier) is imported on demand, since it pulls in
scikit-learn; everything here is light to import.
"""

from routing.decision import PRIORITY_LEVELS, Decision
from routing.errors import ModelError, RuleError
from routing.post import Post
from routing.priority import PriorityWeights
from routing.router import RoutingSettings, route, route_many
from routing.rules import CompiledRule, compile_rule, compile_rules

__all__ = [
    "PRIORITY_LEVELS",
    "CompiledRule",
    "Decision",
    "ModelError",
    "Post",
    "PriorityWeights",
    "RoutingSettings",
    "RuleError",
    "compile_rule",
    "compile_rules",
    "route",
    "route_many",
]
