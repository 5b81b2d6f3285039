"""Following a search in real Chromium: matching posts arrive live on Signals, others do not."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import log_in
from .test_live import _connected, _post

pytestmark = pytest.mark.browser


def test_a_lead_follows_a_search_and_sees_matches_arrive_live(site, new_page):
    site.create_user("lead")
    site.create_user("kari")
    lead, kari = new_page(), new_page()
    log_in(lead, site, "lead")
    log_in(kari, site, "kari")

    lead.goto(f"{site.url}/search?q=periscope+-draft")
    lead.get_by_role("button", name="Follow this search").click()
    expect(lead).to_have_url(re.compile(r"/signals/\d+$"))
    expect(lead.locator("h1.feed-title")).to_have_text("periscope -draft")
    _connected(lead)
    lead.evaluate("window.notReloaded = true")

    kari.goto(f"{site.url}/")
    _post(kari, "Periscopes are up in Bergen")
    _post(kari, "Draft: periscope plans")  # excluded by the search
    _post(kari, "Lunch is ready")
    # Matched by the server as each post is written, then streamed.
    expect(lead.locator("article.post .post-text")).to_have_text(
        ["Periscopes are up in Bergen"], timeout=15_000
    )
    assert lead.evaluate("window.notReloaded") is True

    _post(kari, "One more periscope")
    expect(lead.locator("article.post .post-text")).to_have_text(
        ["One more periscope", "Periscopes are up in Bergen"], timeout=15_000
    )
    # All signals holds the same, and the menu counted nothing twice.
    lead.goto(f"{site.url}/signals")
    expect(lead.locator("article.post .post-text")).to_have_text(
        ["One more periscope", "Periscopes are up in Bergen"]
    )
    expect(lead.locator("[data-signals-badge]")).to_be_hidden()  # read, on the search's page and here

    # Elsewhere on the site, the menu's badge counts a new match as it arrives.
    lead.goto(f"{site.url}/")
    _connected(lead)
    lead.evaluate("window.notReloaded = true")
    _post(kari, "A third periscope")
    expect(lead.locator("[data-signals-badge]")).to_have_text("1", timeout=15_000)
    assert lead.evaluate("window.notReloaded") is True

    # Opening All signals reads it: the menu's count and the search's own in the list both go.
    lead.goto(f"{site.url}/signals")
    expect(lead.locator("[data-signals-badge]")).to_be_hidden()
    expect(lead.locator("[data-saved-search] .badge-count")).to_have_count(0)
