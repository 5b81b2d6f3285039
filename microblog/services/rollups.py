"""The dashboard's rollups, kept current as posts and likes are written (models.rollups, daily_activity).

services.posts counts each post as it is written (count_post), takes its
counts back when it is deleted (uncount_post), and counts each like
(count_like), in the transaction that writes them: the dashboard reads
figures as fresh as the posts.  The upserts add to a row per day and cell,
so each post costs a few statements whatever the size of the company, and
they run last, just before the commit, so that a row is held briefly.

What a person did on a day (posted, engaged) is a flag that stays set: a
post deleted or a like taken back later does not undo that they posted or
liked that day.  Counts of posts, tags and who talks to whom go down again.

rebuild() computes everything again from the posts, likes, tags and mentions:
after a bulk import (`demo seed`), a change of MICROBLOG_TIMEZONE (the days
move), or to check the incremental counts (tests compare the two).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Connection, delete, event, func, inspect, select, union, update
from sqlalchemy.orm import Session, aliased

from microblog.database import db, upsert_into, upsert_text
from models import (
    DailyActivity,
    FirstReply,
    Like,
    Post,
    PostDay,
    TagDay,
    TalkDay,
    User,
    mentions,
    post_tags,
    utcnow,
)
from models.daily_activity import ENGAGED, ENGAGED_PUBLIC, POSTED, POSTED_PUBLIC, READ
from models.post import PUBLIC
from models.rollups import COMPANY_CELL
from models.user import PERSON

from .dashboard_sql import writer

Cell = tuple[str, int]  # (department, community id): see models.rollups


@dataclass(frozen=True)
class Person:
    """Who wrote, was replied to, or was addressed: their id, whether a person, and their department."""

    id: int
    person: bool
    department: str


@dataclass(frozen=True)
class Written:
    """What the rollups need of one post."""

    day: date
    writer: Person
    community_id: int  # 0: in no community
    public: bool
    replied_to: Person | None  # the writer of the post it replies to
    tag_ids: tuple[int, ...]
    addressed: tuple[Person, ...]  # its mentions' rows: the people it addresses

    def cells(self, *departments: str, every: bool = False) -> list[Cell]:
        """Return the cells a count of this post goes to.

        Its community's, if in one; if public, the company's and the
        departments'; if not, the company's only when it counts `every` post.
        """
        cells = [COMPANY_CELL] if self.public or every else []
        if self.public:
            cells += [(d, 0) for d in dict.fromkeys(departments) if d]
        return cells + ([("", self.community_id)] if self.community_id else [])


class Sums:
    """Counts to add, by table and key; flags to set, by (person, day, community)."""

    def __init__(self, *, flags: bool = True) -> None:
        self.flags = flags  # whether counting a post sets its writer's flags
        self.posts: Counter[tuple[Any, ...]] = Counter()
        self.replies: Counter[tuple[Any, ...]] = Counter()
        self.tags: Counter[tuple[Any, ...]] = Counter()
        self.talk: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
        self.did: dict[tuple[int, date, int], int] = defaultdict(int)

    def add_post(self, post: Written, change: int) -> None:
        """Count a post (change +1) or take its counts back (-1); set its writer's flags when counting."""
        reply = post.replied_to is not None
        posted_in = post.cells(post.writer.department, every=True)
        if post.public and post.community_id and post.writer.department:  # top communities, by department
            posted_in.append((post.writer.department, post.community_id))
        for department, community in posted_in:
            key = (department, community, post.day, post.public)
            self.posts[key] += change
            self.replies[key] += change * reply
        for department, community in post.cells(post.writer.department):
            for tag_id in post.tag_ids:
                self.tags[(department, community, post.day, tag_id)] += change
        said = [(post.replied_to, 0)] if post.replied_to is not None else []
        for target, kind in [*said, *((a, 1) for a in post.addressed)]:
            if not (post.writer.person and target.person) or target.id == post.writer.id:
                continue
            pair = (post.writer.department, target.department)
            for department, community in post.cells(*pair):
                self.talk[(department, community, post.day, *pair)][kind] += change
        if change > 0 and self.flags:
            self.did[(post.writer.id, post.day, 0)] |= (
                POSTED
                | (ENGAGED if reply else 0)
                | ((POSTED_PUBLIC | (ENGAGED_PUBLIC if reply else 0)) * post.public)
            )
            if post.community_id:
                self.did[(post.writer.id, post.day, post.community_id)] |= POSTED | (ENGAGED if reply else 0)

    def add_like(self, user_id: int, day: date, community_id: int, public: bool) -> None:
        """Set the flags of a like: engaged, in the company and in the liked post's community."""
        self.did[(user_id, day, 0)] |= ENGAGED | (ENGAGED_PUBLIC if public else 0)
        if community_id:
            self.did[(user_id, day, community_id)] |= ENGAGED

    def write(self, connection: Any) -> None:
        """Add the counts and set the flags (connection: the session, or a Connection)."""
        _add(
            connection,
            PostDay,
            ("posts", "replies"),
            [
                {**_cell_key(key, "public"), "posts": n, "replies": self.replies[key]}
                for key, n in self.posts.items()
                if n or self.replies[key]
            ],
        )
        _add(
            connection,
            TagDay,
            ("posts",),
            [{**_cell_key(key, "tag_id"), "posts": n} for key, n in self.tags.items() if n],
        )
        _add(
            connection,
            TalkDay,
            ("replies", "mentions"),
            [
                {**_cell_key(key, "source", "target"), "replies": r, "mentions": m}
                for key, (r, m) in self.talk.items()
                if r or m
            ],
        )
        set_flags(
            connection,
            [
                {"user_id": user_id, "day": day, "community_id": community, "did": did}
                for (user_id, day, community), did in self.did.items()
            ],
        )


