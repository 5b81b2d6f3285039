"""Requests to join a private community: who waits, and an admin's answer.

Asking is `communities.join` (following a locked community); leaving or
unfollowing takes a request back.  The requester is told when an admin accepts.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from microblog.database import db
from models import CommunityAdmin, FollowRequest, User

from . import notifications
from .communities import check_admin, check_open, make_member
from .errors import NotFound


def has_requested(user: User | None, community: User) -> bool:
    """Return whether user waits for an answer to a request to join."""
    return user is not None and db.session.get(FollowRequest, (user.id, community.id)) is not None


def pending_requests(actor: User | None, community: User) -> list[User]:
    """Return the people asking to join, oldest request first (community admins only)."""
    check_admin(actor, community)
    stmt = (
        select(User)
        .join(FollowRequest, FollowRequest.follower_id == User.id)
        .where(FollowRequest.followee_id == community.id)
        .order_by(FollowRequest.created_at, User.username)
    )
    return list(db.session.scalars(stmt))


def accept_request(actor: User | None, community: User, username: str) -> User:
    """Accept a request to join (community admins); the requester is told."""
    check_admin(actor, community)
    check_open(community)
    person = _requester(community, username)
    make_member(person, community)
    notifications.notify("join_accepted", community, [person.id], community_id=community.id)
    db.session.commit()
    return person


def refuse_request(actor: User | None, community: User, username: str) -> User:
    """Refuse a request to join (community admins)."""
    check_admin(actor, community)
    person = _requester(community, username)
    db.session.execute(
        delete(FollowRequest).where(
            FollowRequest.follower_id == person.id, FollowRequest.followee_id == community.id
        )
    )
    db.session.commit()
    return person


def accept_requests_from(actor: User, person: User) -> list[User]:
    """Accept a person's requests to join every community the actor administers (Mastodon's authorize).

    Return those communities, by handle; NotFound if the person asked none of them.
    """
    joined = _requested_of(actor, person)
    for community in joined:
        check_open(community)
        make_member(person, community)
        notifications.notify("join_accepted", community, [person.id], community_id=community.id)
    db.session.commit()
    return joined


def refuse_requests_from(actor: User, person: User) -> list[User]:
    """Refuse a person's requests to join every community the actor administers (Mastodon's reject)."""
    refused = _requested_of(actor, person)
    db.session.execute(
        delete(FollowRequest).where(
            FollowRequest.follower_id == person.id, FollowRequest.followee_id.in_([c.id for c in refused])
        )
    )
    db.session.commit()
    return refused


def _requested_of(actor: User, person: User) -> list[User]:
    """Return the communities the actor administers that the person asked to join, or raise NotFound."""
    stmt = (
        select(User)
        .join(FollowRequest, FollowRequest.followee_id == User.id)
        .join(CommunityAdmin, CommunityAdmin.community_id == User.id)
        .where(FollowRequest.follower_id == person.id, CommunityAdmin.user_id == actor.id)
        .order_by(User.username)
    )
    found = list(db.session.scalars(stmt))
    if not found:
        raise NotFound(_("@%(name)s has not asked to join a community you administer.", name=person.username))
    return found


def _requester(community: User, username: str) -> User:
    person = db.session.scalar(
        select(User)
        .join(FollowRequest, FollowRequest.follower_id == User.id)
        .where(FollowRequest.followee_id == community.id, User.username == (username or "").lower())
    )
    if person is None:
        raise NotFound(_("@%(name)s has not asked to join.", name=username))
    return person
