"""Communities: creating them, joining and leaving, and what their admins do.

A community is a group account (users.kind == "community", DESIGN.md
"Communities"): its members are its followers, joining is following it, and a
private community (users.locked) turns a follow into a join request that one of
its admins accepts or refuses.  Who may see its posts is decided in
services.visibility, from the same follows rows.

`actor` None means IT at the command line (flask communities ...), which may
do what a community admin may.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select

from microblog.database import db, like_escaped, lowered
from models import Community, CommunityAdmin, Follow, FollowRequest, User, utcnow
from models.user import COMMUNITY

from . import inbox, notifications
from .errors import NotFound, PermissionDenied, ValidationError
from .follows import add_follow, insert_once, remove_follow
from .shared_accounts import add_shared_account, check_name

# A community's profile fields, as its forms name them (a person's are "Full name" and "About you").
_COMMUNITY_LABELS = {"display_name": _l("Name"), "bio": _l("Description")}
_UNNAMED = _l("Give the community a name.")

LIST_LIMIT = 40


# -- reading -----------------------------------------------------------------


def access_community(handle: str) -> User:
    """Return the community account with this handle, or raise NotFound."""
    found = db.session.scalar(
        select(User).where(
            User.username == (handle or "").strip().lstrip("@").lower(), User.kind == COMMUNITY
        )
    )
    if found is None:
        raise NotFound(_("There is no community called @%(handle)s here.", handle=handle))
    return found


def details(community: User) -> Community:
    """Return what a community has beyond its account (official, archived, created)."""
    return db.session.get_one(Community, community.id)


def is_member(user: User | None, community: User) -> bool:
    """Return whether user is a member of the community."""
    return user is not None and db.session.get(Follow, (user.id, community.id)) is not None


def is_admin(user: User | None, community: User) -> bool:
    """Return whether user administers the community."""
    return user is not None and db.session.get(CommunityAdmin, (community.id, user.id)) is not None


def members(community: User, *, after: str | None = None, limit: int = LIST_LIMIT) -> list[User]:
    """Return members of the community by username, after the cursor `after`."""
    stmt = select(User).join(Follow, Follow.follower_id == User.id).where(Follow.followee_id == community.id)
    if after:
        stmt = stmt.where(User.username > after)
    return list(db.session.scalars(stmt.order_by(User.username).limit(limit)))


def admin_ids(community: User) -> set[int]:
    """Return the ids of the community's admins."""
    return set(
        db.session.scalars(select(CommunityAdmin.user_id).where(CommunityAdmin.community_id == community.id))
    )


def admins(community: User) -> list[User]:
    """Return the community's admins by username."""
    stmt = (
        select(User)
        .join(CommunityAdmin, CommunityAdmin.user_id == User.id)
        .where(CommunityAdmin.community_id == community.id)
        .order_by(User.username)
    )
    return list(db.session.scalars(stmt))


@dataclass(frozen=True)
class Listing:
    """A community as the directory shows it."""

    account: User
    is_official: bool
    archived_at: datetime | None

    @property
    def is_archived(self) -> bool:
        """Return whether the community is read-only."""
        return self.archived_at is not None


def directory(query: str = "", *, after: str | None = None, limit: int = LIST_LIMIT) -> list[Listing]:
    """Return communities by handle whose handle, name or description holds the query."""
    stmt = select(User, Community.is_official, Community.archived_at).join(Community, Community.id == User.id)
    words = (query or "").casefold().split()[:8]
    for word in words:
        pattern = f"%{like_escaped(word)}%"
        stmt = stmt.where(
            or_(
                lowered(User.username).like(pattern, escape="\\"),
                lowered(User.display_name).like(pattern, escape="\\"),
                lowered(User.bio).like(pattern, escape="\\"),
            )
        )
    if after:
        stmt = stmt.where(User.username > after)
    rows = db.session.execute(stmt.order_by(User.username).limit(limit))
    return [Listing(account, bool(official), archived) for account, official, archived in rows]


def communities_of(user: User) -> list[User]:
    """Return the communities user is a member of, by handle."""
    stmt = (
        select(User)
        .join(Follow, Follow.followee_id == User.id)
        .where(Follow.follower_id == user.id, User.kind == COMMUNITY)
        .order_by(User.username)
    )
    return list(db.session.scalars(stmt))


