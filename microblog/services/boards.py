"""Status boards: how a tag or a community is doing, in figures the reader may see.

A board counts the posts of the last `days` local days (the reader's time
zone: their choice in Settings, else the site's, as pages show times), the
most active contributors over those days, the questions asked then that are
still open, and how the followers (a tag's) or members (a community's) grew.
Every count includes only posts the viewer may see (services.visibility): a
member of a private community finds its posts in a tag's figures, anyone
else does not.  A private community's board is for its members only; for
anyone else it does not exist.

Days are counted exactly in the reader's zone, across changes to and from
summer time, with one aggregate query: the database counts posts per slice
of UTC time (an hour; a quarter or a minute for zones whose midnights fall
inside an hour) and the slices are summed into local days here.  The same
statement counts the authors and the open questions of the period, so the
posts of the period are read once, from the first one on: post ids follow
the time posts are made (search.documents.ID_TIME_SLACK), so the walk through
a tag's posts starts at the last post made before the period, not at its first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    text,
    union_all,
)

from microblog.database import db, is_postgresql, read_rows
from microblog.entities import Author, FeedPost
from models import Follow, Post, Tag, TagFollow, User, post_tags
from models.base import UTCDateTime
from search.documents import ID_TIME_SLACK

from . import communities, social, timelines
from .errors import NotFound, ValidationError
from .local_days import Period, reader_zone, slice_of, slice_start
from .timelines import OPEN_QUESTION, author_columns
from .visibility import members_are_listable, post_is_visible

DAYS = 90
MAX_DAYS = 366
CONTRIBUTORS = 5  # the most active, shown by name
QUESTIONS = 3  # the newest open questions, shown as posts

Series = tuple[tuple[date, int], ...]


@dataclass(frozen=True)
class Contributor:
    """An account among the most active in a board's period, and how many posts it wrote there."""

    account: Author
    posts: int


@dataclass(frozen=True)
class Board:
    """A tag's or a community's figures over `days` local days up to `last_day`, as the viewer may see them.

    `posts_per_day` has one entry per day, oldest first; `followers_per_day`
    is how many of today's followers (members) had joined by the end of each
    day: people who have since left are in neither (no history of leaving is
    kept), so the line is how the present following grew, not who followed then.
    """

    zone: str
    posts_per_day: Series
    contributors: tuple[Contributor, ...]
    contributor_count: int
    open_questions: int  # asked in the period and still without an accepted answer
    newest_questions: tuple[FeedPost, ...]  # the newest of those (at most QUESTIONS)
    followers_per_day: Series
    followers_before: int  # of the followers (members), how many joined before the first day

    @property
    def first_day(self) -> date:
        """Return the board's first local day."""
        return self.posts_per_day[0][0]

    @property
    def last_day(self) -> date:
        """Return the board's last local day (today, unless asked otherwise)."""
        return self.posts_per_day[-1][0]

    @property
    def days(self) -> int:
        """Return how many days the board covers."""
        return len(self.posts_per_day)

    @property
    def posts(self) -> int:
        """Return how many posts the viewer may see were written in the period."""
        return sum(count for _, count in self.posts_per_day)

    @property
    def followers(self) -> int:
        """Return how many follow (are members) now, or at the end of the last day."""
        return self.followers_per_day[-1][1]

    @property
    def new_followers(self) -> int:
        """Return how many of the followers (members) joined during the period."""
        return self.followers - self.followers_before


def tag_board(
    viewer: User | None, tag_name: str, *, days: int = DAYS, today: date | None = None
) -> tuple[Tag, Board]:
    """Return a tag and its board as the viewer may see it (NotFound for a tag the viewer cannot know)."""
    tag = social.access_tag(tag_name, viewer)
    subject = _Subject(
        posts=lambda columns: (
            select(*columns)
            .select_from(post_tags)
            .join(Post, Post.id == post_tags.c.post_id)
            .where(post_tags.c.tag_id == _written_in(tag.id))
        ),
        post_id=post_tags.c.post_id,  # the walk goes through post_tags(tag_id, post_id)
        joined=select(TagFollow.created_at).where(TagFollow.tag_id == tag.id),
    )
    return tag, _board(viewer, subject, days, today)


