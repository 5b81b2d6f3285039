"""The dashboard in real Chromium: its plots are drawn, and its tables show the figures known by hand."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from .. import dashboard_world as known
from ..dashboard_world import FIRST, LAST, build_world
from .conftest import log_in

pytestmark = pytest.mark.browser


def column(page, measure: str, name: str) -> list[str]:
    """Return the texts of one column of a measure's table, top to bottom."""
    return page.locator(f'[data-table="{measure}"] tbody td[data-column="{name}"]').all_inner_texts()


def test_the_plots_are_drawn_and_the_tables_show_the_known_figures(site, new_page):
    with site.services():
        build_world()
    page = new_page(locale="en-GB", viewport={"width": 1280, "height": 900})
    log_in(page, site, "root")
    page.goto(f"{site.url}/admin/users")
    page.click("nav.admin-tabs >> text=Dashboard")
    expect(page).to_have_url(f"{site.url}/admin/dashboard")
    page.fill("#dashboard-from", FIRST)
    page.fill("#dashboard-to", LAST)
    page.click("form.dashboard-period button[type=submit]")
    expect(page.locator("h1")).to_have_text("Dashboard")

    # Every trend is a visible picture of its own, with the week's or day's figures.
    plots = page.locator("figure[data-plot] svg.plot-svg")
    expect(plots).to_have_count(8)  # 3 people shares, posts and replies, replied, answered, inbox
    for n in range(8):
        box = plots.nth(n).bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    active = page.locator("#plot-active-share")
    expect(active.locator("polyline.plot-line")).to_be_visible()
    bars = page.locator("#plot-posts-posts rect.plot-bar")
    expect(bars).to_have_count(14)
    drawn = [float(v) for v in bars.evaluate_all("bars => bars.map(b => b.dataset.value)")]
    assert drawn == [posts for posts, _ in known.POSTS_PER_DAY]

    # The tables say what was worked out by hand, in the reader's language.
    assert column(page, "active", "people") == ["12", "13"]
    assert column(page, "active", "active") == ["5", "4"]
    assert column(page, "active", "share") == ["42%", "31%"]
    assert column(page, "posts", "posts") == [str(p) for p, _ in known.POSTS_PER_DAY]
    assert column(page, "posts", "replies") == [str(r) for _, r in known.POSTS_PER_DAY]
    assert column(page, "replies", "replied") == ["3", "3", "6"]
    assert column(page, "replies", "median_seconds") == ["30 minutes", "40 minutes", "30 minutes"]
    assert column(page, "questions", "share") == ["–", "50%", "50%"]
    assert column(page, "tags", "tag") == ["apollo", "zeus"]
    replies = page.locator('table[data-heat="replies"]')
    expect(replies.locator("tbody tr")).to_have_count(3)
    expect(replies.locator("tbody tr", has_text="Sales").locator("td").first).to_have_text("2")
    expect(replies.locator("tbody tr", has_text="Legal").locator("td.withheld")).to_have_count(3)

    with page.expect_download() as download:
        page.click('a[data-csv="posts"]')
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0] == ["day", "posts", "replies"] and len(rows) == 15

    # Two plots side by side, each named.
    expect(page.locator("#plot-posts-posts figcaption")).to_have_text("Posts")
    expect(page.locator("#plot-posts-replies figcaption")).to_have_text("Replies")

    # A period of one week is one point on each line: a dot shows it.
    page.fill("#dashboard-from", "2024-01-15")
    page.click("form.dashboard-period button[type=submit]")
    expect(page.locator("#plot-active-share line.plot-dot")).to_have_count(1)
    box = page.locator("#plot-active-share line.plot-dot").bounding_box()
    assert box is not None and box["width"] >= 4 and box["height"] >= 4

    page.select_option("#dashboard-department", "Legal")
    page.click("form.dashboard-period button[type=submit]")
    expect(page.locator("[data-suppressed]")).to_be_visible()
    expect(page.locator("figure[data-plot]")).to_have_count(0)


def test_a_community_admin_opens_the_dashboard_from_the_community_in_norwegian(site, new_page):
    with site.services():
        build_world()
    page = new_page(locale="nb-NO", viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(page, site, "e3")
    page.goto(f"{site.url}/@secret")
    page.click("[data-dashboard-link]")
    expect(page).to_have_url(f"{site.url}/communities/secret/dashboard")
    page.goto(f"{site.url}/communities/secret/dashboard?from={FIRST}&to={LAST}")
    expect(page.locator("figure[data-plot]").first).to_be_visible()
    assert column(page, "posting", "posting") == ["0", "2"]
    assert column(page, "posting", "share") == ["0\xa0%", "40\xa0%"]  # Norwegian: a space before %
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than a phone
