"""`flask --app wsgi communities ...`: create communities and manage their members as IT.

Commands act as IT (actor None in services.communities): they may do what a
community admin may, and are not bound by MICROBLOG_COMMUNITY_CREATION.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext

from microblog.services import accounts, communities
from microblog.services.errors import ServiceError
from models import User


def _person(username: str) -> User:
    """Return the active person called username, or stop with a clear message."""
    person = accounts.access_user(username)
    if person.is_community:
        raise click.ClickException(f"@{person.username} is a community, not a person.")
    if not person.is_active:
        raise click.ClickException(f"@{person.username} is deactivated.")
    return person


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn a service's refusal into a one-line message and exit status 1, never a traceback."""
    try:
        yield
    except ServiceError as error:
        raise click.ClickException(error.message) from None


@click.group("communities")
def communities_group() -> None:
    """Create communities and manage their members."""


@communities_group.command("create")
@click.argument("handle")
@click.option("--name", required=True, help="The community's name, as people see it.")
@click.option("--owner", required=True, metavar="USER", help="Its first member and admin.")
@click.option(
    "--private", is_flag=True, help="Members only: joining needs an admin's yes, posts stay inside."
)
@click.option("--description", default="", help="What the community is for.")
@with_appcontext
def create(handle: str, name: str, owner: str, private: bool, description: str) -> None:
    """Create the community @HANDLE (public unless --private; that cannot change later)."""
    with _refusals():
        community = communities.create_community(
            None, handle, name=name, description=description, private=private, owner=_person(owner)
        )
    kind = "private" if community.locked else "public"
    click.echo(
        f"Created the {kind} community @{community.username} ({community.display_name}), run by @{owner}."
    )
    current_app.logger.info("created the %s community @%s", kind, community.username)


@communities_group.command("add")
@click.argument("handle")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make them an admin of the community too.")
@with_appcontext
def add(handle: str, username: str, admin: bool) -> None:
    """Add USERNAME to the community @HANDLE (a private one's join request is answered by it)."""
    with _refusals():
        community = communities.access_community(handle)
        person = communities.add_member(None, community, _person(username), admin=admin)
    role = "member and admin" if admin else "member"
    click.echo(f"@{person.username} is a {role} of @{community.username}.")
    current_app.logger.info("added @%s to @%s as %s", person.username, community.username, role)


@communities_group.command("remove")
@click.argument("handle")
@click.argument("username")
@with_appcontext
def remove(handle: str, username: str) -> None:
    """Remove USERNAME from the community @HANDLE (the last admin stays until another is appointed)."""
    with _refusals():
        community = communities.access_community(handle)
        person = accounts.access_user(username)
        if not communities.is_member(person, community):
            raise click.ClickException(f"@{person.username} is not a member of @{community.username}.")
        communities.remove_member(None, community, person)
    click.echo(f"@{person.username} is no longer a member of @{community.username}.")
    current_app.logger.info("removed @%s from @%s", person.username, community.username)


def _all_communities() -> Iterator[communities.Listing]:
    """Yield every community by handle, a page at a time."""
    after = None
    while page := communities.directory(after=after):
        yield from page
        after = page[-1].account.username


@communities_group.command("list")
@with_appcontext
def list_communities() -> None:
    """List every community: handle, name, public or private, members, official, archived."""
    header = ("HANDLE", "NAME", "ACCESS", "MEMBERS", "OFFICIAL", "ARCHIVED")
    rows = [
        (
            "@" + c.account.username,
            c.account.display_name,
            "private" if c.account.locked else "public",
            str(c.account.followers_count),
            "yes" if c.is_official else "no",
            c.archived_at.date().isoformat() if c.archived_at else "no",
        )
        for c in _all_communities()
    ]
    if not rows:
        click.echo("No communities yet: create one with `flask --app wsgi communities create`.")
        return
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