def community_board(
    viewer: User | None, handle: str, *, days: int = DAYS, today: date | None = None
) -> tuple[User, Board]:
    """Return a community and its board (a private community's: for its members only, else NotFound)."""
    community = communities.access_community(handle)
    if not members_are_listable(viewer, community):  # its page tells a non-member only that it is private
        raise NotFound(_("There is no community called @%(handle)s here.", handle=handle))
    subject = _Subject(
        posts=lambda columns: select(*columns).where(Post.community_id == _written_in(community.id)),
        post_id=Post.id,  # through posts(community_id, id)
        joined=select(Follow.created_at).where(Follow.followee_id == community.id),
    )
    return community, _board(viewer, subject, days, today)


@dataclass(frozen=True)
class _Subject:
    """What a board is about: its posts (a select of the given columns) and its followers' (members') rows."""

    posts: Any  # (columns) -> Select over posts (and post_tags), filtered to the subject
    post_id: Any  # the column of post ids the walk through its posts is bounded by
    joined: Select  # created_at of each follower's (member's) row


def check_days(days: Any) -> int:
    """Return how many days a board covers (1 to 366), or raise ValidationError."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(_("A board covers 1 to %(max)s days.", max=MAX_DAYS))
    return days


def _board(viewer: User | None, subject: _Subject, days: int, today: date | None) -> Board:
    period = Period.of(reader_zone(viewer), check_days(days), today)
    with _serial_plans():
        figures = _figures(subject, period, viewer.id if viewer is not None else 0)
    growth, before = _growth(subject.joined, period)
    # The newest open questions as feeds show them (timelines.post_views: the viewer may see them).
    questions = timelines.post_views(figures.open_ids, viewer) if figures.open_ids else {}
    return Board(
        zone=period.zone.key,
        posts_per_day=tuple((day, figures.posts.get(day, 0)) for day in period.days),
        contributors=_contributors(figures.ranked),
        contributor_count=figures.authors,
        open_questions=figures.open_questions,
        newest_questions=tuple(questions[i] for i in figures.open_ids if i in questions),
        followers_per_day=growth,
        followers_before=before,
    )


@dataclass(frozen=True)
class _Figures:
    """What one statement finds in a period's posts."""

    posts: dict[date, int]  # per local day
    open_questions: int
    open_ids: list[int]  # the newest open questions' ids, newest first
    ranked: list[tuple[int, int]]  # (author id, posts) of the most active, most posts first
    authors: int  # how many wrote in the period


@contextmanager
def _serial_plans() -> Iterator[None]:
    """PostgreSQL: plan the statements inside without parallel workers; then as before.

    For a period's posts PostgreSQL starts two workers (it reads some 245,000
    index entries for the busiest tag), which on a machine of 2 busy cores
    made the board slower than one process does it: p50 216 ms against 191,
    over 80 boards each.  The setting is local to the transaction, and set
    back after.
    """
    if not is_postgresql(db.engine):
        yield
        return
    db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    try:
        yield
    finally:
        db.session.execute(text("SET LOCAL max_parallel_workers_per_gather TO DEFAULT"))


def _written_in(value: Any, type_: Any = None) -> ColumnElement[Any]:
    """Return a value written into the statement, not bound: what it is about and when.

    PostgreSQL plans a statement psycopg has prepared (its fifth run on a
    connection) once for any values; for the period's posts that generic plan
    guessed a handful of rows and read 245,000 posts' rows where the plan for
    the values themselves reads an index (850 ms against 340).  With the tag
    or community and the period in its text, a statement is planned for them.
    """
    return literal(value, type_, literal_execute=True)


