"""Bookmarks: posts a person keeps to read again; no one else sees them, the author is not told."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, Select, bindparam, delete

from microblog.database import db, read_rows, upsert_into
from microblog.entities import FeedPost
from models import Bookmark, Post, User

from . import posts
from .timelines import FEED_COLUMNS, Cursor, page_ids, page_posts, rows_to_posts

_OWNER = bindparam("subject", type_=Integer)


def bookmark_post(owner: User, post_id: int | str) -> Post:
    """Bookmark a post the owner may see; bookmarking it again changes nothing."""
    post = posts.access_post(owner, post_id)
    keep = upsert_into(Bookmark).values(user_id=owner.id, post_id=post.id)
    db.session.execute(keep.on_conflict_do_nothing())
    db.session.commit()
    return post


def unbookmark_post(owner: User, post_id: int | str) -> Post:
    """Take a post out of the owner's bookmarks (one not bookmarked: nothing changes)."""
    post = posts.access_post(owner, post_id)
    db.session.execute(delete(Bookmark).where(Bookmark.user_id == owner.id, Bookmark.post_id == post.id))
    db.session.commit()
    return post


@cache
def _statement(shape: tuple[bool, bool, bool]) -> Select:
    """Select a page of the viewer's bookmarks, newest bookmark first, with their posts as feeds show them.

    Paged by the bookmark's id, as Mastodon pages bookmarks: a post bookmarked
    today comes first, however old.  Posts the viewer may no longer see (a
    private community they left) are left out by the one visibility predicate.
    """
    ids = page_ids(Bookmark.id, [Bookmark.user_id == _OWNER], shape, post_id=Bookmark.post_id)
    page = ids.subquery("page")
    return (
        page_posts(page, post_id=page.c.post_id)
        .add_columns(page.c.id)
        .order_by(None)
        .order_by(page.c.id.desc())
    )


def bookmarks(owner: User, cursor: Cursor | None = None) -> tuple[list[FeedPost], int | None, int | None]:
    """Return a page of the owner's bookmarked posts, and the bookmark ids that page on: older, newer.

    The older cursor is None on the last page; the newer one is None on an empty page.
    """
    cursor = cursor or Cursor()
    rows = read_rows(_statement(cursor.shape), {"viewer": owner.id, "subject": owner.id, **cursor.params()})
    found = rows_to_posts(rows)
    marks = [row[FEED_COLUMNS] for row in rows]
    older = marks[-1] if len(rows) >= cursor.limit else None
    return found, older, (marks[0] if marks else None)
