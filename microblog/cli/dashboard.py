"""`flask --app wsgi dashboard ...`: the usefulness dashboard's stored counts."""

import click
from flask.cli import with_appcontext

from microblog.services import rollups


@click.group("dashboard")
def dashboard_group() -> None:
    """Maintain the dashboard's counts."""


@dashboard_group.command("rebuild")
@with_appcontext
def rebuild() -> None:
    """Count every post, like, tag and mention again (after changing MICROBLOG_TIMEZONE, or a bulk import)."""
    rollups.rebuild_all()
    click.echo("Counted every post and like again.")
