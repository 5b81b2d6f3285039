"""The words and numbers of a plot in the reader's language: what templates/charts/_plot.html writes.

microblog.charts gives a plot's geometry; this names its days and values
once per point (a plot of 90 days shows each twice: in the picture and in
its table), with the locale's patterns looked up once per request instead of
once per call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Literal

from babel import Locale
from babel.dates import DateTimePattern
from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale
from flask_babel import gettext as _

from microblog.charts import Plot

Values = Literal["number", "percent"]
Period = Literal["day", "week"]
SHORT, LONG = "MMMd", "yMMMEd"  # "12 Mar" / "12. mars"; "Thu, Mar 12, 2026" / "tor. 12. mars 2026"


@dataclass(frozen=True)
class PointText:
    """One slot of a plot, in words: its day short and long, what the slot is called, and its value."""

    day: date
    value: float
    short: str  # "Mar 12": under the x axis
    long: str  # "Thu, Mar 12, 2026"
    slot: str  # the day, or "week of Thu, Mar 12, 2026": in the table and the summary
    figure: str  # the value: "1,234", "12%"


@dataclass(frozen=True)
class PlotText:
    """What a plot says: each point, each tick's value, each x label's day, and a one-sentence summary."""

    points: tuple[PointText, ...]
    ticks: tuple[str, ...]
    labels: tuple[str, ...]
    summary: str


@cache
def _pattern(locale: Locale, skeleton: str) -> DateTimePattern:
    """Return the locale's date pattern closest to a skeleton (Babel's format_skeleton, looked up once)."""
    from babel.dates import match_skeleton

    skeletons = locale.datetime_skeletons
    return skeletons[skeleton if skeleton in skeletons else match_skeleton(skeleton, skeletons) or "yMd"]


def _locale() -> Locale:
    return get_locale() or Locale.parse("en")


def short_date(day: date) -> str:
    """Return a day as a plot's axis names it, in the reader's language ("Mar 12", "12. mars")."""
    locale = _locale()
    return _pattern(locale, SHORT).apply(day, locale)


def long_date(day: date) -> str:
    """Return a day with its weekday and year, in the reader's language ("Thu, Mar 12, 2026")."""
    locale = _locale()
    return _pattern(locale, LONG).apply(day, locale)


def plot_text(
    shape: Plot, *, values: Values = "number", period: Period = "day", total: bool = True
) -> PlotText:
    """Return the words of a plot: its points' days and values, its ticks, its x labels and a summary.

    `total`: the values add up (posts per day), so the summary gives their sum;
    else (members over time, a share) it gives the first and the last value.
    """
    locale = _locale()
    short, long = _pattern(locale, SHORT), _pattern(locale, LONG)

    def figure(value: float) -> str:
        if values == "percent":
            return format_percent(value, locale=locale)
        return format_decimal(value, locale=locale)

    points = []
    for day, value in shape.points:
        whole = long.apply(day, locale)
        slot = _("week of %(day)s", day=whole) if period == "week" else whole
        points.append(PointText(day, value, short.apply(day, locale), whole, slot, figure(value)))
    by_day = {point.day: point for point in points}
    return PlotText(
        tuple(points),
        tuple(figure(tick.value) for tick in shape.ticks),
        tuple(by_day[label.day].short for label in shape.labels),
        _summary(shape, points, figure if total else None),
    )


def _summary(shape: Plot, points: list[PointText], figure) -> str:
    """Return one sentence a screen reader hears before the table: the span, the total, the highest."""
    if not points:
        return _("No figures yet.")
    peak = shape.peak
    assert peak is not None
    highest = next(point for point in points if point.day == peak[0])
    named = {"first": points[0].slot, "last": points[-1].slot, "peak": highest.figure, "when": highest.slot}
    if figure is None:  # a level, not a count: where it started and ended
        return _(
            "%(start)s (%(first)s) to %(end)s (%(last)s); highest: %(peak)s (%(when)s).",
            start=points[0].figure,
            end=points[-1].figure,
            **named,
        )
    return _(
        "%(total)s in all from %(first)s to %(last)s; highest: %(peak)s (%(when)s).",
        total=figure(shape.total),
        **named,
    )
