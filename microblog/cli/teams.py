"""`flask --app wsgi teams ...`: create team (official) accounts and manage their members as IT.

Commands act as IT (actor None in services.teams): they may do what a site
administrator may.  Removing a member revokes their team tokens at once, and
the items it gives back to the team reach the team's open inbox pages live, as
on the web: through Redis (MICROBLOG_REDIS_URL), with links to
MICROBLOG_SITE_URL (microblog.cli.links).
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from microblog.services import accounts, team_desk, teams
from models import User
from models.team import LEAD, MEMBER

from .communities import _refusals
from .links import site_links


def _person(username: str) -> User:
    """Return the active person called username, or stop with a clear message."""
    person = accounts.access_user(username)
    if person.is_community or person.is_team:
        raise click.ClickException(f"@{person.username} is not a person.")
    if not person.is_active:
        raise click.ClickException(f"@{person.username} is deactivated.")
    return person


@click.group("teams")
def teams_group() -> None:
    """Create team (official) accounts and manage their members."""


@teams_group.command("create")
@click.argument("handle")
@click.option("--name", required=True, help="The team account's name, as people see it.")
@click.option("--member", "members", multiple=True, metavar="USER", help="A member; repeat for several.")
@click.option("--lead", "leads", multiple=True, metavar="USER", help="A lead (manages members and tokens).")
@click.option("--description", default="", help="What the team answers for.")
@with_appcontext
def create(
    handle: str, name: str, members: tuple[str, ...], leads: tuple[str, ...], description: str
) -> None:
    """Create the team account @HANDLE, run by its members (it cannot log in by itself)."""
    with _refusals():
        team = teams.create_team(
            None,
            handle,
            name=name,
            description=description,
            members=[_person(u) for u in members],
            leads=[_person(u) for u in leads],
        )
    people = teams.members(team)
    click.echo(
        f"Created the team account @{team.username} ({team.display_name}) with "
        f"{len(people)} member{'s' if len(people) != 1 else ''}."
    )
    current_app.logger.info("created the team account @%s", team.username)


@teams_group.command("add")
@click.argument("handle")
@click.argument("username")
@click.option("--lead", is_flag=True, help="Make them a lead of the team (or change their role to it).")
@with_appcontext
def add(handle: str, username: str, lead: bool) -> None:
    """Put USERNAME on the team @HANDLE (again: set their role)."""
    with _refusals():
        team = teams.access_team(handle)
        membership = teams.add_member(None, team, _person(username), role=LEAD if lead else MEMBER)
    click.echo(f"@{membership.user.username} is a {membership.role} of @{team.username}.")
    current_app.logger.info("put @%s on @%s as %s", membership.user.username, team.username, membership.role)


@teams_group.command("remove")
@click.argument("handle")
@click.argument("username")
@with_appcontext
def remove(handle: str, username: str) -> None:
    """Take USERNAME off the team @HANDLE: their team tokens stop, their items go back to the team."""
    with _refusals(), site_links() as linked:
        team = teams.access_team(handle)
        person = accounts.access_user(username)
        # As on the web: the items given back to the team reach its open inbox pages live.
        team_desk.remove_member(None, team, person, announce=linked)
    click.echo(f"@{person.username} is no longer on @{team.username}; their team tokens are revoked.")
    if not linked:
        click.echo(
            "Open inbox pages show the items given back to the team when reloaded: set MICROBLOG_SITE_URL "
            "for live updates from the command line.",
            err=True,
        )
    current_app.logger.info("took @%s off @%s", person.username, team.username)


@teams_group.command("list")
@with_appcontext
def list_teams() -> None:
    """List every team account: handle, name, leads, members."""
    header = ("HANDLE", "NAME", "LEADS", "MEMBERS")
    rows = []
    for team in teams.list_teams():
        people = teams.members(team)
        leads = ",".join("@" + m.user.username for m in people if m.is_lead) or "-"
        others = ",".join("@" + m.user.username for m in people if not m.is_lead) or "-"
        rows.append(("@" + team.username, team.display_name, leads, others))
    if not rows:
        click.echo("No team accounts yet: create one with `flask --app wsgi teams create`.")
        return
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
