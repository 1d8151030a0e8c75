"""`flask agent|token|channel|queue`: the commands admins use to set Switchboard up."""

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from werkzeug.security import generate_password_hash

from workspace.channels.registry import KINDS, clean_settings
from workspace.channels.settings import visible_settings
from workspace.errors import SwitchboardError, ValidationError
from workspace.extensions import db
from workspace.models import ROLES, STRATEGIES, TOKEN_SCOPES, Agent, Channel, Queue
from workspace.models.counts import queue_counts, recount
from workspace.services import tokens

agent_cli = AppGroup("agent", help="Manage agents.")
token_cli = AppGroup("token", help="Manage API tokens.")
channel_cli = AppGroup("channel", help="Manage channels.")
queue_cli = AppGroup("queue", help="Manage queues.")


def _fail(message: str):
    raise click.ClickException(message)


@agent_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option("--password", help="Console password (prompted for if omitted).")
def create_agent(email: str, name: str, role: str, password: str | None):
    """Create an agent, supervisor or admin."""
    if db.session.scalar(sa.select(Agent).where(Agent.email == email.lower())):
        _fail(f"an agent with email {email} exists")
    password = password or click.prompt("Password", hide_input=True, confirmation_prompt=True)
    db.session.add(Agent(email=email.lower(), name=name, role=role,
                         password_hash=generate_password_hash(password)))
    db.session.commit()
    click.echo(f"created {role} {email}")


@token_cli.command("create")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(TOKEN_SCOPES),
              help="Repeat for each scope (default: all the agent may have; admin and webhooks are admins' only).")
@click.option("--expires", help='When it stops working: "30d", "12h" or an ISO 8601 date (default: never).')
def create_token(email: str, name: str, scopes: tuple[str, ...], expires: str | None):
    """Issue an API token for an agent and print it (it is stored hashed: copy it now)."""
    agent = _agent(email)
    body = {"name": name, "expires": expires, **({"scopes": list(scopes)} if scopes else {})}
    try:
        _, secret = tokens.issue_token(agent, body, None)
    except SwitchboardError as error:
        _fail(error.message)
    click.echo(secret)  # alone, so scripts can capture it; `flask token list` shows its scopes and expiry


@token_cli.command("list")
@click.argument("email")
def list_tokens(email: str):
    """List an agent's tokens: id, name, scopes, created, expires, last used, revoked (never the secret)."""
    for token in tokens.list_tokens(_agent(email)):
        state = tokens.token_state(token)
        click.echo("\t".join(str(state[key] or "-") for key in (
            "id", "name", "created_at", "expires_at", "last_used_at", "revoked_at")) + "\t" + token.scopes)


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int):
    """Revoke a token by its id (from `flask token list`); it is audited as the system's."""
    try:
        token = tokens.revoke_token(token_id, None)
    except SwitchboardError as error:
        _fail(error.message)
    click.echo(f"revoked token {token_id} ({token.name})")


def _agent(email: str) -> Agent:
    agent = db.session.scalar(sa.select(Agent).where(Agent.email == email.lower()))
    if agent is None:
        _fail(f"no agent with email {email}")
    return agent


SETTING_OPTIONS = (
    ("--callback-url", "Where replies are POSTed, signed (native, x, khoros)."),
    ("--base-url", "The Discourse site, e.g. https://forum.example.com."),
    ("--api-username", "The Discourse user replies are posted as."),
    ("--api-key", "A Discourse API key for that user."),
    ("--consumer-secret", "The X app's consumer secret (signs webhooks and the CRC answer)."),
    ("--user-id", "The brand's X account id (for_user_id); its own tweets are not queued."),
    ("--address", "The email channel's address, e.g. support@example.com (mail to its domain reaches it)."),
    ("--smtp-host", "The relay an email channel sends replies through."),
    ("--smtp-port", "The relay's port (default 25)."),
    ("--smtp-username", "A user name for the relay, if it asks for one."),
    ("--smtp-password", "Its password."),
    ("--smtp-starttls", "true: upgrade the relay connection with STARTTLS."),
    ("--rate-limit", "Signed deliveries a second the channel takes before 429 (any kind; default 300)."),
)


def _settings_options(command):
    """Add one option per channel setting (each kind takes its own: its SETTINGS in channels/)."""
    for flag, text in reversed(SETTING_OPTIONS):
        command = click.option(flag, help=text)(command)
    return command


def _apply_settings(channel: Channel, options: dict) -> None:
    changes = {name: value for name, value in options.items() if value is not None}
    try:
        channel.settings = clean_settings(channel.kind, changes, channel.settings)
    except ValidationError as error:
        _fail(error.message)


