"""`flask routing replay`: what-if routing of stored posts under draft rules."""

import json

import click
from flask.cli import with_appcontext

from workspace.errors import ValidationError
from workspace.services.triage.replay import parse_period, replay, summarize
from workspace.services.triage.rules import rules_in_order


@click.command("replay")
@click.option("--since", default="7d", show_default=True, help="How far back: 30m, 12h, 7d, 2w.")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False),
              help="A JSON file with the draft rule list (default: the rules in force).")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@with_appcontext
def replay_command(since: str, rules_file: str | None, as_json: bool):
    """Show how many conversations would move, from which queue to which, under draft rules (changes nothing)."""
    try:
        if rules_file:
            with open(rules_file) as handle:
                specs = json.load(handle)
        else:
            specs = [rule.spec() for rule in rules_in_order()]
        report = replay(parse_period(since), specs)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{rules_file} is not JSON: {error}")
    except ValidationError as error:
        raise click.ClickException(error.message)
    click.echo(json.dumps(report, indent=2) if as_json else summarize(report))
