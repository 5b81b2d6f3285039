"""Status boards in real Chromium: the plots are drawn, and the table says what the bars show.

Posts are dated on known local days (Europe/Oslo, the site's zone) before the
board is opened: today, yesterday and five days ago.
MICROBLOG_SCREENSHOTS=DIR also saves both boards at phone and desktop widths, in both languages.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from microblog.database import db
from microblog.services import accounts, communities, posts
from models import Post

from .conftest import log_in
from .test_accessibility_browser import BLOCKING, _axe

pytestmark = pytest.mark.browser

OSLO = ZoneInfo("Europe/Oslo")


def local_noon(days_ago: int) -> tuple[date, datetime]:
    """Return a local day some days back and its noon (as an aware time), in the site's zone."""
    day = datetime.now(OSLO).date() - timedelta(days=days_ago)
    return day, datetime.combine(day, time(12), tzinfo=OSLO)


def dated(author, text: str, when: datetime) -> None:
    post = posts.post_status(author, text)
    db.session.execute(update(Post).where(Post.id == post.id).values(created_at=when))
    db.session.commit()


@pytest.fixture
def world(site):
    """#launch and @rocket-team with posts on four known days, written oldest first (ids follow time)."""
    for name in ("alice", "bob"):
        site.create_user(name)
    tag: dict[date, int] = {}
    community: dict[date, int] = {}
    with site.services():
        alice, bob = accounts.access_user("alice"), accounts.access_user("bob")
        team = communities.create_community(alice, "rocket-team", name="Rocket team", description="Rockets")
        communities.join(bob, team)
        for days_ago, count in ((5, 2), (2, 0), (1, 3), (0, 1)):
            day, noon = local_noon(days_ago)
            for n in range(count):
                author = alice if n % 2 else bob
                dated(author, f"Day {days_ago}, post {n} #launch", noon + timedelta(minutes=n))
                tag[day] = tag.get(day, 0) + 1
            if days_ago == 2:  # two posts in the community, one of them in #launch too
                dated(alice, "@rocket-team Countdown at noon", noon)
                dated(bob, "@rocket-team #launch Fuelled", noon + timedelta(hours=1))
                community[day], tag[day] = 2, 1
    return {"tag": tag, "community": community}


def figures(page, board: str) -> tuple[dict[str, float], dict[str, float], list[dict]]:
    """Return a board's bars (day: value), its table (day: value) and the bars' boxes."""
    plot = page.locator(f"#{board} [data-plot]").first
    expect(plot.locator("svg.plot-svg")).to_be_visible()
    bars = plot.locator("rect.plot-bar")
    drawn = {bar.get_attribute("data-day"): float(bar.get_attribute("data-value")) for bar in bars.all()}
    boxes = [
        (bar.bounding_box() or {"width": 0, "height": 0}) | {"value": float(bar.get_attribute("data-value"))}
        for bar in bars.all()
    ]
    plot.locator("details.plot-table summary").click()
    table = plot.locator("table[data-plot-table]")
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    listed = {
        row.locator("time").get_attribute("datetime"): float(row.locator("td").get_attribute("data-value"))
        for row in rows.all()
    }
    return drawn, listed, boxes


def check_board(page, board: str, expected: dict[date, int]) -> None:
    drawn, listed, boxes = figures(page, board)
    assert len(drawn) == len(listed) == 90
    assert listed == drawn  # the table says what the plot shows
    assert {day: int(value) for day, value in listed.items() if value} == {
        day.isoformat(): count for day, count in expected.items()
    }
    for box in boxes:  # a bar is as tall as its count, and nothing for an empty day
        if box["value"]:
            assert box["width"] > 0 and box["height"] > 0
        else:
            assert box["height"] == pytest.approx(0, abs=0.01)
    per_post = {round(box["height"] / box["value"], 1) for box in boxes if box["value"]}
    assert len(per_post) == 1 and per_post.pop() > 5  # the same pixels per post in every bar


def test_a_tag_board_and_a_community_board_draw_their_figures(site, new_page, world):
    page = new_page(viewport={"width": 1280, "height": 900})
    log_in(page, site, "alice")
    page.goto(f"{site.url}/tags/launch")
    expect(page.locator("#board h2")).to_have_text("The last 90 days")
    check_board(page, "board", world["tag"])
    expect(page.locator("[data-board-posts]")).to_have_text(str(sum(world["tag"].values())))
    contributors = page.locator("[data-board-contributors] li")
    expect(contributors).to_have_count(2)
    page.goto(f"{site.url}/@rocket-team")
    check_board(page, "board", world["community"])
    expect(page.locator("#members [data-plot]")).to_be_visible()  # members over time, beside the posts
    page.locator("#members details.plot-table summary").click()  # every table open: axe reads them too
    assert [v["id"] for v in _axe(page) if v["impact"] in BLOCKING] == []


def test_the_board_reads_well_on_a_phone_in_norwegian(site, new_page, world, tmp_path):
    """Nothing is wider than the window; MICROBLOG_SCREENSHOTS=DIR keeps the shots."""
    out = Path(os.environ.get("MICROBLOG_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for lang, locale in (("en", "en-GB"), ("nb", "nb-NO")):
        for width in (390, 1280):
            page = new_page(viewport={"width": width, "height": 900}, locale=locale)
            log_in(page, site, "alice")
            for name, path in (("tag", "/tags/launch"), ("community", "/@rocket-team")):
                page.goto(f"{site.url}{path}")
                if lang == "nb":
                    expect(page.locator("#board summary").first).to_have_text("Vis tallene som tabell")
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= width, f"{path} is {wide} px wide at {width} px ({lang})"
                page.locator("#board").screenshot(path=str(out / f"board-{name}-{width}-{lang}.png"))
