"""Who may see a post: the one rule, as an SQL predicate and as the realtime audience.

A post is visible to everyone when its visibility is "public".  A "private"
post (one in a private community) is visible to the members of its community,
and to no one else: not to site administrators, not to its author once they
have left.  Members are the community account's followers (follows rows), read
at the moment of the query or the event, so a membership change takes effect
on the next request and the next live event in every process.

Every feed, thread, search, notification, export and stream goes through this
module; tests/test_visibility.py checks the SQL predicate, the audience and the
search scope against each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, bindparam, or_, select

import search
from microblog.database import db, read_rows
from models import Follow, Post, User
from models.post import PRIVATE, PUBLIC
from models.user import COMMUNITY

__all__ = [
    "account_is_listable",
    "members_are_listable",
    "PRIVATE",
    "PUBLIC",
    "Audience",
    "audience",
    "post_is_public",
    "post_is_visible",
    "readable_communities",
    "search_reader",
]


def _communities_of(viewer: Any) -> Select:
    """Select the accounts the viewer follows: among them, the communities they are a member of."""
    return select(Follow.followee_id).where(Follow.follower_id == viewer)


def post_is_visible(viewer: Any, post: Any = Post) -> ColumnElement[bool]:
    """Return the SQL condition that the viewer may see the post.

    `viewer` is a user id or a bound parameter (0: an anonymous reader, who sees
    public posts only); `post` is the posts table or an alias of it.
    """
    return or_(post.visibility == PUBLIC, post.community_id.in_(_communities_of(viewer)))


def post_is_public(post: Any = Post) -> ColumnElement[bool]:
    """Return the SQL condition that everyone may see the post (no community's members only).

    What a figure may name to anyone who is not a member of a community (the
    dashboard's top tags and communities, its department figures) counts these.
    """
    return post.visibility == PUBLIC


def account_is_listable(viewer: Any) -> ColumnElement[bool]:
    """Return the SQL condition that the viewer may see an account (users row) in someone's list of follows.

    A private community's membership is its members' business: a person's
    "following" list shows it to fellow members only.
    """
    return or_(User.kind != COMMUNITY, User.locked.is_(False), User.id.in_(_communities_of(viewer)))


def members_are_listable(viewer: User | None, account: User) -> bool:
    """Return whether the viewer may list an account's followers (a private community's: members only)."""
    if not (account.is_community and account.locked):
        return True
    return viewer is not None and db.session.get(Follow, (viewer.id, account.id)) is not None


def readable_communities(viewer_id: int | None) -> frozenset[int]:
    """Return the communities whose private posts the viewer may see (what a search filters by)."""
    if not viewer_id:
        return frozenset()
    communities = _communities_of(viewer_id).join(User, User.id == Follow.followee_id)
    return frozenset(db.session.scalars(communities.where(User.kind == COMMUNITY)))


@dataclass(frozen=True)
class Audience:
    """Who may see one post: everyone (`members` is None), or the members of its community."""

    members: frozenset[int] | None

    @property
    def everyone(self) -> bool:
        """Return whether every reader may see the post."""
        return self.members is None

    def admits(self, user_id: int) -> bool:
        """Return whether this user may see the post."""
        return self.members is None or user_id in self.members

    def only(self, user_ids: Any) -> list[int]:
        """Return those of user_ids who may see the post, sorted."""
        return sorted(uid for uid in set(user_ids) if self.admits(uid))


NOBODY = Audience(frozenset())


@cache
def _visibility_of() -> Select:
    return select(Post.visibility, Post.community_id).where(Post.id == bindparam("post", type_=BigInteger))


def audience(post_id: int) -> Audience:
    """Return who may see a post now (nobody, if it does not exist)."""
    rows = read_rows(_visibility_of(), {"post": post_id})
    return audience_of(*rows[0]) if rows else NOBODY


def audience_of(visibility: str, community_id: int | None) -> Audience:
    """Return who may see a post of this visibility in this community (or none): a post written just now."""
    if visibility == PUBLIC:
        return Audience(None)
    if community_id is None:
        return NOBODY  # a private post outside a community: nobody (never the case, but fail closed)
    members = db.session.scalars(select(Follow.follower_id).where(Follow.followee_id == community_id))
    return Audience(frozenset(members))


def search_reader(viewer: User | None) -> search.Reader:
    """Return what a search by this viewer may find: the predicate, and their communities for the index."""
    viewer_id = viewer.id if viewer is not None else 0
    return search.Reader(post_is_visible(viewer_id), readable_communities(viewer_id))
