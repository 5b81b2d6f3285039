"""`flask --app wsgi users ...`: manage accounts from the shell."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from microblog.services import accounts
from microblog.services.errors import ServiceError


@click.group()
def users() -> None:
    """Manage user accounts."""


@users.command("create")
@click.argument("username")
@click.option("--email", required=True, help="Work email address.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="", help="Full name shown on posts.")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@with_appcontext
def create(username: str, email: str, password: str, display_name: str, admin: bool) -> None:
    """Create an account (domain restrictions do not apply here)."""
    try:
        user = accounts.create_user(username, email, password, display_name=display_name, is_admin=admin)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    role = "administrator" if user.is_admin else "user"
    click.echo(f"Created {role} @{user.username} <{user.email}>.")
    current_app.logger.info("created %s @%s", role, user.username)
