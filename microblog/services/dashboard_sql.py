"""The dashboard's building blocks: periods cut into the site's days and weeks, scopes, and SQL helpers.

A period runs from one local day to another, both included, in the site's
time zone (MICROBLOG_TIMEZONE), the zone daily_activity's days are in.  Its
days and weeks are buckets with their UTC bounds computed here (so a day is
23 or 25 hours long across a change of summer time) and handed to the
database as a small derived table: every measure is then one statement
that joins its rows to the buckets by a range, which each database answers
with an index range scan per bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    Subquery,
    and_,
    cast,
    func,
    literal,
    select,
    union_all,
)

from microblog.database import db, is_postgresql
from models import Follow, Post, User
from models.base import UTCDateTime
from models.daily_activity import ENGAGED, ENGAGED_PUBLIC, POSTED, POSTED_PUBLIC, READ
from models.user import PERSON

from .errors import ValidationError
from .visibility import post_is_public

DEFAULT_DAYS = 28
MAX_DAYS = 366  # a year, leap or not: a longer period is refused, never cut short without a word
EARLIEST = date(2000, 1, 1)
WEEK = 7
TOTAL = -1  # the bucket number of the whole period, beside its weeks


@dataclass(frozen=True)
class Bucket:
    """Some consecutive local days (first..last, both included) and their UTC bounds [lo, hi)."""

    first: date
    last: date
    lo: datetime
    hi: datetime

    @property
    def days(self) -> int:
        """Return how many days the bucket holds."""
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class Period:
    """The days a dashboard covers: first to last, both included, local to the site."""

    first: date
    last: date

    @property
    def days(self) -> int:
        """Return how many days the period holds."""
        return (self.last - self.first).days + 1

    def day_buckets(self) -> list[Bucket]:
        """Return one bucket per day of the period, oldest first."""
        return [_bucket(self.first + timedelta(n), self.first + timedelta(n)) for n in range(self.days)]

    def week_buckets(self) -> list[Bucket]:
        """Return 7-day buckets ending on the period's last day, oldest first (the first may be shorter)."""
        weeks = []
        last = self.last
        while last >= self.first:
            first = max(self.first, last - timedelta(WEEK - 1))
            weeks.append(_bucket(first, last))
            last = first - timedelta(1)
        return weeks[::-1]

    def whole(self) -> Bucket:
        """Return the whole period as one bucket."""
        return _bucket(self.first, self.last)

    def before(self) -> Period:
        """Return the period of the same length just before this one (what growth compares with)."""
        return Period(self.first - timedelta(self.days), self.first - timedelta(1))


def site_zone() -> ZoneInfo:
    """Return the site's time zone, the one its days are counted in."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=site_zone()).astimezone(ZoneInfo("UTC"))


def _bucket(first: date, last: date) -> Bucket:
    return Bucket(first, last, _midnight(first), _midnight(last + timedelta(1)))


def parse_period(first: str | None, last: str | None, *, today: date) -> Period:
    """Return the period between two ISO dates (YYYY-MM-DD); by default the last 28 days up to today.

    Refused with a message: a date that is not one, a start after the end,
    an end after today, a start before 2000, and more than 366 days.
    """
    end = _parse_day(last, "to") or today
    start = _parse_day(first, "from") or end - timedelta(DEFAULT_DAYS - 1)
    if end > today:
        raise ValidationError(_("The period cannot end after today."), field="to")
    if start < EARLIEST:
        raise ValidationError(
            _("The period cannot start before %(day)s.", day=EARLIEST.isoformat()), field="from"
        )
    if start > end:
        raise ValidationError(_("The period must start before it ends."), field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationError(_("A period is at most %(days)s days long.", days=MAX_DAYS), field="from")
    return Period(start, end)


def _parse_day(value: str | None, field: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            _("Give the date as YYYY-MM-DD, for example 2024-03-31."), field=field
        ) from None


def bucket_table(buckets: Sequence[tuple[int, Bucket]]) -> Subquery:
    """Return the numbered buckets as a derived table: n, lo, hi (UTC), first_day, last_day."""
    rows = [
        select(
            literal(n, Integer).label("n"),
            literal(b.lo, UTCDateTime).label("lo"),
            literal(b.hi, UTCDateTime).label("hi"),
            literal(b.first, Date).label("first_day"),
            literal(b.last, Date).label("last_day"),
        )
        for n, b in buckets
    ]
    return (union_all(*rows) if len(rows) > 1 else rows[0]).subquery("buckets")


def numbered(buckets: Sequence[Bucket], *, total: Bucket | None = None) -> list[tuple[int, Bucket]]:
    """Return buckets numbered from 0, and the whole period as TOTAL when given."""
    return list(enumerate(buckets)) + ([(TOTAL, total)] if total is not None else [])


def seconds_between(later: Any, earlier: Any) -> ColumnElement[float]:
    """Return the SQL for the seconds from one UTC time to a later one."""
    if is_postgresql(db.engine):
        return cast(func.extract("epoch", later - earlier), Float)
    return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)


def writer(post: Any = Post) -> ColumnElement[int]:
    """Return who wrote a post: its author, or for a team account's post the member who wrote it."""
    return func.coalesce(post.posted_by_id, post.author_id)