def _cell_key(key: tuple[Any, ...], *more: str) -> dict[str, Any]:
    return dict(zip(("department", "community_id", "day", *more), key, strict=True))


def _add(connection: Any, model: Any, counts: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Add rows' counts to the rows of the same key (inserting those missing), in one statement."""
    if rows:
        _run(connection, _adding(model, counts), rows)


@cache
def _adding(model: Any, counts: tuple[str, ...]) -> Any:
    """Return the upsert that adds counts to a rollup's rows: built once per table (the same SQL on both)."""
    table = model.__table__
    keys = [c.name for c in table.primary_key.columns]
    added = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in counts)
    return upsert_text(table, keys, counts, added)


def set_flags(connection: Any, rows: list[dict[str, Any]]) -> None:
    """Set flags of daily_activity rows (inserting those missing); a row that has them is not written."""
    if rows:
        _run(connection, _flagging(), rows)


@cache
def _flagging() -> Any:
    return upsert_text(
        DailyActivity.__table__,
        ["user_id", "day", "community_id"],
        ["did"],
        "did = daily_activity.did | excluded.did",
        where="daily_activity.did & excluded.did != excluded.did",
    )


def _run(connection: Any, stmt: Any, rows: list[dict[str, Any]]) -> None:
    """Run an upsert of plain rows: on the session's connection, not through the ORM's bulk insert."""
    if isinstance(connection, Session) or connection is db.session:
        connection.flush()
        connection = connection.connection()
    connection.execute(stmt, rows)


# -- as posts and likes are written --------------------------------------------------


def site_zone() -> ZoneInfo:
    """Return the site's time zone, the one rollup days are local to."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def person(user: User) -> Person:
    """Return what the rollups keep of an account."""
    return Person(user.id, user.kind == PERSON, user.department or "")


def written(
    post: Post, writer_: User, *, replied_to: User | None, tag_ids: Iterable[int], addressed: Iterable[User]
) -> Written:
    """Return what the rollups need of a post: its writer, whom it replies to, its tags and addressees."""
    return Written(
        day=post.created_at.astimezone(site_zone()).date(),
        writer=person(writer_),
        community_id=post.community_id or 0,
        public=post.visibility == PUBLIC,
        replied_to=person(replied_to) if replied_to is not None else None,
        tag_ids=tuple(tag_ids),
        addressed=tuple(person(u) for u in addressed),
    )


def count_post(post: Written) -> None:
    """Count a new post, in the session's transaction."""
    sums = Sums()
    sums.add_post(post, +1)
    sums.write(db.session)