@channel_cli.command("create")
@click.argument("slug")
@click.option("--name", help="Display name (defaults to the slug).")
@click.option("--kind", type=click.Choice(KINDS), default="native", show_default=True)
@_settings_options
def create_channel(slug: str, name: str | None, kind: str, **settings):
    """Create a channel and print its webhook URL path and signing secret."""
    if db.session.scalar(sa.select(Channel).where(Channel.slug == slug)):
        _fail(f"channel {slug} exists")
    channel = Channel(slug=slug, name=name or slug, kind=kind, settings={})
    _apply_settings(channel, settings)
    db.session.add(channel)
    db.session.commit()
    click.echo(f"webhook: POST /webhooks/{slug}\nsecret:  {channel.secret}")


@channel_cli.command("update")
@click.argument("slug")
@_settings_options
def update_channel(slug: str, **settings):
    """Change a channel's settings (an empty value, e.g. --callback-url '', removes one)."""
    channel = db.session.scalar(sa.select(Channel).where(Channel.slug == slug))
    if channel is None:
        _fail(f"no channel {slug}")
    _apply_settings(channel, settings)
    db.session.commit()
    click.echo(f"updated channel {slug}: {visible_settings(channel.settings)}")


@channel_cli.command("list")
def list_channels():
    """List channels with their kinds and state."""
    for channel in db.session.scalars(sa.select(Channel).order_by(Channel.slug)):
        click.echo(f"{channel.slug:20} {channel.kind:10} {'enabled' if channel.enabled else 'disabled'}")


@queue_cli.command("create")
@click.argument("slug")
@click.option("--name", help="Display name (defaults to the slug).")
@click.option("--description", default="")
@click.option("--sla", "sla", help="Minutes to first reply per priority, e.g. urgent=15,high=60.")
@click.option("--threshold", type=click.FloatRange(0, 1), help="Classifier confidence needed to route here.")
def create_queue(slug: str, name: str | None, description: str, sla: str | None, threshold: float | None):
    """Create a queue; agents mention it as @<slug> to route a post there."""
    if db.session.scalar(sa.select(Queue).where(Queue.slug == slug)):
        _fail(f"queue {slug} exists")
    db.session.add(Queue(slug=slug, name=name or slug, description=description, sla_minutes=_parse_sla(sla),
                         routing_threshold=threshold))
    db.session.commit()
    click.echo(f"created queue {slug}")


@queue_cli.command("update")
@click.argument("slug")
@click.option("--name")
@click.option("--description")
@click.option("--sla", "sla", help="Minutes to first reply per priority, e.g. urgent=15,high=60.")
@click.option("--threshold", type=click.FloatRange(0, 1), help="Classifier confidence needed to route here.")
@click.option("--default-threshold", is_flag=True, help="Use the default confidence threshold again.")
@click.option("--assignment", type=click.Choice(STRATEGIES), help="Automatic assignment strategy.")
def update_queue(slug: str, name, description, sla, threshold, default_threshold: bool, assignment):
    """Change a queue's name, description, SLA targets, routing threshold or assignment strategy."""
    queue = db.session.scalar(sa.select(Queue).where(Queue.slug == slug))
    if queue is None:
        _fail(f"no queue {slug}")
    changes = {"name": name, "description": description, "sla_minutes": _parse_sla(sla),
               "routing_threshold": threshold, "assignment": assignment}
    for attribute, value in changes.items():
        if value is not None:
            setattr(queue, attribute, value)
    if default_threshold:
        queue.routing_threshold = None
    db.session.commit()
    click.echo(f"updated queue {slug}")


def _parse_sla(text: str | None) -> dict | None:
    if not text:
        return None
    targets = {}
    for part in text.split(","):
        level, _, minutes = part.partition("=")
        if level.strip() not in ("urgent", "high", "normal", "low") or not minutes.strip().isdigit():
            _fail(f"--sla: expected level=minutes, got {part!r}")
        targets[level.strip()] = int(minutes)
    return targets


@queue_cli.command("list")
def list_queues():
    """List queues with their open and unassigned counts."""
    queues = db.session.scalars(sa.select(Queue).order_by(Queue.slug)).all()
    counts = queue_counts([queue.id for queue in queues])
    for queue in queues:
        c = counts[queue.id]
        click.echo(f"{queue.slug:20} open {c['open']:6}  unassigned {c['unassigned']:6}  pending {c['pending']:6}")


@queue_cli.command("recount")
def recount_queues():
    """Rebuild the kept queue counts from the conversations themselves (a repair)."""
    slugs = dict(db.session.execute(sa.select(Queue.id, Queue.slug)).all())
    wrong = recount()
    for queue_id, differences in wrong.items():
        fixed = ", ".join(f"{name} {kept} -> {actual}" for name, (kept, actual) in differences.items())
        click.echo(f"{slugs.get(queue_id, queue_id)}: {fixed}")
    click.echo(f"recounted; {len(wrong)} queue(s) were off")
