"""The `flask articles` commands: import help articles from a folder of Markdown files or a Discourse export."""

from pathlib import Path

import click
from flask.cli import AppGroup

from workspace.errors import SwitchboardError
from workspace.services.knowledge import imports

articles_cli = AppGroup("articles", help="Import help articles into the knowledge base.")


@articles_cli.command("import-folder")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--draft", is_flag=True, help="Import as drafts instead of published.")
def import_folder(folder: Path, draft: bool) -> None:
    """Import every *.md file under FOLDER (front matter: title, slug, tags, queue, locale, status, url)."""
    try:
        counts = imports.import_folder(folder, status="draft" if draft else "published")
    except SwitchboardError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{counts['created']} created, {counts['updated']} updated")


@articles_cli.command("import-discourse")
@click.argument("export", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--base-url", help="The forum's address, to link each article to its topic.")
@click.option("--draft", is_flag=True, help="Import as drafts instead of published.")
def import_discourse(export: Path, base_url: str | None, draft: bool) -> None:
    """Import a Discourse category export (JSON): each topic's first post becomes an article."""
    try:
        counts = imports.import_discourse(export.read_bytes(), base_url=base_url,
                                          status="draft" if draft else "published")
    except SwitchboardError as error:
        raise click.ClickException(error.message) from error
    click.echo(f"{counts['created']} created, {counts['updated']} updated")
