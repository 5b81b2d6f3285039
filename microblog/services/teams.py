"""Team accounts: official accounts (@it-support, @hr) that a team of people runs.

A team account (users.kind == "team", DESIGN.md "Team accounts") never logs
in: its members post as it ("Post as @it-support" in the web composer, or a
team token issued to the account on behalf of one member), and every such post
records its real author (posts.posted_by_id).  Site administrators create teams
and choose their members; a team's leads also add and remove members and issue
team tokens.  Removing a member revokes their team tokens and ends their
"post as" at once: both are checked against team_members on every use.

`actor` None means IT at the command line (flask teams ...), which may do what
a site administrator may.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select

import realtime
from microblog import entities
from microblog.database import db, on_commit
from models import AccessToken, TeamMember, User
from models.team import LEAD, MEMBER, TEAM_ROLES
from models.user import PERSON, TEAM

from .errors import NotFound, PermissionDenied, ValidationError
from .shared_accounts import add_shared_account, check_name
from .visibility import Audience

# The event that tells a team's members and site administrators who wrote a team post (announce_writer).
POSTED_BY_EVENT = "status.posted_by"

# A team's profile fields, as its forms name them.
_TEAM_LABELS = {"display_name": _l("Name"), "bio": _l("Description")}
_UNNAMED = _l("Give the team account a name.")


@dataclass(frozen=True)
class Membership:
    """One member of a team, with their role."""

    user: User
    role: str

    @property
    def is_lead(self) -> bool:
        """Return whether this member leads the team."""
        return self.role == LEAD


# -- reading -----------------------------------------------------------------


def access_team(handle: str) -> User:
    """Return the team account with this handle, or raise NotFound."""
    found = db.session.scalar(
        select(User).where(User.username == (handle or "").strip().lstrip("@").lower(), User.kind == TEAM)
    )
    if found is None:
        raise NotFound(_("There is no team account called @%(handle)s here.", handle=handle))
    return found


def access_person(username: str | None, field: str = "username") -> User:
    """Return the person with this username (an @ allowed), or raise ValidationError naming `field`."""
    name = (username or "").strip().lstrip("@").lower()
    person = (
        db.session.scalar(select(User).where(User.username == name, User.kind == PERSON)) if name else None
    )
    if person is None:
        raise ValidationError(_("There is no one called @%(name)s here.", name=name or "?"), field=field)
    return person


def role_of(user: User | None, team: User) -> str | None:
    """Return the user's role on the team ("member" or "lead"), or None if they are not on it."""
    if user is None or not team.is_team:
        return None
    row = db.session.get(TeamMember, (team.id, user.id))
    return row.role if row is not None else None


def is_member(user: User | None, team: User) -> bool:
    """Return whether user is on the team that runs this account."""
    return role_of(user, team) is not None


def members(team: User) -> list[Membership]:
    """Return the team's members by username, leads and members alike."""
    rows = db.session.execute(
        select(User, TeamMember.role)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id)
        .order_by(User.username)
    )
    return [Membership(user, role) for user, role in rows]


def members_of(team_ids: Sequence[int]) -> dict[int, list[Membership]]:
    """Return the members of each of these teams by username, in one query (a team with none: [])."""
    found: dict[int, list[Membership]] = {tid: [] for tid in team_ids}
    if not found:
        return found
    rows = db.session.execute(
        select(TeamMember.team_id, User, TeamMember.role)
        .join(User, User.id == TeamMember.user_id)
        .where(TeamMember.team_id.in_(found))
        .order_by(User.username)
    )
    for team_id, user, role in rows:
        found[team_id].append(Membership(user, role))
    return found


def member_ids(team_id: int) -> list[int]:
    """Return the ids of the team's active members (who hear of its inbox live)."""
    return list(
        db.session.scalars(
            select(TeamMember.user_id)
            .join(User, User.id == TeamMember.user_id)
            .where(TeamMember.team_id == team_id, User.is_active.is_(True))
        )
    )


def teams_of(user: User | None) -> list[User]:
    """Return the team accounts the user may post as, by handle."""
    return [team for team, _role in teams_and_roles(user)]


def teams_and_roles(user: User | None) -> list[tuple[User, str]]:
    """Return the team accounts the user may post as, by handle, each with their role, in one query."""
    if user is None or user.kind != PERSON:
        return []
    rows = db.session.execute(
        select(User, TeamMember.role)
        .join(TeamMember, TeamMember.team_id == User.id)
        .where(TeamMember.user_id == user.id, User.is_active.is_(True))
        .order_by(User.username)
    )
    return [(team, role) for team, role in rows]


def sees_real_authors(viewer: User | None, team_ids: set[int]) -> set[int]:
    """Return those of these teams whose real authors the viewer is shown (members; admins: all)."""
    if viewer is None or not team_ids:
        return set()
    if viewer.is_admin:
        return set(team_ids)
    return set(
        db.session.scalars(
            select(TeamMember.team_id).where(
                TeamMember.user_id == viewer.id, TeamMember.team_id.in_(team_ids)
            )
        )
    )


