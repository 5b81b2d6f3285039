"""A team's desk: what the team pages read and do in one call each, by handle and username.

The inbox page needs the items, their counts and the members to assign to; the
team account's page its posts, members and figures; Settings → tokens the teams a
person leads with their tokens.  The actions here resolve the handle (and the
usernames) a form sends and hand over to services.teams, services.inbox and
services.tokens, which own the rules and decide who may act: this module adds a
check only where no service makes it (reading one inbox item, the manage page,
team tokens that only leads issue).  A team's inbox and figures are its members'
business: to anyone else (site administrators included) the inbox is "not found".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from microblog.database import db
from microblog.entities import ItemView
from microblog.text import parse_id
from models import AccessToken, InboxItem, User
from models.team import LEAD

from . import answering, inbox, teams, timelines, tokens
from .errors import NotFound, PermissionDenied
from .teams import Membership
from .timelines import Cursor, Page

PAGE = 30  # inbox items per page


@dataclass(frozen=True)
class InboxPage:
    """One page of a team's inbox, with the counts of its filters and the members to assign to."""

    team: User
    items: list[ItemView]
    counts: dict[str, int]
    members: list[Membership]
    next_after: int | None


@dataclass(frozen=True)
class InboxEntry:
    """One item of a team's inbox, as the page shows it (what live updates fetch)."""

    team: User
    item: ItemView | None
    counts: dict[str, int]
    members: list[Membership]


@dataclass(frozen=True)
class TeamProfile:
    """What a team account's page shows the viewer: members, and for the team its figures."""

    team: User
    members: list[Membership]
    role: str | None  # the viewer's, None when they are not on the team
    may_manage: bool  # a lead, or a site administrator
    figures: list[inbox.Figures]  # 7 and 30 days, for members only (else empty)


@dataclass(frozen=True)
class TeamPage:
    """A team account's page for one viewer: a page of its posts, and what the page shows of the team."""

    posts: Page
    profile: TeamProfile | None  # None when only the posts were asked for (live.js catching up)


@dataclass(frozen=True)
class TeamTokens:
    """A team its lead issues tokens for: the members they may act for, and the tokens (member by id)."""

    team: User
    members: list[Membership]
    tokens: list[AccessToken]
    acting: dict[int, User]  # who each token acts for (shared by the teams of one page)


def inbox_page(
    actor: User, handle: str, *, filter: str = "open", newest_first: bool = False, after: str | None = None
) -> InboxPage:
    """Return a page of the team's inbox for one of its members (others: NotFound, from inbox.list_items)."""
    team = teams.access_team(handle)
    # One more than a page: whether another page follows (inbox.list_items caps at its PAGE_LIMIT).
    items = inbox.list_items(
        actor, team, filter=filter, newest_first=newest_first, after=after, limit=PAGE + 1
    )
    more = len(items) > PAGE
    items = items[:PAGE]
    return InboxPage(team, items, _counts(team), _assignable(team), items[-1].id if more else None)


def _counts(team: User) -> dict[str, int]:
    """Return the counts of the inbox's filters (mine is not counted: it is each member's own)."""
    found = inbox.counts(team)
    return {**found, "all": found["open"] + found["answered"] + found["closed"]}


def inbox_entry(actor: User, handle: str, item_id: int | str) -> InboxEntry:
    """Return one item of the team's inbox as its page shows it, for one of the team's members."""
    team = teams.access_team(handle)
    item = inbox.access_item(actor, item_id)  # the only check here: item_view reads without one
    _check_in_inbox(team, item_id)
    return InboxEntry(team, inbox.item_view(team, item), _counts(team), _assignable(team))


def _check_in_inbox(team: User, item_id: int | str) -> None:
    """Raise NotFound unless the item is in this team's inbox (the page's address names the team).

    Only where the item is: whether the actor may see it is for inbox.access_item,
    which every action here calls; to a non-member both answers are the same 404.
    """
    iid = parse_id(item_id)
    item = db.session.get(InboxItem, iid) if iid else None
    if item is None or item.team_id != team.id:
        raise NotFound(_("No such inbox item."))


def _assignable(team: User) -> list[Membership]:
    """Return the team's members an item may be given to (deactivated people are left out)."""
    return [m for m in teams.members(team) if m.user.is_active]


def _people(names: Iterable[str], field: str) -> list[User]:
    return [teams.access_person(name, field) for name in names if name.strip()]


def assign(actor: User, handle: str, item_id: int | str, username: str | None = None) -> InboxItem:
    """Give one of the team's items to the named member (the actor when none is named)."""
    _check_in_inbox(teams.access_team(handle), item_id)
    return inbox.assign(actor, item_id, username or None)


def unassign(actor: User, handle: str, item_id: int | str) -> InboxItem:
    """Give one of the team's items back to the whole team."""
    _check_in_inbox(teams.access_team(handle), item_id)
    return inbox.unassign(actor, item_id)


def close(actor: User, handle: str, item_id: int | str, reason: str) -> InboxItem:
    """Close one of the team's items without an answer, saying why."""
    _check_in_inbox(teams.access_team(handle), item_id)
    return inbox.close(actor, item_id, reason)


