"""Bookmarks and pins in Chromium: turned on in place, kept on the Bookmarks page, pinned on the profile."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import log_in
from .test_live import _post

pytestmark = pytest.mark.browser


def test_a_colleague_bookmarks_a_post_and_finds_it_again(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    alice, bob = new_page(), new_page()
    log_in(alice, site, "alice")
    log_in(bob, site, "bob")
    bob.goto(f"{site.url}/")
    _post(bob, "Release checklist is in the wiki")
    _post(bob, "Coffee machine fixed")

    alice.goto(f"{site.url}/public")
    post = alice.locator("article.post", has_text="Release checklist")
    button = post.locator("button.bookmark")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")  # in place, no reload
    expect(button).to_have_attribute("aria-label", "Remove bookmark")

    alice.click("summary.me")
    alice.click("a[href='/bookmarks']")
    expect(alice.locator("h1")).to_have_text("Bookmarks")
    expect(alice.locator("article.post .post-text")).to_have_text(["Release checklist is in the wiki"])
    alice.locator("article.post button.bookmark").click()
    expect(alice.locator("article.post button.bookmark")).to_have_attribute("aria-pressed", "false")
    alice.reload()
    expect(alice.locator("article.post")).to_have_count(0)
    expect(alice.locator(".empty")).to_be_visible()


def test_a_colleague_pins_a_post_on_her_profile(site, new_page):
    site.create_user("alice")
    alice = new_page()
    log_in(alice, site, "alice")
    alice.goto(f"{site.url}/")
    _post(alice, "I run the Apollo project: ask me")
    _post(alice, "Lunch, anyone?")
    alice.goto(f"{site.url}/@alice")
    intro = alice.locator("[data-posts] article.post", has_text="Apollo")
    intro.locator("button.pin").click()
    expect(intro.locator("button.pin")).to_have_attribute("aria-pressed", "true")
    alice.reload()
    pinned = alice.locator("[data-pinned] article.post")
    expect(pinned).to_have_count(1)
    expect(pinned.locator(".pinned-label")).to_have_text("Pinned")
    expect(pinned.locator(".post-text")).to_have_text("I run the Apollo project: ask me")
