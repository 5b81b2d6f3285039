"""Home timelines kept per process: the newest ids of a reader's home, brought up to date by a small read.

The home query walks the newest posts until it has found a page of the
reader's (their own, whom and which tags they follow, their communities,
mentions, saved searches in home): on SQLite, the fewer of the newest posts
are theirs, the longer (hundreds of ms for someone who follows a few quiet
colleagues, among a million posts).  A process keeps the ids of the first
page it answered per reader, with the newest post id there was (the
watermark) and the reader's `users.home_version`.  The next first page reads
the kept page's posts and, in the same statement, the version and the newest
post id (timelines._kept_first_page); then:
 - nothing more, when no post was written since;
 - when posts were: the home query bounded below by the watermark, which
   walks only those, and their posts; they go on top of the kept ones;
 - the whole query, when the version moved: something put posts written
   before the watermark into the home or took them out.

What moves the version is raised in the same transaction as the change
(`moved`): follows of people, communities and tags, exclusive lists, saved
searches shown in home and their hits, and edits that change a post's tags or
mentions.  Everything else a page shows (texts, counts, images, whether the
reader may still see a post) is read with the page's posts: a kept id whose
post is gone or no longer visible to the reader sends the page to the query.
So a page is exactly what the query would answer, in any process, at the
moment of its read; and what is kept is a few hundred bytes per reader.

This holds where post ids are handed out in commit order: SQLite, whose one
writer at a time takes the next id.  PostgreSQL's sequence hands ids to
transactions that may commit in another order, so a post below the watermark
could still appear: there the query answers every page (its home query
merges a top-N per source and does not walk).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Integer, Select, bindparam, func, select, update

from microblog.database import db, is_postgresql
from microblog.kept import Kept, kept_in_app
from models import Post, User

KEPT_READERS = 5_000  # a process keeps the newest ids of this many readers' homes, the least recent go first


@dataclass(frozen=True, slots=True)
class Home:
    """What a process keeps of a reader's home timeline."""

    version: int  # the reader's home_version when these ids were read
    watermark: int  # the newest post id there was: no older post can join, but through the version
    written_at: datetime | None  # when the watermark's post was written (None: there was none)
    ids: tuple[int, ...]  # the newest of the home, newest first
    complete: bool  # the home holds no more than these


@dataclass(frozen=True, slots=True)
class State:
    """What says whether a kept home still holds, read with the posts (state_columns)."""

    version: int  # the reader's home_version
    newest: int  # the newest post's id (0: none)
    newest_at: datetime | None  # when it was written
    marked_at: datetime | None  # when the kept watermark's post was written (None: gone, or none)

    @classmethod
    def of(cls, columns: Sequence[Any]) -> State:
        """Return the state in the state_columns() of a row."""
        version, newest, newest_at, marked_at = columns
        return cls(version or 0, newest or 0, newest_at, marked_at)


def _kept() -> Kept[int, Home]:
    return kept_in_app("microblog.kept_homes", KEPT_READERS)


def state_columns() -> list[ColumnElement[Any]]:
    """Return the columns of a State, for a statement that binds `subject` (the reader) and `watermark`.

    SQLite gives a new post the next id after the newest: once the newest is
    deleted, its id comes back.  A watermark whose post is no longer the one it
    was (gone, or another written since) says nothing: the query answers again.
    """
    newest = select(func.max(Post.id)).scalar_subquery()
    return [
        select(User.home_version).where(User.id == bindparam("subject", type_=Integer)).scalar_subquery(),
        newest,
        select(Post.created_at).where(Post.id == newest).scalar_subquery(),
        select(Post.created_at).where(Post.id == bindparam("watermark", type_=BigInteger)).scalar_subquery(),
    ]


def applies() -> bool:
    """Return whether kept homes answer here: where post ids are handed out in commit order (SQLite)."""
    return not is_postgresql(db.engine)


def kept(user_id: int, limit: int) -> Home | None:
    """Return what this process keeps of a reader's home, if it is enough for a first page of `limit`."""
    home = _kept().get(user_id)
    if home is None or (len(home.ids) < limit and not home.complete):
        return None
    return home


def only_newer(home: Home, state: State) -> bool:
    """Return whether the kept ids still hold, but for posts written since: no change moved older ones."""
    return state.version == home.version and state.marked_at == home.written_at


def keep(user_id: int, state: State, ids: Sequence[int], *, complete: bool) -> None:
    """Keep a reader's newest home ids, read in the statement (or after the one) that read `state`."""
    _kept().keep(user_id, Home(state.version, state.newest, state.newest_at, tuple(ids), complete))


def moved(user_ids: Iterable[int] | Select) -> None:
    """Raise the home_version of these people: posts written earlier join or leave their home timeline.

    Call it in the transaction of the change; `user_ids` may be a select of ids.
    Where kept homes do not answer (PostgreSQL), nothing reads the version:
    it is left alone, and the change locks no row of its people.
    """
    if not applies():
        return
    if not isinstance(user_ids, Select):
        user_ids = sorted(set(user_ids))
        if not user_ids:
            return
    db.session.execute(
        update(User).where(User.id.in_(user_ids)).values(home_version=User.home_version + 1),
        execution_options={"synchronize_session": False},
    )
