"""Pinned posts: a person's own on their profile (at most 5), a community's at its top (at most 3).

A person pins their own posts, as in Mastodon; a community's admins pin posts
in it.  Pinned posts are read through the one visibility predicate: a post of
a private community pinned on its author's profile shows to its members only.
"""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Integer, Select, bindparam, delete, select

from microblog.database import db, read_rows, upsert_into
from microblog.entities import FeedPost
from models import Pin, Post, User
from models.pin import MAX_COMMUNITY_PINS, MAX_PROFILE_PINS

from . import communities, posts
from .errors import PermissionDenied, ValidationError
from .timelines import page_posts, rows_to_posts
from .visibility import post_is_visible

_ACCOUNT = bindparam("account", type_=Integer)
_VIEWER = bindparam("viewer", type_=Integer)


def _where(actor: User, post: Post, in_community: bool) -> tuple[User, int]:
    """Return the account a post is pinned on (its author, or its community) and how many pins it may hold.

    Refused: another person's post on one's profile; a community's pin by
    anyone but its admins, or of a post that is in no community.
    """
    if not in_community:
        if post.author_id != actor.id:
            raise ValidationError(_("You can only pin your own posts."))
        return actor, MAX_PROFILE_PINS
    if post.community_id is None:
        raise ValidationError(_("This post is in no community."))
    community = db.session.get_one(User, post.community_id)
    if not communities.is_admin(actor, community):
        raise PermissionDenied(_("Only the community's admins pin its posts."))
    return community, MAX_COMMUNITY_PINS


def pin_post(actor: User, post_id: int | str, *, in_community: bool = False) -> Post:
    """Pin a post on the actor's profile, or (in_community) at the top of its community; again: no change.

    The limit holds with two pins at once: the account's row is locked first (PostgreSQL);
    it counts the pins the actor can see.
    """
    post = posts.access_post(actor, post_id)
    account, limit = _where(actor, post, in_community)
    db.session.execute(select(User.id).where(User.id == account.id).with_for_update())
    # Pins the actor can no longer see (their post in a community they left) do not count.
    pinned = set(
        db.session.scalars(
            select(Pin.post_id)
            .join(Post, Post.id == Pin.post_id)
            .where(Pin.account_id == account.id, post_is_visible(actor.id))
        )
    )
    if post.id not in pinned and len(pinned) >= limit:
        raise ValidationError(
            ngettext(
                "At most %(num)d post can be pinned here: unpin one first.",
                "At most %(num)d posts can be pinned here: unpin one first.",
                limit,
            )
        )
    db.session.execute(
        upsert_into(Pin).values(post_id=post.id, account_id=account.id).on_conflict_do_nothing()
    )
    db.session.commit()
    return post


def unpin_post(actor: User, post_id: int | str, *, in_community: bool = False) -> Post:
    """Take a pin back from the actor's profile, or (in_community) from its community; none: no change."""
    post = posts.access_post(actor, post_id)
    account, _limit = _where(actor, post, in_community)
    db.session.execute(delete(Pin).where(Pin.post_id == post.id, Pin.account_id == account.id))
    db.session.commit()
    return post


@cache
def _statement() -> Select:
    """Select an account's pinned posts that the viewer may see, the latest pin first, as feeds show them."""
    page = (
        select(Pin.post_id.label("post_id"), Pin.created_at.label("pinned_at"))
        .where(Pin.account_id == _ACCOUNT)
        .order_by(Pin.created_at.desc())
        .limit(max(MAX_PROFILE_PINS, MAX_COMMUNITY_PINS))
        .subquery("page")
    )
    return (
        page_posts(page, post_id=page.c.post_id)
        .where(post_is_visible(_VIEWER))
        .order_by(None)
        .order_by(page.c.pinned_at.desc(), page.c.post_id.desc())
    )


def pinned_posts(viewer: User | None, account: User) -> list[FeedPost]:
    """Return the posts pinned on a person's profile or at a community's top, that the viewer may see."""
    rows = read_rows(_statement(), {"account": account.id, "viewer": viewer.id if viewer else 0})
    return rows_to_posts(rows)
