"""`flask --app wsgi users sync-directory`: keep directory accounts in step with the company directory."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from microblog.services import ldap_login
from microblog.services.errors import ServiceError


@click.command("sync-directory")
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@with_appcontext
def sync_directory(dry_run: bool) -> None:
    """Refresh directory accounts; deactivate those whose entry is gone or filtered out."""
    settings = ldap_login.configured_directory()
    if settings is None:
        raise click.ClickException("No directory is configured (MICROBLOG_LDAP_URL).")
    try:
        report = ldap_login.sync_directory(settings, dry_run=dry_run)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    verb = "Would deactivate" if dry_run else "Deactivated"
    for username in report.deactivated:
        click.echo(f"{verb} @{username}: no longer in the directory (or filtered out).")
    for username in report.refreshed:
        click.echo(f"{'Would refresh' if dry_run else 'Refreshed'} @{username}.")
    for problem in report.problems:
        click.echo(f"Skipped {problem}", err=True)
    click.echo(
        f"{len(report.refreshed)} refreshed, {report.unchanged} unchanged, "
        f"{len(report.deactivated)} deactivated, {len(report.problems)} skipped"
        + (" (dry run: nothing changed)." if dry_run else ".")
    )
    if not dry_run:
        current_app.logger.info(
            "directory sync: %d refreshed, %d deactivated, %d skipped",
            len(report.refreshed),
            len(report.deactivated),
            len(report.problems),
        )