def count_reply(
    reply: Post, writer_id: int, parent: Post, parent_writer: User, *, detached: bool = False
) -> None:
    """Note the first reply by someone else to a post that starts a thread (the replied share).

    `detached`: the parent is a reply whose own post is being deleted, and starts a thread from now on.
    """
    if (parent.in_reply_to_id is not None and not detached) or writer_id == parent_writer.id:
        return
    stmt = upsert_into(FirstReply).values(
        post_id=parent.id,
        posted_at=parent.created_at,
        department=parent_writer.department or "",
        community_id=parent.community_id or 0,
        public=parent.visibility == PUBLIC,
        seconds=(reply.created_at - parent.created_at).total_seconds(),
    )
    db.session.execute(stmt.on_conflict_do_nothing(index_elements=["post_id"]))


def _uncount_reply(reply: Post, parent: Post, parent_writer: User) -> None:
    """Before a reply is deleted: if it was its post's first, the next one (if any) becomes the first."""
    if parent.in_reply_to_id is not None:
        return
    db.session.execute(delete(FirstReply).where(FirstReply.post_id == parent.id))
    first = _first_reply(parent, parent_writer, but=reply.id)
    if first is not None:
        count_reply(first, first.posted_by_id or first.author_id, parent, parent_writer)


def _first_reply(post: Post, post_writer: User, *, but: int | None = None) -> Post | None:
    """Return the first reply to a post by someone other than its writer (but the one being deleted)."""
    found = select(Post).where(Post.in_reply_to_id == post.id, writer() != post_writer.id)
    if but is not None:
        found = found.where(Post.id != but)
    return db.session.scalars(found.order_by(Post.created_at, Post.id).limit(1)).first()


def uncount_post(post: Post) -> None:
    """Take a post's counts back before it is deleted, in the session's transaction.

    Its replies stay, detached (services.posts.delete_post): from now on they
    count as posts that start a thread, and their own first replies count.
    """
    writer_ = _writer_of(post)
    replied_to = None
    if post.in_reply_to_id is not None:
        parent = db.session.get(Post, post.in_reply_to_id)
        if parent is not None:
            replied_to = _writer_of(parent)
            _uncount_reply(post, parent, replied_to)
    sums = Sums()
    sums.add_post(_written_of(post, writer_, replied_to), -1)
    for reply in db.session.scalars(select(Post).where(Post.in_reply_to_id == post.id)):
        reply_writer = _writer_of(reply)
        detached = _written_of(reply, reply_writer, writer_)
        sums.add_post(detached, -1)
        sums.add_post(replace(detached, replied_to=None), +1)
        first = _first_reply(reply, reply_writer)
        if first is not None:
            count_reply(first, first.posted_by_id or first.author_id, reply, reply_writer, detached=True)
    sums.write(db.session)


def as_written(post: Post) -> Written:
    """Return what the rollups count of a post as it is now (its tags and addressees as stored)."""
    parent = db.session.get(Post, post.in_reply_to_id) if post.in_reply_to_id is not None else None
    return _written_of(post, _writer_of(post), _writer_of(parent) if parent is not None else None)


def recount(before: Written, after: Written) -> None:
    """Count an edited post as it is now, not as it was (its tags and addressees), in its transaction."""
    sums = Sums(flags=False)
    sums.add_post(before, -1)
    sums.add_post(after, +1)
    sums.write(db.session)


def _writer_of(post: Post) -> User:
    return db.session.get_one(User, post.posted_by_id or post.author_id)


