"""The page furniture in real Chromium: header, keyboard focus, liking in place, confirmations.

MICROBLOG_SCREENSHOTS=DIR also saves home and a thread at phone and desktop widths there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, posts

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_keyboard_focus_on_the_composer_is_visible(site, new_page):
    site.create_user("alice")
    page = new_page()
    log_in(page, site, "alice")
    page.locator("#composer-text").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus by keyboard: :focus-visible
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.id, s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] == "composer-text" and style[1] != "none" and style[2] != "0px", style


def test_liking_updates_the_button_in_place_without_a_reload(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    with site.services():
        bob = accounts.access_user("bob")
        for n in range(25):
            posts.post_status(bob, f"Status update number {n}")
    page = new_page(viewport={"width": 1280, "height": 700})
    log_in(page, site, "alice")
    page.goto(f"{site.url}/public")
    page.evaluate("window.notReloaded = true")
    post = page.locator("article.post").nth(12)
    button = post.locator("button.like")
    button.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0
    expect(button).to_have_accessible_name("Like")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_accessible_name("Unlike (1 like)")
    expect(post.locator("[data-like-count]")).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True and page.evaluate("window.scrollY") == scrolled
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_accessible_name("Like")
    expect(post.locator("[data-like-count]")).to_have_text("")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    page.reload()  # what the server stored, not only what the page shows
    again = page.locator("article.post").nth(12).locator("button.like")
    expect(again).to_have_attribute("aria-pressed", "true")
    expect(again).to_have_accessible_name("Unlike (1 like)")
