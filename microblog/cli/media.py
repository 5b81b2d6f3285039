"""`flask --app wsgi media ...`: the images attached to posts."""

import click
from flask.cli import with_appcontext

from microblog.services import media as media_service


@click.group("media")
def media_group() -> None:
    """The images attached to posts."""


@media_group.command("sweep")
@with_appcontext
def sweep() -> None:
    """Remove uploads never attached to a post within a day (every upload also sweeps a few)."""
    removed = 0
    while True:
        batch = media_service.sweep(limit=500)
        removed += batch
        if batch < 500:
            break
    click.echo(f"Removed {removed} unattached images.")
