"""Status boards: how a tag or a community is doing, in figures the reader may see.

A board counts the posts of the last `days` local days (the reader's time
zone: their choice in Settings, else the site's, as pages show times), the
most active contributors over those days, the questions asked then that are
still open, and how the followers (a tag's) or members (a community's) grew.  Every count includes
only posts the viewer may see (services.visibility): a member of a private
community finds its posts in a tag's figures, anyone else does not.  A private
community's board is for its members only; for anyone else it does not exist.

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

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Integer, Select, and_, case, func, literal, select, union_all

from microblog import language
from microblog.database import db, is_postgresql, read_rows
from microblog.entities import Author, FeedPost
from models import Follow, Post, Tag, TagFollow, User, post_tags
from search.documents import ID_TIME_SLACK

from . import communities, social, timelines
from .errors import NotFound, ValidationError
from .timelines import OPEN_QUESTION, Cursor, author_columns
from .visibility import members_are_listable, post_is_visible

DAYS = 90
MAX_DAYS = 366
CONTRIBUTORS = 5  # the most active, shown by name
QUESTIONS = 3  # the newest open questions, shown as posts
_SLICES = (3600, 900, 60)  # seconds of UTC time the database counts by: the longest that fits the zone

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
            .where(post_tags.c.tag_id == tag.id)
        ),
        post_id=post_tags.c.post_id,  # the walk goes through post_tags(tag_id, post_id)
        joined=select(TagFollow.created_at).where(TagFollow.tag_id == tag.id),
        questions=lambda: timelines.unanswered_questions(viewer, Cursor(limit=QUESTIONS), tag=tag),
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
        posts=lambda columns: select(*columns).where(Post.community_id == community.id),
        post_id=Post.id,  # through posts(community_id, id)
        joined=select(Follow.created_at).where(Follow.followee_id == community.id),
        questions=lambda: timelines.unanswered_questions(
            viewer, Cursor(limit=QUESTIONS), community=community
        ),
    )
    return community, _board(viewer, subject, days, today)


@dataclass(frozen=True)
class _Subject:
    """What a board is about: its posts (a select of the given columns), its joins, its open questions."""

    posts: Any  # (columns) -> Select over posts (and post_tags), filtered to the subject
    post_id: Any  # the column of post ids the walk through its posts is bounded by
    joined: Select  # created_at of each follower's (member's) row
    questions: Any  # () -> timelines.Page of its open questions, newest first


def reader_zone(viewer: User | None) -> ZoneInfo:
    """Return the time zone whose days a board counts: the viewer's choice, else the site's."""
    chosen = viewer.timezone if viewer is not None else None
    if chosen and chosen in language.time_zones():
        return ZoneInfo(chosen)
    return ZoneInfo(current_app.config["TIMEZONE"])


def check_days(days: Any) -> int:
    """Return how many days a board covers (1 to 366), or raise ValidationError."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(_("A board covers 1 to %(max)s days.", max=MAX_DAYS))
    return days


@dataclass(frozen=True)
class _Period:
    """The local days a board covers, when they start and end in UTC, and the slice of time that fits them."""

    zone: ZoneInfo
    days: list[date]
    since: datetime
    until: datetime
    width: int  # seconds: every local midnight of the period is a multiple of it since 1970

    @classmethod
    def of(cls, zone: ZoneInfo, days: int, today: date | None) -> _Period:
        last = today or datetime.now(zone).date()
        window = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
        starts = [_midnight(day, zone) for day in [*window, last + timedelta(days=1)]]
        width = next(s for s in _SLICES if all(int(m.timestamp()) % s == 0 for m in starts))
        return cls(zone, window, starts[0], starts[-1], width)

    def by_day(self, slices: dict[int, int]) -> dict[date, int]:
        """Return counts per slice of UTC time summed into the local days the slices fall in."""
        days: dict[date, int] = {}
        for start, count in slices.items():
            day = datetime.fromtimestamp(start * self.width, UTC).astimezone(self.zone).date()
            days[day] = days.get(day, 0) + count
        return days


