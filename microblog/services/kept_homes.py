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

The watermark must be settled: no post at or below it may still appear.
SQLite writes one transaction at a time, and its newest id is settled.
PostgreSQL's sequence hands ids to transactions that may commit in another
order, so the newest id is not: a transaction still in progress may hold a
lower one.  There the watermark is the highest id known to be settled
before the read's statement was sent (Settling): a transaction writing a
post holds a shared advisory lock from before it takes the post's id until
it ends (the migration's next_post_id()), and a process asks, now and then,
in a statement before a read, for the last id handed out and then whether
that lock is free; if it is, every id up to that one is settled.  Posts
above the watermark are read again, each time, by the bounded home query.
Posts given ids of their own (a bulk import) take them after last_post_id(),
holding the same lock (writing_posts()).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    func,
    null,
    select,
    text,
    update,
)

from microblog.database import db, is_postgresql
from microblog.kept import Kept, in_app, kept_in_app
from models import Post, User

KEPT_READERS = 5_000  # a process keeps the newest ids of this many readers' homes, the least recent go first
UNSETTLED = -1  # PostgreSQL: no watermark is known to be settled for a read
SETTLE_EVERY = 0.05  # PostgreSQL: a process asks which ids are settled at most this often (seconds)
WALK_AT_MOST = 2_000  # PostgreSQL: more posts than this above a kept watermark, and the query answers


@dataclass(frozen=True, slots=True)
class Home:
    """What a process keeps of a reader's home timeline."""

    version: int  # the reader's home_version when these ids were read
    watermark: int  # settled: no post at or below it can join, but through the version
    written_at: datetime | None  # SQLite: when the watermark's post was written (None: there was none)
    ids: tuple[int, ...]  # the newest of the home, newest first
    complete: bool  # the home holds no more than these

    def settled_ids(self) -> list[int]:
        """Return the kept ids at or below the watermark: those above it are read again each time."""
        return [i for i in self.ids if i <= self.watermark]


@dataclass(frozen=True, slots=True)
class State:
    """What says whether a kept home still holds, read with the posts (state_columns)."""

    version: int  # the reader's home_version
    newest: int  # the settled watermark of this read (SQLite: the newest post id; 0: none)
    newest_at: datetime | None  # SQLite: when it was written
    marked_at: datetime | None  # SQLite: when the kept watermark's post was written (None: gone, or none)


class Settling:
    """PostgreSQL: the highest post id that no transaction in progress can still hold, as far as known.

    settled_post_id() (the migration's) answers it, or NULL while a post's
    transaction is in progress, with the last id handed out.  A process asks
    at most every SETTLE_EVERY seconds, as a read needs it, in a statement
    of the read's own transaction (READ COMMITTED: the read that follows
    takes a later snapshot); any read sent after the answer may use it.
    While posts are being written without a pause, the watermark waits for one.
    """

    def __init__(self) -> None:
        self.settled = UNSETTLED  # the highest id known to be settled
        self.handed = 0  # the last id handed out, when it was last asked
        self._asked_at = float("-inf")
        self._asking = False
        self._lock = threading.Lock()

    def ask(self) -> int:
        """Return the highest id settled before now (UNSETTLED: none known), asking when it is time."""
        now = time.monotonic()
        if now - self._asked_at < SETTLE_EVERY or self._asking:
            return self.settled
        self._asked_at, self._asking = now, True  # one question at a time: an answer never goes back
        try:
            settled, handed = db.session.execute(_SETTLED).one()
        finally:
            self._asking = False
        with self._lock:
            if handed < self.handed:  # the sequence went back (restarted, or a restore): ids come again
                _kept_homes_forgotten()
                self.settled = UNSETTLED
            self.handed = handed
            if settled is not None:
                self.settled = settled
        return self.settled


_KEPT = "microblog.kept_homes"  # the current application's kept homes (a Kept), by reader


def _kept_homes_forgotten() -> None:
    current_app.extensions.pop(_KEPT, None)


def _kept() -> Kept[int, Home]:
    return kept_in_app(_KEPT, KEPT_READERS)


def _settling() -> Settling:
    return in_app("microblog.settling", Settling)


_SETTLED = text("SELECT settled, handed FROM settled_post_id()")
WRITING_POSTS = 0x706F737473  # the advisory lock of next_post_id() (migration c7e3a9d5f2b8)
# As next_post_id(): the lock, and a transaction id (a transaction that holds the lock never asks).
_WRITING = text("SELECT pg_advisory_xact_lock_shared(:key), pg_current_xact_id()")


