"""Local days as slices of UTC time: counting things per day in the reader's time zone, in one query.

The database groups rows by a slice of UTC time (`slice_of`: an hour, or a
quarter of an hour or a minute in a zone whose midnight falls inside an
hour, such as India's) and `Period.by_day` sums the slices into the local
days they fall in, with zoneinfo: exact across changes to and from summer
time, whatever the zone, where grouping by a day in SQL would need the
database's own time zone rules (SQLite has none).

    period = Period.of(reader_zone(viewer), 90, None)       # the last 90 days up to today
    slices = select(slice_start(s, period.width), count()) ...  # s = slice_of(column, period.width)
    per_day = period.by_day({start: n for start, n in rows})
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import BigInteger, ColumnElement, Integer, func, literal, literal_column

from microblog import language
from microblog.database import db, is_postgresql
from models import User

# Seconds of UTC time the database counts by: the longest that every local midnight of a period fits.
SLICES = (3600, 900, 60)


def reader_zone(viewer: User | None) -> ZoneInfo:
    """Return the time zone whose days are counted for the viewer: their choice, else the site's."""
    chosen = viewer.timezone if viewer is not None else None
    if chosen and chosen in language.time_zones():
        return ZoneInfo(chosen)
    return ZoneInfo(current_app.config["TIMEZONE"])


@dataclass(frozen=True)
class Period:
    """Consecutive local days, when they start and end in UTC, and the slice of time that fits them."""

    zone: ZoneInfo
    days: list[date]
    since: datetime
    until: datetime
    width: int  # seconds: every local midnight of the period is a multiple of it since 1970

    @classmethod
    def of(cls, zone: ZoneInfo, days: int, today: date | None) -> Period:
        """Return the `days` local days up to `today` (None: today in the zone)."""
        last = today or datetime.now(zone).date()
        window = [last - timedelta(days=n) for n in range(days - 1, -1, -1)]
        starts = [_midnight(day, zone) for day in [*window, last + timedelta(days=1)]]
        width = next(s for s in SLICES if all(int(m.timestamp()) % s == 0 for m in starts))
        return cls(zone, window, starts[0], starts[-1], width)

    def by_day(self, slices: dict[int, int]) -> dict[date, int]:
        """Return counts per slice of UTC time (by its start, seconds since 1970) summed into local days."""
        days: dict[date, int] = {}
        for start, count in slices.items():
            day = datetime.fromtimestamp(start, UTC).astimezone(self.zone).date()
            days[day] = days.get(day, 0) + count
        return days


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """Return when a local day starts, in UTC.

    A midnight that is skipped (summer time starting at 00:00) reads, with
    fold=0, in the offset before the change: the instant of the change, the
    day's first moment; a midnight that happens twice is its first time.
    """
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def slice_of(moment: Any, width: int) -> ColumnElement[Any]:
    """Return the SQL for the slice of UTC time (`width` seconds, counted from 1970) a moment falls in.

    SQLite: its number (whole seconds // width); PostgreSQL: its start, by date_bin,
    which is integer arithmetic where extract(epoch ...) computes a numeric per row.
    """
    if is_postgresql(db.engine):
        every: ColumnElement[Any] = literal_column(f"interval '{int(width)} seconds'")
        return func.date_bin(every, moment, literal_column("timestamptz '1970-01-01 00:00:00+00'"))
    return func.unixepoch(moment, type_=Integer).op("/")(literal(width, literal_execute=True))


def slice_start(slice_: Any, width: int) -> ColumnElement[int]:
    """Return the SQL for when a slice (as slice_of gives it) starts, in whole seconds since 1970."""
    if is_postgresql(db.engine):
        return func.extract("epoch", slice_).cast(BigInteger)
    return slice_.op("*")(literal(width, literal_execute=True))
