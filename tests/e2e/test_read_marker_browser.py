"""The home marker in Chromium: "you were here" above the posts read, new posts (live too) above it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import log_in
from .test_live import _connected, _post

pytestmark = pytest.mark.browser

_ORDER = (
    "els => els.map(e => e.matches('[data-read-marker]') ? 'line' : e.querySelector('.post-text').innerText)"
)


def _order(page) -> list[str]:
    """Return the feed as shown: each post's text, and "line" where "you were here" is."""
    return page.locator("[data-posts] > *").evaluate_all(_ORDER)


def test_home_shows_where_the_reader_was_and_live_posts_arrive_above_it(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    alice, bob = new_page(), new_page()
    log_in(alice, site, "alice")
    log_in(bob, site, "bob")
    alice.goto(f"{site.url}/@bob")
    alice.click("form[action='/@bob/follow'] button")
    bob.goto(f"{site.url}/")
    _post(bob, "Read before lunch")
    alice.goto(f"{site.url}/")  # opening home marks it read up to here
    expect(alice.locator("article.post .post-text")).to_have_text(["Read before lunch"])
    _post(bob, "Posted after lunch")

    alice.goto(f"{site.url}/")
    line = alice.locator("[data-read-marker]")
    expect(line).to_have_text("You were here")
    order = _order(alice)
    assert order == ["Posted after lunch", "line", "Read before lunch"]
    alice.click("[data-read-jump]")
    expect(alice).to_have_url(f"{site.url}/#you-were-here")

    _connected(alice)
    alice.evaluate("window.scrollTo(0, 0)")
    _post(bob, "Arrived while reading")
    expect(alice.locator("[data-posts] > *").first.locator(".post-text")).to_have_text(
        "Arrived while reading", timeout=10_000
    )
    order = _order(alice)
    assert order.index("Arrived while reading") < order.index("line") < order.index("Read before lunch")
