"""Plots of a series over days or weeks: from the figures to the geometry of an SVG, nothing else.

A series is a sequence of (day, value) pairs in order, one per slot: a day
(a board's posts per day) or the first day of a week (a trend).  `plot()`
turns it into a `Plot`: bars or a line, the y axis's ticks at round values,
and where to label the x axis.  It reads no request, formats no text and
draws no SVG: templates/charts/_plot.html does, in the reader's language,
with the figures as a table beside the picture.

Coordinates, so that the SVG stays sharp and its text readable at any width:

- across: one unit per slot (slot i spans x = i .. i + 1, so the plot is
  `slots` units wide); the macro stretches these units to the width of the
  page (an inner <svg viewBox="0 0 slots height" preserveAspectRatio="none">),
  and places x axis labels at `Label.percent` of the width;
- down: pixels from the top of the plotting area (`height` tall; 0 is the
  top, `height` the zero line), which is never stretched.

Example (what templates/charts/_plot.html is given)::

    from microblog.charts import plot
    days = [(date(2026, 3, 1), 4), (date(2026, 3, 2), 0), (date(2026, 3, 3), 7)]
    shape = plot(days)               # bars; plot(days, kind="line") for a trend
    shape.ticks                      # (Tick(value=0, y=140.0), ..., Tick(value=8, y=0.0))
    shape.bars[2].height             # 122.5: 7 of 8 on a 140-pixel axis
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Kind = Literal["bars", "line"]
Point = tuple[date, float]

HEIGHT = 140.0  # pixels of the plotting area, by default
BAR_GAP = 0.15  # of a slot, left empty between two bars
_STEPS = (1.0, 2.0, 2.5, 5.0, 10.0)  # round tick steps, times a power of ten


@dataclass(frozen=True)
class Tick:
    """A value on the y axis and the pixel row of its grid line."""

    value: float
    y: float


@dataclass(frozen=True)
class Bar:
    """One slot's bar: `x` and `width` in slot units, `y` and `height` in pixels from the top."""

    day: date
    value: float
    x: float
    width: float
    y: float
    height: float


@dataclass(frozen=True)
class Label:
    """A day named under the x axis: its slot, where its middle is (percent of the width), how to align it."""

    day: date
    index: int
    percent: float
    anchor: Literal["start", "middle", "end"]


@dataclass(frozen=True)
class Plot:
    """The geometry of one series as bars or a line (see the module's docstring for the coordinates)."""

    kind: Kind
    points: tuple[Point, ...]
    height: float
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]
    bars: tuple[Bar, ...]
    line: str  # SVG polyline points, "x,y x,y ..." (slot middles), for kind == "line"

    @property
    def slots(self) -> int:
        """Return how many slots (days, weeks) the plot spans: its width in slot units."""
        return len(self.points)

    @property
    def top(self) -> float:
        """Return the value at the top of the y axis."""
        return self.ticks[-1].value

    @property
    def total(self) -> float:
        """Return the sum of the values."""
        return sum(value for _, value in self.points)

    @property
    def peak(self) -> Point | None:
        """Return the first slot with the largest value, or None for an empty series."""
        return max(self.points, key=lambda point: point[1]) if self.points else None

    @property
    def whole(self) -> bool:
        """Return whether every value and tick is a whole number (counts: no decimals to show)."""
        return all(
            float(v).is_integer() for v in [*(p[1] for p in self.points), *(t.value for t in self.ticks)]
        )


def nice_ticks(largest: float, count: int = 4, *, whole: bool = False) -> tuple[float, ...]:
    """Return round values from 0 up to at least `largest`, at most count + 1 of them, evenly spaced.

    Steps are 1, 2, 2.5 or 5 times a power of ten; with `whole` (counts) only
    whole steps: nice_ticks(7) == (0, 2, 4, 6, 8), nice_ticks(1, whole=True) == (0, 1),
    nice_ticks(0) == (0, 1).
    """
    if not math.isfinite(largest) or largest <= 0:
        return (0.0, 1.0)
    raw = largest / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    steps = [s * power for s in _STEPS]
    if whole:
        steps = [step for step in steps if step >= 1 and step.is_integer()] or [1.0]
    step = next(step for step in steps if step >= raw * (1 - 1e-9))
    stops = math.ceil(largest / step - 1e-9)
    return tuple(round(i * step, 10) for i in range(stops + 1))


def _labels(points: Sequence[Point], wanted: int) -> tuple[Label, ...]:
    """Name every k-th slot, counting back from the newest (the day that matters most is labelled)."""
    n = len(points)
    if n == 0 or wanted <= 0:
        return ()
    step = max(1, math.ceil(n / wanted))
    chosen = sorted(range(n - 1, -1, -step))
    labels = []
    for index in chosen:
        anchor: Literal["start", "middle", "end"] = "middle"
        if index == n - 1 and n > 1:
            anchor = "end"
        elif index < step / 2 and n > 1:
            anchor = "start"
        percent = 100.0 * (index + (1.0 if anchor == "end" else 0.0 if anchor == "start" else 0.5)) / n
        labels.append(Label(points[index][0], index, round(percent, 4), anchor))
    return tuple(labels)


def plot(
    series: Sequence[tuple[date, float]],
    *,
    kind: Kind = "bars",
    height: float = HEIGHT,
    ticks: int = 4,
    labels: int = 5,
) -> Plot:
    """Return the geometry of a series of (day, value) as bars or a line, with y ticks and x labels.

    Values must be finite and not negative (counts, shares, durations); the
    y axis starts at zero and ends at the first round value at or above the
    largest.  `ticks` is about how many steps the axis has, `labels` at most
    how many days the x axis names.
    """
    if kind not in ("bars", "line"):
        raise ValueError(f"kind must be 'bars' or 'line', not {kind!r}")
    points = tuple((day, float(value)) for day, value in series)
    if any(not math.isfinite(value) or value < 0 for _, value in points):
        raise ValueError("a plot's values must be finite and not negative")
    values = [value for _, value in points]
    whole = all(value.is_integer() for value in values)
    scale = nice_ticks(max(values, default=0.0), ticks, whole=whole)
    top = scale[-1]

    def row(value: float) -> float:
        return round(height - height * value / top, 3)

    axis = tuple(Tick(value, row(value)) for value in scale)
    bars: tuple[Bar, ...] = ()
    line = ""
    if kind == "bars":
        bars = tuple(
            Bar(day, value, round(i + BAR_GAP / 2, 3), 1 - BAR_GAP, row(value), round(height - row(value), 3))
            for i, (day, value) in enumerate(points)
        )
    else:
        line = " ".join(f"{i + 0.5:g},{row(value):g}" for i, (_, value) in enumerate(points))
    return Plot(kind, points, float(height), axis, _labels(points, labels), bars, line)
