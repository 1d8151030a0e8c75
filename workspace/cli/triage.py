"""The `flask routing` commands: train, evaluate, list, promote and roll back classifier versions."""

import functools

import click
from flask.cli import AppGroup

from routing import ModelError
from workspace.errors import SwitchboardError
from workspace.services.triage import classifier

routing_cli = AppGroup("routing", help="Train, evaluate, promote and roll back the queue classifier.")


def _friendly_errors(command):
    """Turn domain and model errors into a one-line CLI error instead of a traceback."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SwitchboardError as exc:
            raise click.ClickException(exc.message) from exc
        except ModelError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapped


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _echo_outcome(outcome: dict) -> None:
    state = "unchanged" if outcome["skipped"] else "active" if outcome["active"] else "not promoted"
    metrics = outcome["metrics"] or {}
    click.echo(f"version {outcome['version']} ({state}): {outcome['decision']}")
    click.echo(f"  trained on {outcome['training_size']} rows; held-out accuracy {_figure(metrics.get('accuracy'))}, "
               f"macro-F1 {_figure(metrics.get('macro_f1'))} on {metrics.get('n', 0)} rows")


@routing_cli.command("train")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="A CSV or JSONL file of text,label rows.")
@click.option("--from-conversations", is_flag=True, help="Learn from handled conversations and corrections.")
@click.option("--force", is_flag=True, help="Make the new version active even if it scores worse.")
@_friendly_errors
def train(path: str | None, from_conversations: bool, force: bool):
    """Train a new version; it becomes active only if it is at least as accurate (or --force)."""
    if bool(path) == from_conversations:
        raise click.UsageError("give exactly one of --file PATH or --from-conversations")
    if path:
        _echo_outcome(classifier.train_from_file(path, force=force))
    else:
        _echo_outcome(classifier.train_from_conversations(force=force))


@routing_cli.command("retrain")
@click.option("--force", is_flag=True, help="Make the new version active even if it scores worse.")
@_friendly_errors
def retrain(force: bool):
    """Retrain from conversations and corrections now (what the retrain job does)."""
    _echo_outcome(classifier.retrain(force=force))


@routing_cli.command("evaluate")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Labelled rows to measure on.")
@click.option("--version", help="The version to measure (default: the active one).")
@_friendly_errors
def evaluate(path: str | None, version: str | None):
    """Print accuracy, macro-F1, per-queue precision/recall and the worst confusions."""
    result = classifier.evaluate_version(version, path)
    metrics = result["metrics"]
    click.echo(f"version {result['version']} on {result['data']} ({metrics['n']} rows)")
    click.echo(f"accuracy  {metrics['accuracy']:.4f}\nmacro-F1  {metrics['macro_f1']:.4f}\n")
    click.echo(f"{'queue':20} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for label, figures in metrics["per_class"].items():
        click.echo(f"{label:20} {figures['precision']:9.4f} {figures['recall']:7.4f} {figures['f1']:7.4f} "
                   f"{figures['support']:8}")
    click.echo("\nworst confusions (true -> predicted):")
    for confusion in metrics["worst_confusions"] or [{"true": "none", "predicted": "none", "count": 0}]:
        click.echo(f"  {confusion['true']} -> {confusion['predicted']}: {confusion['count']}")


@routing_cli.command("versions")
@_friendly_errors
def versions():
    """List trained versions, newest first; the active one is starred."""
    rows = classifier.list_versions()
    if not rows:
        click.echo("no versions yet: train one with `flask routing train`")
    for row in rows:
        metrics = row.metrics or {}
        click.echo(f"{'*' if row.active else ' '} {row.version:32} {row.source:13} "
                   f"acc {_figure(metrics.get('accuracy'))}  F1 {_figure(metrics.get('macro_f1'))}  "
                   f"rows {row.training_size:6}  {row.trained_at:%Y-%m-%d %H:%M}  {row.decision}")


@routing_cli.command("promote")
@click.argument("version")
@click.option("--force", is_flag=True, help="Skip the comparison with the active version.")
@_friendly_errors
def promote(version: str, force: bool):
    """Make VERSION active if it scores at least as well on held-out conversations (or --force)."""
    row = classifier.promote(version, force=force)
    click.echo(f"version {row.version} is active")


@routing_cli.command("rollback")
@_friendly_errors
def rollback():
    """Make the previously active version active again."""
    row = classifier.rollback()
    click.echo(f"rolled back: version {row.version} is active")
