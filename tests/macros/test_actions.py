"""Parsing and checking macro actions."""

import pytest

from macros import describe, parse_actions


def test_a_full_action_list_is_cleaned_and_described():
    """Tags are normalised; every action says what it does."""
    actions = parse_actions([
        {"type": "reply"}, {"type": "note", "text": "Sent by {{ agent.name }}"},
        {"type": "add_tags", "tags": ["Outage ", "outage", "billing"]}, {"type": "remove_tags", "tags": ["new"]},
        {"type": "priority", "priority": "high"}, {"type": "move", "queue": "tech"},
        {"type": "assign", "assignee": "me"}, {"type": "snooze", "minutes": 60},
        {"type": "tag_customer", "tags": ["affected"]},
    ], template="Hi")
    assert actions[2].params == {"tags": ["billing", "outage"]}
    assert [describe(a) for a in actions] == [
        "send the reply", "add an internal note", "add tags billing, outage", "remove tags new", "set priority high",
        "move to tech", "assign to me", "snooze for 60 minutes", "tag the customer affected"]


@pytest.mark.parametrize("raw,template,says", [
    ("reply", "", "actions: a list"),
    ([{"type": "explode"}], "", "actions[0].type: one of"),
    ([{"type": "reply"}], "  ", "needs the macro's template"),
    ([{"type": "reply"}, {"type": "reply"}], "Hi", "at most one reply"),
    ([{"type": "add_tags", "tags": []}], "", "actions[0].tags"),
    ([{"type": "add_tags", "tags": ["x" * 41]}], "", "at most 40 characters"),
    ([{"type": "status", "status": "spam"}], "", "actions[0].status: one of open, pending, resolved"),
    ([{"type": "priority", "priority": "asap"}], "", "actions[0].priority"),
    ([{"type": "assign", "assignee": True}], "", "actions[0].assignee"),
    ([{"type": "assign"}], "", "actions[0].assignee"),
    ([{"type": "snooze"}], "", "either minutes"),
    ([{"type": "snooze", "minutes": 0}], "", "actions[0].minutes"),
    ([{"type": "snooze", "until": "tomorrow"}], "", "actions[0].until"),
    ([{"type": "snooze", "minutes": 5}, {"type": "status", "status": "open"}], "", "snooze sets the status"),
    ([{"type": "note", "text": "{{ ''.__class__ }"}], "", "template line 1"),
    ([{"type": "move", "queue": "tech", "priority": "high"}], "", "actions[0].priority: not a field"),
    ([{"type": "status", "status": "open"}] * 21, "", "at most 20"),
])
def test_malformed_actions_are_refused_naming_the_action_and_field(raw, template, says):
    """Each mistake is an ActionError (or a template error) that points at it."""
    with pytest.raises(ValueError) as refused:
        parse_actions(raw, template=template)
    assert says in str(refused.value)


def test_the_demo_macros_are_valid():
    """The macros `flask seed` adds pass the same checks as any saved macro."""
    from macros import check_template
    from workspace.cli.demo import MACROS

    for _, _, template, actions in MACROS:
        check_template(template)
        parse_actions(actions, template=template)
