"""What a person has read of their saved searches: read marks and unread counts.

Saving, changing and unsaving a search are in services.lists (a saved search
is a list); its posts are in services.list_timelines.  A saved search's hits
after its `last_read_id` are unread, counted only among the posts its owner
may still see: a hit in a private community they left is neither shown nor
counted.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from microblog.database import db
from microblog.text import parse_id
from models import ListHit, Post, TimelineList, User
from models.timeline_list import SEARCH

from .errors import ValidationError
from .lists import access_list
from .visibility import post_is_visible

# Unread counts stop here ("99+" is what a badge shows): each costs at most this many index entries.
UNREAD_MAX = 100


def _newest_post_id() -> int:
    return db.session.scalar(select(func.max(Post.id))) or 0


def mark_read(owner: User, list_id: int | str, post_id: int | str) -> TimelineList:
    """Mark a list read up to a post; the mark only moves forward, and never past the newest post."""
    lst = access_list(owner, list_id)
    up_to = parse_id(post_id)
    if up_to is None:
        raise ValidationError(_("Say up to which post: a post id."), field="post_id")
    up_to = min(up_to, _newest_post_id())
    # The condition keeps it moving forward when two tabs mark at once.
    db.session.execute(
        update(TimelineList)
        .where(TimelineList.id == lst.id, TimelineList.last_read_id < up_to)
        .values(last_read_id=up_to)
    )
    db.session.commit()
    db.session.refresh(lst)
    return lst


def unread_counts(owner: User) -> dict[int, int]:
    """Return how many hits of each of the owner's saved searches are unread (up to UNREAD_MAX), by list id.

    One statement: per saved search, the newest unread hits the owner may
    still see, at most UNREAD_MAX of them, counted.
    """
    unread = (
        select(ListHit.post_id)
        .join(Post, Post.id == ListHit.post_id)
        .where(
            ListHit.list_id == TimelineList.id,
            ListHit.post_id > TimelineList.last_read_id,
            post_is_visible(owner.id),
        )
        .limit(UNREAD_MAX)
        .correlate(TimelineList)  # a FROM subquery correlates only when told (PostgreSQL and SQLite allow it)
        .subquery("unread")
    )
    count = select(func.count()).select_from(unread).scalar_subquery()
    # By owner only: asked for its kind too, SQLite (without statistics) reads every saved search.
    rows = db.session.execute(
        select(TimelineList.id, TimelineList.kind, count).where(TimelineList.user_id == owner.id)
    )
    return {list_id: unread for list_id, kind, unread in rows if kind == SEARCH}


def unread_total(owner: User) -> int:
    """Return how many posts are unread in any of the owner's saved searches, each once (up to UNREAD_MAX).

    What the menu's badge shows: a post that matched three searches is one post to read.
    """
    unread = (
        select(ListHit.post_id)
        .join(TimelineList, TimelineList.id == ListHit.list_id)
        .join(Post, Post.id == ListHit.post_id)
        .where(
            TimelineList.user_id == owner.id,
            TimelineList.kind == SEARCH,
            ListHit.post_id > TimelineList.last_read_id,
            post_is_visible(owner.id),
        )
        .distinct()
        .limit(UNREAD_MAX)
        .subquery("unread")
    )
    return db.session.scalar(select(func.count()).select_from(unread)) or 0


def mark_all_read(owner: User, post_id: int | str | None = None) -> None:
    """Mark every saved search of the owner read up to a post (what All signals showed), or the newest."""
    newest = _newest_post_id()
    up_to = newest if post_id is None else parse_id(post_id)
    if up_to is None:
        raise ValidationError(_("Say up to which post: a post id."), field="post_id")
    db.session.execute(
        update(TimelineList)
        .where(TimelineList.user_id == owner.id, TimelineList.kind == SEARCH)
        .where(TimelineList.last_read_id < min(up_to, newest))
        .values(last_read_id=min(up_to, newest))
    )
    db.session.commit()
