"""Plots: a series' geometry (microblog.charts) and its words (microblog.web.plot_text), known by hand."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from microblog.charts import BAR_GAP, nice_ticks, plot
from microblog.web.plot_text import plot_text

MARCH = [date(2026, 3, 1) + timedelta(days=n) for n in range(31)]


@pytest.mark.parametrize(
    ("largest", "whole", "ticks"),
    [
        (7, False, (0, 2, 4, 6, 8)),
        (8, False, (0, 2, 4, 6, 8)),
        (10, True, (0, 5, 10)),  # 2.5 is no count
        (10, False, (0, 2.5, 5, 7.5, 10)),
        (1, True, (0, 1)),
        (3, True, (0, 1, 2, 3)),
        (130, True, (0, 50, 100, 150)),
        (0.3, False, (0, 0.1, 0.2, 0.3)),
        (0, True, (0, 1)),  # nothing yet: an axis from 0 to 1
    ],
)
def test_ticks_are_round_steps_from_zero_to_the_largest_value(largest, whole, ticks):
    assert nice_ticks(largest, 4, whole=whole) == ticks


def test_bars_are_as_tall_as_their_values_on_an_axis_of_round_ticks():
    shape = plot([(MARCH[0], 4), (MARCH[1], 0), (MARCH[2], 7)], height=140)
    assert shape.slots == 3 and shape.total == 11 and shape.peak == (MARCH[2], 7)
    assert [t.value for t in shape.ticks] == [0, 2, 4, 6, 8]
    assert [t.y for t in shape.ticks] == [140, 105, 70, 35, 0]  # 8 at the top, 0 on the zero line
    assert [(b.height, b.y) for b in shape.bars] == [(70, 70), (0, 140), (122.5, 17.5)]
    assert [b.x for b in shape.bars] == [BAR_GAP / 2, 1 + BAR_GAP / 2, 2 + BAR_GAP / 2]
    assert all(b.width == 1 - BAR_GAP for b in shape.bars)
    assert shape.line == ""


def test_a_line_runs_through_the_middle_of_each_slot():
    shape = plot([(MARCH[0], 1), (MARCH[1], 2), (MARCH[2], 4)], kind="line", height=80)
    assert shape.bars == ()
    assert shape.line == "0.5,60 1.5,40 2.5,0"


def test_labels_name_the_newest_day_and_every_kth_before_it():
    shape = plot([(day, 1) for day in MARCH], labels=5)  # 31 days: every 7th, back from the 31st
    assert [label.day.day for label in shape.labels] == [3, 10, 17, 24, 31]
    assert [label.anchor for label in shape.labels] == ["start", "middle", "middle", "middle", "end"]
    assert shape.labels[-1].percent == 100
    assert shape.labels[1].percent == pytest.approx(100 * 9.5 / 31, abs=1e-3)
    assert [label.minor for label in shape.labels] == [False, True, False, True, False]


def test_an_empty_series_has_an_axis_and_nothing_else():
    shape = plot([])
    assert (shape.slots, shape.bars, shape.labels, shape.peak) == (0, (), (), None)
    assert [t.value for t in shape.ticks] == [0, 1]


@pytest.mark.parametrize("values", [[-1], [math.nan], [math.inf]])
def test_values_must_be_finite_and_not_negative(values):
    with pytest.raises(ValueError):
        plot([(MARCH[0], v) for v in values])


def test_a_plot_is_bars_or_a_line():
    with pytest.raises(ValueError):
        plot([(MARCH[0], 1)], kind="pie")  # type: ignore[arg-type]


def test_the_words_of_a_plot_are_the_readers(app):
    shape = plot([(MARCH[0], 1200), (MARCH[1], 0), (MARCH[2], 3)])
    with app.test_request_context(headers={"Accept-Language": "nb"}):
        words = plot_text(shape)
        assert [p.short for p in words.points] == ["1. mars", "2. mars", "3. mars"]
        assert words.points[0].long == "søn. 1. mars 2026"
        assert words.points[0].figure == "1\xa0200"
        assert words.ticks[-1] == "1\xa0500"
        assert words.summary == (
            "1\xa0203 i alt fra søn. 1. mars 2026 til tir. 3. mars 2026; flest: 1\xa0200 (søn. 1. mars 2026)."
        )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        level = plot_text(
            plot([(MARCH[0], 0.25), (MARCH[7], 0.5)], kind="line"),
            values="percent",
            period="week",
            total=False,
        )
        assert [p.figure for p in level.points] == ["25%", "50%"]
        assert level.points[1].slot == "week of Sun, Mar 8, 2026"
        assert level.summary == (
            "25% (week of Sun, Mar 1, 2026) to 50% (week of Sun, Mar 8, 2026);"
            " highest: 50% (week of Sun, Mar 8, 2026)."
        )
