"""The follows rows and the counters that mirror them, shared by following people and joining communities."""

from __future__ import annotations

from typing import cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import IntegrityError

from microblog.database import db
from models import Base, Follow, ListAccount, TimelineList, User


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
    return True


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