def _board(viewer: User | None, subject: _Subject, days: int, today: date | None) -> Board:
    period = _Period.of(reader_zone(viewer), check_days(days), today)
    posts, open_questions, top, authors = _figures(subject, period, viewer.id if viewer is not None else 0)
    growth, before = _growth(subject.joined, period)
    newest = [q for q in subject.questions().posts if period.since <= q.created_at < period.until]
    return Board(
        zone=period.zone.key,
        posts_per_day=tuple((day, posts.get(day, 0)) for day in period.days),
        contributors=top,
        contributor_count=authors,
        open_questions=open_questions,
        newest_questions=tuple(newest),
        followers_per_day=growth,
        followers_before=before,
    )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """Return when a local day starts, in UTC.

    A midnight that is skipped (summer time starting at 00:00) reads, with
    fold=0, in the offset before the change: the instant of the change, the
    day's first moment; a midnight that happens twice is its first time.
    """
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _slice(moment: Any, width: int) -> ColumnElement[int]:
    """Return the SQL for the slice of UTC time a moment falls in: whole seconds since 1970 // width."""
    if is_postgresql(db.engine):
        return func.div(func.extract("epoch", moment), literal(width, literal_execute=True)).cast(Integer)
    return func.unixepoch(moment, type_=Integer).op("/")(literal(width, literal_execute=True))


def _figures(
    subject: _Subject, period: _Period, viewer_id: int
) -> tuple[dict[date, int], int, tuple[Contributor, ...], int]:
    """Return the period's posts per day, its open questions, its most active authors, and how many wrote.

    One statement reads the period's posts the viewer may see once (a common
    table expression, which both databases materialize when it is used twice):
    counts and open questions per slice of time, then posts per author, the
    first few, with how many authors there were.  A second loads those authors.
    """
    before = (
        select(Post.id)
        .where(Post.created_at < period.since - ID_TIME_SLACK)
        .order_by(Post.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    is_open = case((and_(*OPEN_QUESTION), 1), else_=0)
    period_posts = (
        subject.posts(
            [_slice(Post.created_at, period.width).label("slice"), Post.author_id, is_open.label("open")]
        )
        .where(
            subject.post_id > func.coalesce(before, 0),
            Post.created_at >= period.since,
            Post.created_at < period.until,
            post_is_visible(viewer_id),
        )
        .cte("period_posts")
    )
    posts = func.count().label("posts")
    per_slice = select(
        literal(0).label("part"), period_posts.c.slice.label("key"), posts, func.sum(period_posts.c.open)
    )
    per_author = (
        select(literal(1), period_posts.c.author_id, posts, func.count().over())
        .group_by(period_posts.c.author_id)
        .order_by(posts.desc(), period_posts.c.author_id)
        .limit(CONTRIBUTORS)
        .subquery("top")
    )
    rows = read_rows(union_all(per_slice.group_by(period_posts.c.slice), select(per_author)), {})
    slices = {key: n for part, key, n, _ in rows if part == 0}
    open_questions = sum(int(extra or 0) for part, _, _, extra in rows if part == 0)
    ranked = [(key, n, extra) for part, key, n, extra in rows if part == 1]
    top = _authors([(author_id, n) for author_id, n, _ in ranked])
    return period.by_day(slices), open_questions, top, (ranked[0][2] if ranked else 0)


def _authors(ranked: list[tuple[int, int]]) -> tuple[Contributor, ...]:
    """Return the authors of (author id, posts), most posts first, ties by who came first (id)."""
    if not ranked:
        return ()
    found = {
        row[0]: Author(*row)
        for row in read_rows(select(*author_columns(User)).where(User.id.in_([a for a, _ in ranked])), {})
    }
    return tuple(
        Contributor(found[author_id], n) for author_id, n in sorted(ranked, key=lambda r: (-r[1], r[0]))
    )


def _growth(joined: Select, period: _Period) -> tuple[Series, int]:
    """Return how many of today's followers had joined by the end of each day, and how many before the first.

    One statement: joins before the period are counted together (slice -1),
    those since, per slice of time.
    """
    created = joined.selected_columns[0]
    slice_ = case((created < period.since, -1), else_=_slice(created, period.width)).label("slice")
    rows = dict(read_rows(joined.with_only_columns(slice_, func.count()).group_by(slice_), {}))
    before = rows.pop(-1, 0)
    per_day = period.by_day(rows)
    total, series = before, []
    for day in period.days:
        total += per_day.get(day, 0)
        series.append((day, total))
    return tuple(series), before
