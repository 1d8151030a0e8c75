"""The `flask routing` commands: train, evaluate, list, promote and roll back classifier versions."""

import functools

import click
from flask.cli import AppGroup

from routing import ModelError
from routing.features import DEFAULT_FEATURES, FEATURES
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
    click.echo(f"  trained on {outcome['training_size']} rows with {metrics.get('features') or DEFAULT_FEATURES} "
               f"features; held-out accuracy {_figure(metrics.get('accuracy'))}, "
               f"macro-F1 {_figure(metrics.get('macro_f1'))} on {metrics.get('n', 0)} rows")


def _label_pair(_ctx, _param, values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for value in values:
        label, sep, queue = value.partition("=")
        if not sep or not label.strip() or not queue.strip():
            raise click.BadParameter(f"{value!r}: expected LABEL=QUEUE")
        pairs[label.strip()] = queue.strip()
    return pairs


@routing_cli.command("train")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="A CSV or JSONL file of text,label rows.")
@click.option("--from-conversations", is_flag=True, help="Learn from handled conversations and corrections.")
@click.option("--map", "pairs", multiple=True, callback=_label_pair, metavar="LABEL=QUEUE",
              help="Train the file's LABEL as queue QUEUE (repeatable).")
@click.option("--mapping", "mapping_path", type=click.Path(dir_okay=False),
              help="A CSV file of label,queue rows mapping the file's labels to queues.")
@click.option("--create-queues", is_flag=True, help="Create the queues the (mapped) labels name that do not exist.")
@click.option("--all", "fit_all", is_flag=True,
              help="After the gate, train the saved model on every row (the gate's model is kept to compare with).")
@click.option("--force", is_flag=True, help="Make the new version active even if it scores worse.")
@click.option("--features", type=click.Choice(list(FEATURES)), default=None,
              help=f"Features to train with: {'; '.join(f'{k}: {v}' for k, v in FEATURES.items())} (needs "
                   f"requirements-embeddings.txt). Default: {DEFAULT_FEATURES} for --file, the active version's "
                   "for --from-conversations.")
@_friendly_errors
def train(path: str | None, from_conversations: bool, pairs: dict[str, str], mapping_path: str | None,
          create_queues: bool, fit_all: bool, force: bool, features: str | None):
    """Train a new version; it becomes active only if it is at least as accurate and as well calibrated (or --force)."""
    if bool(path) == from_conversations:
        raise click.UsageError("give exactly one of --file PATH or --from-conversations")
    if path:
        mapping = {**(classifier.read_mapping(mapping_path) if mapping_path else {}), **pairs}
        outcome = classifier.train_from_file(path, mapping=mapping, create_queues=create_queues, fit_all=fit_all,
                                             force=force, features=features or DEFAULT_FEATURES)
    elif pairs or mapping_path or create_queues:
        raise click.UsageError("--map, --mapping and --create-queues apply to --file")
    else:
        outcome = classifier.train_from_conversations(force=force, fit_all=fit_all, features=features)
    _echo_outcome(outcome)
    _echo_recall(outcome["metrics"] or {})


@routing_cli.command("retrain")
@click.option("--force", is_flag=True, help="Make the new version active even if it scores worse.")
@_friendly_errors
def retrain(force: bool):
    """Retrain from conversations and corrections now (what the retrain job does)."""
    _echo_outcome(classifier.retrain(force=force))


def _echo_recall(metrics: dict) -> None:
    """Print the queues a version never predicted and the ones it recalls worst (where a rare queue shows)."""
    if metrics.get("never_predicted"):
        click.echo(f"  never predicted: {', '.join(metrics['never_predicted'])}")
    weakest = sorted(metrics.get("per_class", {}).items(), key=lambda item: item[1]["recall"])[:5]
    if weakest:
        click.echo("  lowest recall: " + ", ".join(f"{label} {figures['recall']:.2f} ({figures['support']} rows)"
                                                  for label, figures in weakest))


@routing_cli.command("evaluate")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Labelled rows to measure on.")
@click.option("--version", help="The version to measure (default: the active one).")
@_friendly_errors
def evaluate(path: str | None, version: str | None):
    """Print accuracy, macro-F1, per-queue precision/recall, worst confusions, calibration and coverage."""
    result = classifier.evaluate_version(version, path)
    metrics = result["metrics"]
    click.echo(f"version {result['version']} on {result['data']} ({metrics['n']} rows)")
    click.echo(f"accuracy  {metrics['accuracy']:.4f}\nmacro-F1  {metrics['macro_f1']:.4f}\n")
    click.echo(f"{'queue':20} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}")
    for label, figures in metrics["per_class"].items():
        click.echo(f"{label:20} {figures['precision']:9.4f} {figures['recall']:7.4f} {figures['f1']:7.4f} "
                   f"{figures['support']:8}")
    click.echo(f"\nnever predicted: {', '.join(metrics.get('never_predicted') or ()) or 'none'}")
    click.echo("\nworst confusions (true -> predicted):")
    for confusion in metrics["worst_confusions"] or [{"true": "none", "predicted": "none", "count": 0}]:
        click.echo(f"  {confusion['true']} -> {confusion['predicted']}: {confusion['count']}")
    click.echo(f"\ncalibration: expected calibration error {metrics['ece']:.4f}")
    click.echo(f"  {'confidence':>12} {'rows':>6} {'stated':>7} {'right':>7}")
    for row in metrics["reliability"]:
        click.echo(f"  {row['low']:5.1f}-{row['high']:<6.1f} {row['n']:6} "
                   f"{row['confidence']:7.3f} {row['accuracy']:7.3f}")
    click.echo("\nat each threshold (pick a queue's threshold here):")
    click.echo(f"  {'threshold':>9} {'routed':>7} {'accuracy':>9}")
    for row in metrics["coverage"]:
        click.echo(f"  {row['threshold']:9.2f} {row['coverage']:7.1%} {_figure(row['accuracy']):>9}")


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
