"""Editing in Chromium: a typo fixed, the fix live on a colleague's open page, "edited" shows the versions."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import log_in
from .test_live import _connected, _post

pytestmark = pytest.mark.browser


def test_an_edit_shows_live_in_another_browser(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    alice, bob = new_page(), new_page()
    log_in(alice, site, "alice")
    log_in(bob, site, "bob")
    alice.goto(f"{site.url}/")
    _post(alice, "Standup moved to the big rooom")

    bob.goto(f"{site.url}/public")
    _connected(bob)
    post = bob.locator("article.post", has_text="Standup moved")
    expect(post.locator("[data-edited]")).to_be_hidden()
    expect(post.locator("a.edit")).to_have_count(0)  # not his post

    alice.locator("article.post", has_text="Standup moved").locator("a.edit").click()
    expect(alice.locator("#edit textarea")).to_have_value("Standup moved to the big rooom")
    alice.fill("#edit textarea", "Standup moved to the big room")
    alice.click("#edit button[type=submit]")
    expect(alice).to_have_url(f"{site.url}/")
    expect(alice.locator("article.post .post-text")).to_have_text(["Standup moved to the big room"])

    # Bob's page, open all along, follows the edit without a reload.
    expect(post.locator(".post-text")).to_have_text("Standup moved to the big room", timeout=10_000)
    edited = post.locator("[data-edited]")
    expect(edited).to_be_visible()
    edited.click()
    expect(bob.locator("h1")).to_have_text("Edit history")
    expect(bob.locator("[data-versions] .post-text")).to_have_text(
        ["Standup moved to the big room", "Standup moved to the big rooom"]
    )