# -- creating and editing ------------------------------------------------------


def may_create(user: User) -> bool:
    """Return whether user may create a community here (MICROBLOG_COMMUNITY_CREATION)."""
    return not user.is_community and (current_app.config["COMMUNITY_CREATION"] == "everyone" or user.is_admin)


def create_community(
    actor: User | None,
    handle: str,
    *,
    name: str,
    description: str = "",
    private: bool = False,
    owner: User | None = None,
) -> User:
    """Create a community; its owner (the actor, unless IT names one) is its first member and admin."""
    owner = owner or actor
    if owner is None or owner.is_community:
        raise ValidationError(_("A community needs a person as its first admin."), field="owner")
    if actor is not None and not may_create(actor):
        raise PermissionDenied(_("Only administrators can create communities here."))
    community = add_shared_account(
        COMMUNITY,
        handle,
        name=name,
        description=description,
        labels=_COMMUNITY_LABELS,
        unnamed=_UNNAMED,
        locked=bool(private),
    )
    db.session.add(Community(id=community.id, created_by_id=owner.id))
    add_follow(owner, community)
    db.session.add(CommunityAdmin(community_id=community.id, user_id=owner.id))
    db.session.commit()
    return community


def update_community(actor: User | None, community: User, *, name: str, description: str) -> User:
    """Change a community's name and description (its admins).

    Public or private is chosen once, at creation: what was written for members
    only must stay so, and what was public has been read by everyone.
    """
    check_admin(actor, community)
    community.display_name, community.bio = check_name(
        _COMMUNITY_LABELS, _UNNAMED, name=name, description=description
    )
    db.session.commit()
    return community


def set_archived(actor: User | None, community: User, archived: bool) -> User:
    """Archive a community (read-only: no posts, no joins; readable as before), or reopen it."""
    check_admin(actor, community)
    details(community).archived_at = utcnow() if archived else None
    db.session.commit()
    return community


def set_official(actor: User | None, community: User, official: bool) -> User:
    """Mark a community official, or not (site administrators)."""
    if actor is not None and not actor.is_admin:
        raise PermissionDenied(_("Only site administrators can mark a community official."))
    details(community).is_official = official
    db.session.commit()
    return community


def take_over(actor: User, community: User, successor: User | None = None) -> User:
    """Give a community that no active admin runs a new admin (site administrators); return that admin.

    A public community can be taken over by the site administrator themselves.
    A private one cannot: its posts are for its members, so the site
    administrator appoints one of its active members instead (deactivating its
    admins must never become a way into it).
    """
    if not actor.is_admin:
        raise PermissionDenied(_("Only site administrators can take over a community."))
    if _active_admins(community, locking=True):
        raise ValidationError(_("This community has admins: ask one of them instead."))
    if successor is None and community.locked:
        raise ValidationError(
            _("Its posts are for its members only: appoint one of its members as admin."), field="username"
        )
    successor = successor or actor
    if community.locked and not is_member(successor, community):
        raise ValidationError(
            _("@%(name)s is not a member: appoint one of its members.", name=successor.username),
            field="username",
        )
    make_member(successor, community, admin=True)
    db.session.commit()
    return successor


# -- joining and leaving --------------------------------------------------------


def join(actor: User, community: User) -> bool:
    """Join a public community at once, or ask to join a private one; return whether actor is a member."""
    if actor.is_community:
        raise ValidationError(_("A community cannot join a community."))
    if is_member(actor, community):
        return True
    _check_open(community)
    if not community.locked:
        make_member(actor, community)
        db.session.commit()
        return True
    if insert_once(FollowRequest(follower_id=actor.id, followee_id=community.id)):
        notifications.notify("follow_request", actor, sorted(admin_ids(community)), community_id=community.id)
    db.session.commit()
    return False


def leave(actor: User, community: User) -> None:
    """Leave a community, or take back a request to join it; the last admin must appoint another first."""
    db.session.execute(
        delete(FollowRequest).where(
            FollowRequest.follower_id == actor.id, FollowRequest.followee_id == community.id
        )
    )
    _end_membership(actor, community)
    db.session.commit()