def _period_posts(subject: _Subject, period: Period, viewer_id: int) -> Any:
    """Return the period's posts that the viewer may see, as a common table expression.

    Its columns: id, slice (of time), author_id, open (1 for a question still
    without an accepted answer).  Both databases materialize it when it is
    used more than once, so the posts are read once.
    """
    before = (
        select(Post.id)
        .where(Post.created_at < _written_in(period.since - ID_TIME_SLACK, UTCDateTime()))
        .order_by(Post.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    after = func.coalesce(before, 0)
    is_open = case((and_(*OPEN_QUESTION), 1), else_=0).label("open")
    slice_ = slice_of(Post.created_at, period.width).label("slice")
    return (
        subject.posts([subject.post_id.label("id"), slice_, Post.author_id, is_open])
        .where(
            # Both sides of a tag's join: PostgreSQL then merges the two id ranges.
            subject.post_id > after,
            Post.id > after,
            Post.created_at >= _written_in(period.since, UTCDateTime()),
            Post.created_at < _written_in(period.until, UTCDateTime()),
            post_is_visible(viewer_id),
        )
        .cte("period_posts")
    )


def _figures(subject: _Subject, period: Period, viewer_id: int) -> _Figures:
    """Return the figures of the period's posts that the viewer may see, read once in one statement.

    From the period's posts come the posts and open questions per slice of
    time, the posts per author (the first few, with how many authors there
    were) and the newest open questions' ids: three parts of one UNION ALL.
    """
    p = _period_posts(subject, period, viewer_id).c
    posts = func.count().label("posts")
    start = slice_start(p.slice, period.width)
    per_slice = select(literal(0).label("part"), start, posts, func.sum(p.open)).group_by(p.slice)
    per_author = (
        select(literal(1), p.author_id, posts, func.count().over())
        .group_by(p.author_id)
        .order_by(posts.desc(), p.author_id)
        .limit(CONTRIBUTORS)
        .subquery("top")
    )
    newest_open = (
        select(literal(2), p.id, literal(0), literal(0))
        .where(p.open == 1)
        .order_by(p.id.desc())
        .limit(QUESTIONS)
    ).subquery("newest")
    rows = db.session.execute(union_all(per_slice, select(per_author), select(newest_open))).all()
    parts: dict[int, list[tuple[int, int, int]]] = {0: [], 1: [], 2: []}
    for part, key, count, extra in rows:
        parts[part].append((key, count, int(extra or 0)))
    return _Figures(
        posts=period.by_day({key: n for key, n, _ in parts[0]}),
        open_questions=sum(extra for _, _, extra in parts[0]),
        open_ids=sorted((key for key, _, _ in parts[2]), reverse=True),
        ranked=[(key, n) for key, n, _ in parts[1]],
        authors=parts[1][0][2] if parts[1] else 0,
    )


def _contributors(ranked: list[tuple[int, int]]) -> tuple[Contributor, ...]:
    """Return the authors of (author id, posts) with their counts, most posts first, ties by account id."""
    if not ranked:
        return ()
    authors = select(*author_columns(User)).where(User.id.in_([author_id for author_id, _ in ranked]))
    found = {row[0]: Author(*row) for row in read_rows(authors, {})}
    return tuple(
        Contributor(found[author_id], n) for author_id, n in sorted(ranked, key=lambda r: (-r[1], r[0]))
    )


def _growth(joined: Select, period: Period) -> tuple[Series, int]:
    """Return how many of today's followers had joined by the end of each day, and how many before the first.

    One statement: joins before the period are counted together (no slice),
    those since, per slice of time.
    """
    created = joined.selected_columns[0]
    slices = joined.with_only_columns(
        case((created < period.since, None), else_=slice_of(created, period.width)).label("slice")
    ).subquery("joins")
    per_slice = select(slice_start(slices.c.slice, period.width), func.count()).group_by(slices.c.slice)
    rows: dict[Any, int] = {start: count for start, count in read_rows(per_slice, {})}
    before = rows.pop(None, 0)
    per_day = period.by_day(rows)
    total, series = before, []
    for day in period.days:
        total += per_day.get(day, 0)
        series.append((day, total))
    return tuple(series), before
