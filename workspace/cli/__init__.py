"""The Flask CLI: one module per command group, registered by `init_app`."""

from flask import Flask

from workspace.cli.admin import agent_cli, channel_cli, queue_cli, token_cli
from workspace.cli.demo import seed
from workspace.cli.jobs import scheduler, sweep, worker
from workspace.cli.knowledge import articles_cli
from workspace.cli.push import push_cli
from workspace.cli.replay import replay_command
from workspace.cli.service_levels import calendar_cli, sla_cli
from workspace.cli.smtp import imap, smtp
from workspace.cli.triage import routing_cli


def init_app(app: Flask) -> None:
    """Register the commands on the app's CLI."""
    routing_cli.add_command(replay_command)
    for command in (agent_cli, token_cli, channel_cli, queue_cli, seed, sweep, worker, scheduler, routing_cli,
                    calendar_cli, sla_cli, smtp, imap, push_cli, articles_cli):
        app.cli.add_command(command)