def in_range(column: Any, lo: Any, hi: Any) -> ColumnElement[bool]:
    """Return lo <= column < hi."""
    return and_(column >= lo, column < hi)


def median_by_bucket(values: Subquery) -> Select:
    """Select per bucket (n): its rows, those with a value, and the median of the values (nearest rank).

    `values` has columns n and value (NULL: a row without one, e.g. a question
    not answered).  The median is the value at rank ceil(count/2), as
    services.inbox computes its figures: window functions, in both databases.
    """
    has_value = values.c.value.is_not(None)
    ranked = select(
        values.c.n,
        values.c.value,
        func.count().over(partition_by=values.c.n).label("rows"),
        func.count(values.c.value).over(partition_by=values.c.n).label("counted"),
        func.row_number().over(partition_by=(values.c.n, has_value), order_by=values.c.value).label("rank"),
    ).subquery("ranked")
    middle = (ranked.c.counted + 1) // 2
    return select(ranked.c.n, ranked.c.rows, ranked.c.counted, ranked.c.value).where(
        ((ranked.c.value.is_not(None)) & (ranked.c.rank == middle))
        | ((ranked.c.counted == 0) & (ranked.c.rank == 1))
    )


# -- scopes ----------------------------------------------------------------------

COMPANY = "company"
DEPARTMENT = "department"
COMMUNITY = "community"


@dataclass(frozen=True)
class Scope:
    """Whose figures: the whole company, one department's people, or one community's members and posts.

    Privacy (decided here, for every measure): the company's totals count
    every post, a private community's too, as plain counts.  Whatever names
    or breaks down content by group (top tags, top communities, the matrix of
    departments) and every department's figures count public posts only, so
    that a site administrator never learns from them what a private
    community's members alone may read.  A community's own dashboard, seen by
    its admins (members), counts all of its posts.
    """

    kind: str
    department: str = ""
    community_id: int = 0

    def population(self) -> Subquery:
        """Select the accounts the shares are of (id, and since when they count): active people."""
        people = [User.kind == PERSON, User.is_active.is_(True)]
        if self.kind == COMMUNITY:  # its members, from the day they joined
            return (
                select(User.id.label("id"), Follow.created_at.label("since"))
                .join(Follow, Follow.follower_id == User.id)
                .where(Follow.followee_id == self.community_id, *people)
                .subquery("population")
            )
        if self.kind == DEPARTMENT:
            people.append(User.department == self.department)
        return (
            select(User.id.label("id"), User.created_at.label("since")).where(*people).subquery("population")
        )

    def cell(self) -> tuple[str, int]:
        """Return the rollup cell of the scope: (department, community id), models.rollups."""
        if self.kind == COMMUNITY:
            return ("", self.community_id)
        return (self.department if self.kind == DEPARTMENT else "", 0)

    def people_flags(self) -> dict[str, tuple[int, int]]:
        """Return, per weekly measure of people, the daily_activity row (community id) and flag it counts."""
        if self.kind == COMMUNITY:  # active there: where else its members read is not its admins' business
            here = self.community_id
            return {"active": (here, POSTED | ENGAGED), "engaged": (here, ENGAGED), "posting": (here, POSTED)}
        if self.kind == DEPARTMENT:
            return {"active": (0, READ), "engaged": (0, ENGAGED_PUBLIC), "posting": (0, POSTED_PUBLIC)}
        return {"active": (0, READ), "engaged": (0, ENGAGED), "posting": (0, POSTED)}

    def counts_post(self, post: Any = Post) -> list[ColumnElement[bool]]:
        """Return the conditions for a post to count here, in the measures read from the posts themselves."""
        if self.kind == COMMUNITY:
            return [post.community_id == self.community_id]
        if self.kind == DEPARTMENT:
            department = select(User.id).where(User.department == self.department, User.kind == PERSON)
            return [post_is_public(post), writer(post).in_(department)]
        return []