def add_member(actor: User | None, community: User, person: User, *, admin: bool = False) -> User:
    """Add a person to a community, optionally as an admin (community admins, or IT); not an archived one."""
    check_admin(actor, community)
    _check_open(community)
    make_member(person, community, admin=admin)
    db.session.commit()
    return person


def remove_member(actor: User | None, community: User, person: User) -> User:
    """Remove a member (community admins, or IT); from then on they see none of its private posts."""
    check_admin(actor, community)
    if not is_member(person, community):
        raise NotFound(
            _(
                "@%(name)s is not a member of @%(community)s.",
                name=person.username,
                community=community.username,
            )
        )
    _end_membership(person, community)
    db.session.commit()
    return person


def set_community_admin(actor: User | None, community: User, person: User, admin: bool) -> User:
    """Appoint a member as admin, or step one down (a community keeps at least one admin)."""
    check_admin(actor, community)
    if not is_member(person, community):
        raise ValidationError(
            _("@%(name)s is not a member: add them first.", name=person.username), field="username"
        )
    if admin:
        insert_once(CommunityAdmin(community_id=community.id, user_id=person.id))
    else:
        _check_not_last_admin(person, community)
        db.session.execute(
            delete(CommunityAdmin).where(
                CommunityAdmin.community_id == community.id, CommunityAdmin.user_id == person.id
            )
        )
    db.session.commit()
    return person


# -- rules ------------------------------------------------------------------------


def check_open(community: User) -> None:
    """Raise ValidationError if the community is archived (read-only)."""
    _check_open(community)


def check_can_post(author: User, community: User) -> None:
    """Raise ValidationError unless author may post in the community: a member, and it is not archived."""
    _check_open(community)
    if not is_member(author, community):
        raise ValidationError(_("Join @%(name)s to post in it.", name=community.username), field="text")


def _check_open(community: User) -> None:
    if details(community).archived_at is not None:
        raise ValidationError(_("@%(name)s is archived: it is read-only.", name=community.username))


def check_admin(actor: User | None, community: User) -> None:
    """Raise PermissionDenied unless actor (None: IT) administers the community."""
    if actor is not None and not is_admin(actor, community):
        raise PermissionDenied(_("Only admins of @%(name)s can do that.", name=community.username))


def _active_admins(community: User, *, locking: bool = False) -> set[int]:
    """Return the ids of the community's active admins; locking its row first serializes admin changes."""
    if locking:  # PostgreSQL: two admins stepping down at once cannot both see the other one stay
        db.session.execute(select(Community.id).where(Community.id == community.id).with_for_update())
    return set(
        db.session.scalars(
            select(CommunityAdmin.user_id)
            .join(User, User.id == CommunityAdmin.user_id)
            .where(CommunityAdmin.community_id == community.id, User.is_active.is_(True))
        )
    )


def _check_not_last_admin(person: User, community: User) -> None:
    """Raise ValidationError if no active admin but `person` would remain."""
    if not (_active_admins(community, locking=True) - {person.id}):
        raise ValidationError(
            _("Appoint another admin of @%(name)s first: it needs one.", name=community.username)
        )


def make_member(person: User, community: User, *, admin: bool = False) -> None:
    """Make an active person a member (answering their request, if any), in the caller's transaction."""
    if person.is_community or not person.is_active:
        raise ValidationError(_("@%(name)s cannot be a member.", name=person.username), field="username")
    db.session.execute(
        delete(FollowRequest).where(
            FollowRequest.follower_id == person.id, FollowRequest.followee_id == community.id
        )
    )
    add_follow(person, community)
    if admin:
        insert_once(CommunityAdmin(community_id=community.id, user_id=person.id))


def _end_membership(person: User, community: User) -> None:
    if is_admin(person, community):
        _check_not_last_admin(person, community)
        db.session.execute(
            delete(CommunityAdmin).where(
                CommunityAdmin.community_id == community.id, CommunityAdmin.user_id == person.id
            )
        )
    remove_follow(person, community)
    if person.is_team and community.locked:  # its inbox keeps nothing it may no longer see
        inbox.forget_community(person, community)
