"""`flask push keys`: make this installation's VAPID key pair (once) and print the public key."""

import click
from flask.cli import with_appcontext

from workspace.services.notifications import vapid


@click.group("push")
def push_cli():
    """Web Push to agents' devices."""


@push_cli.command("keys")
@with_appcontext
def keys_command():
    """Make the VAPID key pair unless it exists (instance/vapid.pem or SWITCHBOARD_VAPID_KEY_FILE); print where
    it is and the public key browsers subscribe with."""
    path = vapid.ensure_keys()
    click.echo(f"VAPID key: {path}\npublic key: {vapid.public_key()}")
