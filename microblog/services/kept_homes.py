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
lower one.  There the watermark is the highest id known to have been handed
out before every transaction still in progress began (Settling): the
statement reads its snapshot's oldest running transaction (xmin) and the
first not yet begun (xmax) and the sequence's last id; a post's transaction
takes its transaction id before the post's (the migration's next_post_id()),
so an id handed out before a snapshot belongs to a transaction below its
xmax.  Posts above the watermark are read again, each time, by the bounded
home query.
"""

from __future__ import annotations

import threading
from collections import deque
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
    String,
    bindparam,
    case,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    update,
)

from microblog.database import db, is_postgresql
from microblog.kept import Kept, kept_in_app
from models import Post, User

KEPT_READERS = 5_000  # a process keeps the newest ids of this many readers' homes, the least recent go first
UNSETTLED = -1  # PostgreSQL: no watermark is known to be settled for a read
SNAPSHOTS_SEEN = 64  # PostgreSQL: a process remembers this many reads' snapshots (Settling)
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
    """PostgreSQL: which post ids are settled, from the snapshots of this process's reads.

    A read's statement gives the oldest transaction its snapshot saw in
    progress (`xmin`; transactions of other databases left out: they write
    no post here) or, with none, the first not yet begun (`xmax`: every
    transaction that had begun is below it), and the sequence's last
    handed-out id.  An id known to have been handed out before a statement
    began (the process's last id read, taken as the statement is sent)
    belongs to a transaction below that statement's xmax: so, pairing them,
    every id up to it is settled for a later read whose xmin has passed that
    xmax.  A read with no transaction in progress (xmin = xmax) settles its
    own pair.  A long transaction that writes keeps later ids unsettled
    while it runs: the kept ids hold, and the posts above them are read
    each time.
    """

    def __init__(self) -> None:
        self._last_id: int | None = None  # the highest id handed out that a finished statement has read
        self._seen: deque[tuple[int, int]] = deque(maxlen=SNAPSHOTS_SEEN)  # (xmax, id handed out before)
        self._lock = threading.Lock()

    def before(self) -> int:
        """Return the highest id known to be handed out: call it before sending the statement.

        The process's first read asks the sequence first, in a statement of its own.
        """
        if self._last_id is None:
            handed = db.session.scalar(select(_HANDED_OUT).select_from(_SEQUENCE)) or 0
            with self._lock:
                self._last_id = max(self._last_id or 0, handed)
        return self._last_id

    def settle(self, before: int, xmin: int, xmax: int, last_id: int) -> int:
        """Return the highest id settled for a read with this snapshot (UNSETTLED: none), and remember it."""
        with self._lock:
            self._seen.append((xmax, before))
            self._last_id = max(self._last_id or 0, last_id)
            return max((handed for seen_xmax, handed in self._seen if seen_xmax <= xmin), default=UNSETTLED)


def _kept() -> Kept[int, Home]:
    return kept_in_app("microblog.kept_homes", KEPT_READERS)


def _settling() -> Settling:
    found = current_app.extensions.get("microblog.settling")
    if found is None:
        found = current_app.extensions.setdefault("microblog.settling", Settling())
    return found


_SEQUENCE = table("posts_id_seq", column("last_value"), column("is_called"))
# The last id the sequence handed out (a sequence restarted has handed out none of its last_value).
_HANDED_OUT = case((_SEQUENCE.c.is_called, _SEQUENCE.c.last_value), else_=_SEQUENCE.c.last_value - 1)
_HANDED_OUT_NOW = select(_HANDED_OUT).select_from(_SEQUENCE).scalar_subquery()
# The oldest transaction in progress as this statement's snapshot was taken, but those seen running in
# another database (pg_stat_activity shows a transaction of another role without its id: it is kept).
_RUNNING_HERE: ColumnElement[Any] = literal_column(
    """(SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
    WHERE NOT EXISTS (SELECT FROM pg_stat_activity AS a
    WHERE a.backend_xid = xid(x) AND a.datname <> current_database()))"""
)


def state_columns(postgresql: bool) -> list[ColumnElement[Any]]:
    """Return the columns of a State, for a statement that binds `subject` (the reader) and `watermark`.

    SQLite gives a new post the next id after the newest: once the newest is
    deleted, its id comes back.  A watermark whose post is no longer the one it
    was (gone, or another written since) says nothing: the query answers again.
    PostgreSQL never hands an id out twice; its columns are the snapshot's and
    the sequence's (Settling).
    """
    version = (
        select(User.home_version).where(User.id == bindparam("subject", type_=Integer)).scalar_subquery()
    )
    if postgresql:
        xmax = cast(cast(func.pg_snapshot_xmax(func.pg_current_snapshot()), String), BigInteger)
        return [version, func.coalesce(_RUNNING_HERE, xmax), xmax, _HANDED_OUT_NOW]
    newest = select(func.max(Post.id)).scalar_subquery()
    return [
        version,
        newest,
        select(Post.created_at).where(Post.id == newest).scalar_subquery(),
        select(Post.created_at).where(Post.id == bindparam("watermark", type_=BigInteger)).scalar_subquery(),
    ]


STATE_COLUMNS = 4  # state_columns()' length, on either database


def state_of(columns: Sequence[Any], before: int) -> State:
    """Return the state in the state_columns() of a row; `before` is before_read(), taken as it was sent."""
    if is_postgresql(db.engine):
        version, xmin, xmax, last_id = columns
        return State(version or 0, _settling().settle(before, xmin, xmax, last_id or 0), None, None)
    version, newest, newest_at, marked_at = columns
    return State(version or 0, newest or 0, newest_at, marked_at)


def before_read() -> int:
    """Return what a read's state needs from before its statement is sent (PostgreSQL: Settling.before)."""
    return _settling().before() if is_postgresql(db.engine) else 0


def kept(user_id: int, limit: int) -> Home | None:
    """Return what this process keeps of a reader's home, if it is enough for a first page of `limit`."""
    home = _kept().get(user_id)
    if home is None or (len(home.ids) < limit and not home.complete):
        return None
    if is_postgresql(db.engine) and _settling().before() - home.watermark > WALK_AT_MOST:
        return None  # the query's top-N per source reads less than a walk of every post since
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
    watermark = max(state.newest, settled)
    if watermark == UNSETTLED:
        return
    _kept().keep(user_id, Home(state.version, watermark, state.newest_at, tuple(ids), complete))


def moved(user_ids: Iterable[int] | Select) -> None:
    """Raise the home_version of these people: posts written earlier join or leave their home timeline.

    Call it in the transaction of the change; `user_ids` may be a select of ids.
    """
    if not isinstance(user_ids, Select):
        user_ids = sorted(set(user_ids))
        if not user_ids:
            return
    db.session.execute(
        update(User).where(User.id.in_(user_ids)).values(home_version=User.home_version + 1),
        execution_options={"synchronize_session": False},
    )
