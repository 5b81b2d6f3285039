"""`flask --app wsgi users ...`: manage accounts from the shell."""

from __future__ import annotations

import json
import zipfile

import click
from flask import current_app
from flask.cli import with_appcontext

from microblog.services import accounts, export, teams, tokens
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


@users.command("token")
@click.argument("username")
@click.option("--name", "label", default="Command line", show_default=True, help="What the token is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "write"]),
    default=("read", "write"),
    show_default=True,
    help="Repeat for several.",
)
@click.option(
    "--as",
    "member",
    default=None,
    metavar="USER",
    help="A team token: USERNAME is a team account, acting through this member of it.",
)
@with_appcontext
def token(username: str, label: str, scopes: tuple[str, ...], member: str | None) -> None:
    """Print a new personal access token for USERNAME, or with --as a team token (for a bot or script)."""
    try:
        if member is not None:
            team = teams.access_team(username)
            person = accounts.access_user(member)
            name = label if label != "Command line" else ""
            _, value = tokens.issue_team_token(None, team, person, scopes, name=name)
            user = team
        else:
            user = accounts.access_user(username)
            if user.is_team:
                raise click.ClickException(
                    f"@{user.username} is a team account: name the member it acts through with --as USER."
                )
            if not user.is_active:
                raise click.ClickException(f"@{user.username} is deactivated.")
            _, value = tokens.create_personal_token(user, label, scopes)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    # Only the token on stdout, so scripts can capture it; it is shown this once.
    click.echo(value)
    kind = (
        f"Team token for @{user.username} as @{member}"
        if member is not None
        else (f"Personal access token {label!r} for @{user.username}")
    )
    click.echo(
        f"{kind} ({' '.join(scopes)}); "
        "send it as 'Authorization: Bearer <token>'. It is not stored in readable form: keep it now.",
        err=True,
    )
    if member is not None:
        current_app.logger.info("created a team token for @%s as @%s", user.username, member)
    else:
        current_app.logger.info("created a personal access token for @%s", user.username)


@users.command("export")
@click.argument("username")
@click.option(
    "--output",
    "-o",
    default="-",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write (default: stdout); FILE.zip: the JSON as data.json, with the images.",
)
@with_appcontext
def export_data(username: str, output: str) -> None:
    """Write USERNAME's profile, posts (and images), follows and likes, for a data-protection request."""
    try:
        user = accounts.access_user(username)
    except ServiceError as error:
        raise click.ClickException(error.message) from None
    document = export.export_user(user)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if output.lower().endswith(".zip"):
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data.json", text)
            for name, path in export.image_files(document):
                archive.write(path, name, compress_type=zipfile.ZIP_STORED)  # compressed already
    else:
        with click.open_file(output, "w", encoding="utf-8") as out:
            out.write(text)
    if output != "-":
        click.echo(f"Wrote @{user.username}'s data ({len(document['posts'])} posts) to {output}.", err=True)
    current_app.logger.info("exported the data of @%s", user.username)
