"""The follows rows and the counters that mirror them, shared by following people and joining communities."""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError

import realtime
from microblog.database import db, on_commit
from models import Base, Follow, ListAccount, Tag, TagFollow, TimelineList, User

from . import kept_homes


def insert_once(row: Base) -> bool:
    """Insert a row keyed by who and what; return False if it was there already (twice changes nothing)."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


def add_follow(follower: User, followee: User) -> bool:
    """Make follower follow followee, keeping both counters; return False if it already did."""
    if not insert_once(Follow(follower_id=follower.id, followee_id=followee.id)):
        return False
    count_follow(follower.id, followee.id, +1, following=_counted(followee))
    follows_changed(follower.id)
    return True


def remove_follow(follower: User, followee: User) -> bool:
    """End a follow, keeping both counters and taking followee off follower's lists; False if there was none.

    A list holds only accounts its owner follows (Mastodon drops them with the follow too).
    """
    result = db.session.execute(
        delete(Follow).where(Follow.follower_id == follower.id, Follow.followee_id == followee.id)
    )
    if not cast(CursorResult, result).rowcount:
        return False
    count_follow(follower.id, followee.id, -1, following=_counted(followee))
    owned = select(TimelineList.id).where(TimelineList.user_id == follower.id)
    db.session.execute(
        delete(ListAccount).where(ListAccount.account_id == followee.id, ListAccount.list_id.in_(owned))
    )
    follows_changed(follower.id)
    return True


def follows_changed(user_id: int) -> None:
    """Record that whom (or which tags) a person follows changed, and tell every process after the commit.

    Their home timeline gains or loses earlier posts (kept_homes.moved); the
    processes with live clients of theirs read home_sources again: which
    posts' home events reach them.
    """
    kept_homes.moved([user_id])
    on_commit(lambda: realtime.relations_changed(user_id))


def home_sources(user_id: int) -> tuple[list[int], list[str]]:
    """Return the accounts whose posts a person's home shows, and the names of the tags they follow.

    Those are the people and communities they follow, but for the accounts on
    their exclusive lists.
    With the author, mentions and saved searches shown in home, these decide
    which posts their home timeline holds (timelines.home_timeline).
    """
    exclusive = (  # accounts read in one of the person's exclusive lists, not in home (Mastodon)
        select(ListAccount.account_id)
        .join(TimelineList, TimelineList.id == ListAccount.list_id)
        .where(TimelineList.user_id == user_id, TimelineList.exclusive)
    )
    followees = db.session.scalars(
        select(Follow.followee_id).where(Follow.follower_id == user_id, Follow.followee_id.not_in(exclusive))
    ).all()
    tags = db.session.scalars(
        select(Tag.name).join(TagFollow, TagFollow.tag_id == Tag.id).where(TagFollow.user_id == user_id)
    ).all()
    return list(followees), list(tags)


def _counted(followee: User) -> bool:
    """Return whether following this account counts in the follower's following_count.

    A private community's membership is its members' business, and everyone
    sees a person's count: those follows are not counted (social.recount_accounts agrees).
    """
    return not (followee.is_community and followee.locked)


def count_follow(follower_id: int, followee_id: int, change: int, *, following: bool = True) -> None:
    """Keep followers_count equal to the follows rows, and following_count to the counted ones."""
    if following:
        db.session.execute(
            update(User).where(User.id == follower_id).values(following_count=User.following_count + change)
        )
    db.session.execute(
        update(User).where(User.id == followee_id).values(followers_count=User.followers_count + change)
    )