def reopen(actor: User, handle: str, item_id: int | str) -> InboxItem:
    """Open one of the team's closed or answered items again."""
    _check_in_inbox(teams.access_team(handle), item_id)
    return inbox.reopen(actor, item_id)


def answer(actor: User, handle: str, item_id: int | str, text: str) -> User:
    """Reply to one of the team's items as the team (the reply answers it); return the team."""
    team = teams.access_team(handle)
    _check_in_inbox(team, item_id)
    answering.answer(actor, item_id, text)
    return team


# -- the team's page and its members -------------------------------------------


def team_page(viewer: User, team: User, cursor: Cursor, *, posts_only: bool = False) -> TeamPage:
    """Return a page of the team account's posts and, unless posts_only, what its page shows the viewer."""
    posts = timelines.user_timeline(viewer, team, cursor)
    return TeamPage(posts, None if posts_only else team_profile(viewer, team))


def team_profile(viewer: User, team: User) -> TeamProfile:
    """Return what the team account's page shows this viewer (figures: its members only)."""
    role = teams.role_of(viewer, team)
    figures = [inbox.figures(team, days) for days in (7, 30)] if role else []
    may_manage = role == LEAD or bool(viewer.is_admin)
    return TeamProfile(team, teams.members(team), role, may_manage, figures)


def manage_team(actor: User, handle: str) -> TeamProfile:
    """Return the team's members for its manage page (its leads and site administrators)."""
    team = teams.access_team(handle)
    teams.check_lead(actor, team)
    return team_profile(actor, team)


def update_team(actor: User, handle: str, *, name: str, description: str) -> User:
    """Change the name and description of the team with this handle (its leads, admins); return it."""
    return teams.update_team(actor, teams.access_team(handle), name=name, description=description)


def add_member(actor: User, handle: str, username: str, role: str) -> Membership:
    """Put the named person on the team with this role, or change their role (leads, admins)."""
    team = teams.access_team(handle)
    return teams.add_member(actor, team, username, role=role)


def remove_member(actor: User | None, team: User, person: User, *, announce: bool = True) -> None:
    """Take a person off the team: their team tokens are revoked, their inbox items go back to the team.

    announce=False leaves out the live inbox updates: the command line does when
    it does not know the site's address, which the items' links need
    (microblog.cli.links).
    """
    teams.end_membership(actor, team, person)
    inbox.release_member(actor, team, person, announce=announce)
    db.session.commit()


def remove_named_member(actor: User, handle: str, username: str) -> User:
    """Take the named person off the team with this handle (see remove_member); return them."""
    team = teams.access_team(handle)
    person = teams.access_person(username)
    remove_member(actor, team, person)
    return person


def create_team(
    actor: User, handle: str, *, name: str, description: str, members: Iterable[str], leads: Iterable[str]
) -> User:
    """Create a team account with its first members and leads, named by username (administrators)."""
    return teams.create_team(
        actor,
        handle,
        name=name,
        description=description,
        members=_people(members, "members"),
        leads=_people(leads, "leads"),
    )


def all_teams() -> list[tuple[User, list[Membership]]]:
    """Return every team account with its members, by handle (the administrators' list; two queries)."""
    found = teams.list_teams()
    members = teams.members_of([team.id for team in found])
    return [(team, members[team.id]) for team in found]


# -- team tokens -----------------------------------------------------------------


def led_teams_tokens(actor: User) -> list[TeamTokens]:
    """Return the teams the actor leads, each with its members and tokens (Settings → tokens; 4 queries)."""
    led = [team for team, role in teams.teams_and_roles(actor) if role == LEAD]
    issued = tokens.tokens_of_led_teams(actor, [team.id for team in led])
    members = teams.members_of(list(issued))
    ids = {t.on_behalf_of_id for found in issued.values() for t in found if t.on_behalf_of_id}
    acting = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [
        TeamTokens(
            team,
            members[team.id],
            issued[team.id],
            {
                t.on_behalf_of_id: acting[t.on_behalf_of_id]
                for t in issued[team.id]
                if t.on_behalf_of_id in acting
            },
        )
        for team in led
        if team.id in issued
    ]


def issue_team_token(
    actor: User, handle: str, scopes: Iterable[str], name: str = ""
) -> tuple[AccessToken, str]:
    """Issue a token to the team acting for the lead who asks (its leads); return it and its value.

    Its leads only, not every site administrator: the page shows a new token's
    value in the team's own section, which only leads have (IT uses the CLI).
    """
    team = teams.access_team(handle)
    if teams.role_of(actor, team) != LEAD:
        raise PermissionDenied(_("Only the leads of @%(name)s can do that.", name=team.username))
    return tokens.issue_team_token(actor, team, actor, list(scopes), name=name)


def revoke_team_token(actor: User, handle: str, token_id: int | str) -> User:
    """Revoke one of the team's tokens (its leads); return the team."""
    team = teams.access_team(handle)
    tokens.revoke_team_token(actor, team, token_id)
    return team