def real_author_readers(team_id: int) -> list[int]:
    """Return the ids of the active people shown who wrote the team's posts: its members and the admins.

    The live twin of sees_real_authors (tests/test_team_writer_live.py holds them to each other).
    """
    members = select(TeamMember.user_id).where(TeamMember.team_id == team_id)
    return list(
        db.session.scalars(
            select(User.id).where(
                User.is_active.is_(True), or_(User.is_admin.is_(True), User.id.in_(members))
            )
        )
    )


def announce_writer(post: entities.FeedPost, seen_by: Audience) -> None:
    """Tell who wrote a new team post, after the commit, to those who may see it and are shown its writer.

    A `status.posted_by` event to their own (`user`) streams, never in the post's
    `update` payload: that one goes to everyone who may see the post.  Register it
    before the post's `update`, so that the browser knows the writer when the post arrives.
    """
    if post.posted_by is None or not post.author.is_team:
        return
    readers = seen_by.only(real_author_readers(post.author.id))
    if not readers:
        return
    stream, payload = realtime.user_stream(readers), entities.posted_by(post)
    on_commit(lambda: realtime.publish(stream, POSTED_BY_EVENT, payload))


def list_teams() -> list[User]:
    """Return every team account, by handle."""
    return list(db.session.scalars(select(User).where(User.kind == TEAM).order_by(User.username)))


# -- checks ------------------------------------------------------------------


def check_can_act_as(person: User | None, team: User) -> None:
    """Raise PermissionDenied unless the person is an active member of the (active) team."""
    if not may_act(person, team) or not is_member(person, team):
        raise PermissionDenied(_("Only members of @%(name)s can act for it.", name=team.username))


def may_act(person: User | None, team: User) -> bool:
    """Return whether the person is an active person and the team active (no query; not whether on it)."""
    return person is not None and person.kind == PERSON and person.is_active and team.is_active


def check_lead(actor: User | None, team: User) -> None:
    """Raise PermissionDenied unless the actor leads the team or is a site administrator (None: IT)."""
    if actor is None or actor.is_admin:
        return
    if role_of(actor, team) != LEAD:
        raise PermissionDenied(_("Only the leads of @%(name)s can do that.", name=team.username))


def _check_site_admin(actor: User | None) -> None:
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("Only administrators can create team accounts."))


def _check_person(person: User) -> None:
    if person.kind != PERSON or not person.is_active:
        raise ValidationError(
            _("@%(name)s cannot be on a team: only active people can.", name=person.username),
            field="username",
        )


def _check_role(role: str) -> str:
    if role not in TEAM_ROLES:
        raise ValidationError(_("A team role is member or lead."), field="role")
    return role


# -- actions -----------------------------------------------------------------


def create_team(
    actor: User | None,
    handle: str,
    *,
    name: str,
    description: str = "",
    members: Sequence[User] = (),
    leads: Sequence[User] = (),
) -> User:
    """Create a team account (site administrators, or IT) with its first members and leads."""
    _check_site_admin(actor)
    team = add_shared_account(
        TEAM,
        handle,
        name=name,
        description=description,
        labels=_TEAM_LABELS,
        unnamed=_UNNAMED,
    )
    chosen = {p.id: (p, MEMBER) for p in members}
    chosen.update({p.id: (p, LEAD) for p in leads})
    for person, role in chosen.values():
        _check_person(person)
        db.session.add(TeamMember(team_id=team.id, user_id=person.id, role=role))
    db.session.commit()
    return team


def update_team(actor: User | None, team: User, *, name: str, description: str) -> User:
    """Change a team account's name and description (its leads, or administrators)."""
    check_lead(actor, team)
    team.display_name, team.bio = check_name(_TEAM_LABELS, _UNNAMED, name=name, description=description)
    db.session.commit()
    return team


def add_member(actor: User | None, team: User, person: User | str, *, role: str = MEMBER) -> Membership:
    """Put a person on the team, or change their role (its leads, or administrators).

    `person` may be given by username, as the web form sends it: it is looked up
    once the actor may manage the team.
    """
    check_lead(actor, team)
    if isinstance(person, str):
        person = access_person(person)
    _check_person(person)
    role = _check_role(role)
    row = db.session.get(TeamMember, (team.id, person.id))
    if row is None:
        db.session.add(TeamMember(team_id=team.id, user_id=person.id, role=role))
    else:
        row.role = role
    db.session.commit()
    return Membership(person, role)


def end_membership(actor: User | None, team: User, person: User) -> None:
    """Take a person off the team in the caller's transaction: their team tokens are revoked.

    team_desk.remove_member calls this, gives their inbox items back to the
    team and commits both together.
    """
    check_lead(actor, team)
    removed = db.session.execute(
        delete(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == person.id)
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise NotFound(_("@%(name)s is not on @%(team)s.", name=person.username, team=team.username))
    revoke_team_tokens(team, person)


def revoke_team_tokens(team: User, person: User) -> None:
    """Revoke the tokens issued to the team on behalf of this person, in the caller's transaction.

    Requests with them fail at once; after the commit, the streams opened with them close.
    """
    revoked = list(
        db.session.scalars(
            delete(AccessToken)
            .where(AccessToken.user_id == team.id, AccessToken.on_behalf_of_id == person.id)
            .returning(AccessToken.id)
        )
    )

    on_commit(lambda: realtime.end_tokens(revoked))
