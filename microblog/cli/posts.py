"""`flask --app wsgi posts ...`: maintenance of stored posts."""

import click
from flask.cli import with_appcontext

from microblog.services import posts as post_service


@click.group()
def posts() -> None:
    """Maintain stored posts."""


@posts.command("rerender")
@with_appcontext
def rerender() -> None:
    """Rebuild every post's cached HTML from its text (after changing the renderer)."""
    count = post_service.rerender_all()
    click.echo(f"Re-rendered {count} posts.")