def _written_of(post: Post, writer_: User, replied_to: User | None) -> Written:
    tag_ids = db.session.scalars(select(post_tags.c.tag_id).where(post_tags.c.post_id == post.id))
    addressed = db.session.scalars(
        select(User).join(mentions, mentions.c.user_id == User.id).where(mentions.c.post_id == post.id)
    )
    return written(post, writer_, replied_to=replied_to, tag_ids=tag_ids, addressed=list(addressed))


def count_like(user_id: int, post: Post) -> None:
    """Count a like (that the person engaged today), in the session's transaction."""
    sums = Sums()
    day = utcnow().astimezone(site_zone()).date()
    sums.add_like(user_id, day, post.community_id or 0, post.visibility == PUBLIC)
    sums.write(db.session)


# -- everything again ------------------------------------------------------------------


class _Days:
    """The local day of UTC moments, remembered per quarter hour (every zone's offset is a whole one)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self.known: dict[datetime, date] = {}

    def __call__(self, moment: datetime) -> date:
        quarter = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
        day = self.known.get(quarter)
        if day is None:
            day = self.known[quarter] = quarter.astimezone(self.zone).date()
        return day


def rebuild(connection: Connection, zone: ZoneInfo) -> None:
    """Compute every rollup again from the posts, likes, tags and mentions (reading days are kept).

    Runs in the connection's transaction; the caller commits.
    """
    people = _people(connection)
    day_of = _Days(zone)
    sums = Sums()
    for user_id, day, community_id in connection.execute(
        select(DailyActivity.user_id, DailyActivity.day, DailyActivity.community_id).where(
            DailyActivity.did.op("&")(READ) != 0
        )
    ):
        sums.did[(user_id, day, community_id)] |= READ
    _add_posts(connection, sums, people, day_of, None, +1)
    likes = select(Like.user_id, Like.created_at, Post.community_id, Post.visibility).join(
        Post, Post.id == Like.post_id
    )
    for user_id, created_at, community_id, visibility in connection.execute(likes):
        sums.add_like(user_id, day_of(created_at), community_id or 0, visibility == PUBLIC)
    for model in (PostDay, TagDay, TalkDay, FirstReply):
        connection.execute(delete(model))
    connection.execute(delete(DailyActivity).where(DailyActivity.community_id != 0))
    connection.execute(update(DailyActivity).values(did=DailyActivity.did.op("&")(READ)))
    connection.execute(delete(DailyActivity).where(DailyActivity.did == 0))
    sums.write(connection)
    _rebuild_first_replies(connection, people)


def _people(connection: Connection) -> dict[int, Person]:
    """Return every account as the rollups count it, by id."""
    rows = connection.execute(select(User.id, User.kind, User.department))
    return {id_: Person(id_, kind == PERSON, department or "") for id_, kind, department in rows}


def _add_posts(
    connection: Connection,
    sums: Sums,
    people: dict[int, Person],
    day_of: _Days,
    ids: Any,
    change: int,
) -> None:
    """Add (change +1) or take back (-1) the counts of posts: every post, or those whose ids `ids` selects."""

    def only(stmt: Any, column: Any) -> Any:
        return stmt if ids is None else stmt.where(column.in_(ids))

    tags: dict[int, list[int]] = defaultdict(list)
    for post_id, tag_id in connection.execute(
        only(select(post_tags.c.post_id, post_tags.c.tag_id), post_tags.c.post_id)
    ):
        tags[post_id].append(tag_id)
    addressed: dict[int, list[Person]] = defaultdict(list)
    for post_id, user_id in connection.execute(
        only(select(mentions.c.post_id, mentions.c.user_id), mentions.c.post_id)
    ):
        addressed[post_id].append(people[user_id])
    parent = aliased(Post, name="parent")
    posts = only(
        select(Post.id, Post.created_at, writer(Post), Post.community_id, Post.visibility, writer(parent))
        .outerjoin(parent, parent.id == Post.in_reply_to_id)
        .execution_options(yield_per=10_000),
        Post.id,
    )
    for post_id, created_at, writer_id, community_id, visibility, replied_id in connection.execute(posts):
        sums.add_post(
            Written(
                day=day_of(created_at),
                writer=people[writer_id],
                community_id=community_id or 0,
                public=visibility == PUBLIC,
                replied_to=people[replied_id] if replied_id is not None else None,
                tag_ids=tuple(tags.pop(post_id, ())),
                addressed=tuple(addressed.pop(post_id, ())),
            ),
            change,
        )


# -- a person moves to another department -----------------------------------------------


def move_departments(connection: Connection, moves: dict[int, tuple[str, str]], zone: ZoneInfo) -> None:
    """Move people's counts from their old departments' cells to their new ones' (moves: id -> (old, new)).

    A department's figures are its present people's, as if they had always
    been in it: what they wrote, and what others said to them, moves with
    them (and a department they leave keeps nothing of theirs to single them
    out by).  The company's and the communities' counts do not change.
    Everyone moving at once is moved together: a reply from one to another
    is taken back as it was counted and counted again as it is now.
    """
    people = _people(connection)
    theirs = select(Post.id).where(writer().in_(list(moves)))
    touched = union(
        theirs,
        select(Post.id).where(Post.in_reply_to_id.in_(theirs)),
        select(mentions.c.post_id).where(mentions.c.user_id.in_(list(moves))),
    ).subquery()
    ids = select(touched.c[0])
    before = {**people, **{uid: replace(people[uid], department=old) for uid, (old, _) in moves.items()}}
    after = {**people, **{uid: replace(people[uid], department=new) for uid, (_, new) in moves.items()}}
    sums = Sums(flags=False)
    day_of = _Days(zone)
    _add_posts(connection, sums, before, day_of, ids, -1)
    _add_posts(connection, sums, after, day_of, ids, +1)
    sums.write(connection)
    for uid, (_, new) in moves.items():
        connection.execute(
            update(FirstReply)
            .where(FirstReply.post_id.in_(select(Post.id).where(writer() == uid)))
            .values(department=new)
        )


@event.listens_for(Session, "before_flush")
def _departments_changed(session: Session, _context: Any, _instances: Any) -> None:
    """Move the counts of the people whose department is about to change (profile, directory sync)."""
    changed = {
        user.id: user.department or ""
        for user in session.dirty
        if isinstance(user, User) and inspect(user).attrs.department.history.added
    }
    if not changed:
        return
    # What the database holds is what was counted (the old value may not be loaded: an expired object).
    stored = session.connection().execute(select(User.id, User.department).where(User.id.in_(list(changed))))
    moves = {uid: (old or "", changed[uid]) for uid, old in stored if (old or "") != changed[uid]}
    if moves:
        move_departments(session.connection(), moves, site_zone())


def _rebuild_first_replies(connection: Connection, people: dict[int, Person]) -> None:
    """Note again, for every post that starts a thread, the first reply someone else wrote to it."""
    reply = aliased(Post, name="reply")
    firsts = (
        select(
            Post.id,
            Post.created_at,
            writer(Post),
            Post.community_id,
            Post.visibility,
            func.min(reply.created_at),
        )
        .join(reply, reply.in_reply_to_id == Post.id)
        .where(Post.in_reply_to_id.is_(None), writer(reply) != writer(Post))
        .group_by(Post.id, Post.created_at, writer(Post), Post.community_id, Post.visibility)
    )
    rows = [
        {
            "post_id": post_id,
            "posted_at": posted,
            "department": people[writer_id].department,
            "community_id": community_id or 0,
            "public": visibility == PUBLIC,
            "seconds": (replied - posted).total_seconds(),
        }
        for post_id, posted, writer_id, community_id, visibility, replied in connection.execute(firsts)
    ]
    if rows:
        connection.execute(upsert_into(FirstReply), rows)


def rebuild_all() -> None:
    """Rebuild every rollup in the app's database (see rebuild), and commit."""
    db.session.commit()
    with db.engine.begin() as connection:
        rebuild(connection, site_zone())