def last_post_id() -> int:
    """Return the last post id there is, or that was handed out (PostgreSQL): posts given their own ids
    (a bulk import) take the ones after it, above every watermark kept so far."""
    newest = db.session.scalar(select(func.coalesce(func.max(Post.id), 0))) or 0
    if not is_postgresql(db.engine):
        return newest
    return max(newest, db.session.execute(_SETTLED).one().handed or 0)


def writing_posts() -> None:
    """Hold, for the rest of the transaction, what a post's id default holds (PostgreSQL), for posts
    inserted with ids of their own: no id is settled until the transaction ends."""
    if is_postgresql(db.engine):
        db.session.execute(_WRITING, {"key": WRITING_POSTS})


def state_columns(postgresql: bool) -> list[ColumnElement[Any]]:
    """Return the columns of a State, for a statement that binds `subject` (the reader) and `watermark`.

    SQLite gives a new post the next id after the newest: once the newest is
    deleted, its id comes back.  A watermark whose post is no longer the one it
    was (gone, or another written since) says nothing: the query answers again.
    PostgreSQL never hands an id out twice, and its watermark is Settling's,
    known before the read: the version is all it reads.
    """
    version = (
        select(User.home_version).where(User.id == bindparam("subject", type_=Integer)).scalar_subquery()
    )
    if postgresql:  # only the version: the watermark is Settling's, known before the read
        return [version, null(), null(), null()]
    newest = select(func.max(Post.id)).scalar_subquery()
    return [
        version,
        newest,
        select(Post.created_at).where(Post.id == newest).scalar_subquery(),
        select(Post.created_at).where(Post.id == bindparam("watermark", type_=BigInteger)).scalar_subquery(),
    ]


STATE_COLUMNS = 4  # state_columns()' length, on either database


def state_of(columns: Sequence[Any], before: int) -> State:
    """Return the state in the state_columns() of a row; `before` is before_read(), taken before the read."""
    version, newest, newest_at, marked_at = columns
    if is_postgresql(db.engine):
        return State(version or 0, before, None, None)
    return State(version or 0, newest or 0, newest_at, marked_at)


def before_read() -> int:
    """Return what a read's state needs from before its statement is sent (PostgreSQL: the settled id)."""
    return _settling().ask() if is_postgresql(db.engine) else 0


def kept(user_id: int, limit: int) -> Home | None:
    """Return what this process keeps of a reader's home, if it is enough for a first page of `limit`."""
    home = _kept().get(user_id)
    if home is None or (len(home.ids) < limit and not home.complete):
        return None
    if is_postgresql(db.engine):
        behind = _settling().handed - home.watermark
        if behind > WALK_AT_MOST:
            return None  # the query's top-N per source reads less than a walk of every post since
        if behind < 0:
            return None  # kept before the sequence went back (a restart, a restore)
    return home


def only_newer(home: Home, state: State) -> bool:
    """Return whether the kept ids still hold, but for posts written since: no change moved older ones."""
    return state.version == home.version and state.marked_at == home.written_at


def keep(user_id: int, state: State, ids: Sequence[int], *, complete: bool, settled: int = UNSETTLED) -> None:
    """Keep a reader's newest home ids, read in the statement (or after the one) that read `state`.

    `settled` is a watermark settled by an earlier read, which stays so: the
    higher of it and this read's is kept.  Without a settled watermark
    (PostgreSQL: none known yet) nothing is kept.
    """
    if is_postgresql(db.engine) and (settled > state.newest or state.newest > _settling().handed):
        return  # from before the sequence went back (a restart, a restore): it says nothing now
    watermark = max(state.newest, settled)
    if watermark == UNSETTLED:
        return
    _kept().keep(user_id, Home(state.version, watermark, state.newest_at, tuple(ids), complete))


def moved(user_ids: Iterable[int] | Select) -> None:
    """Raise the home_version of these people: posts written earlier join or leave their home timeline.

    Call it in the transaction of the change; `user_ids` may be a select of ids.
    Their rows are updated in the order of their ids, in every transaction:
    two changes that move the same people (two edits retagging a post with a
    popular tag) wait for each other rather than deadlock.
    """
    if isinstance(user_ids, Select):
        user_ids = db.session.scalars(user_ids)
    user_ids = sorted(set(user_ids))
    if not user_ids:
        return
    db.session.execute(
        update(User).where(User.id.in_(user_ids)).values(home_version=User.home_version + 1),
        execution_options={"synchronize_session": False},
    )
