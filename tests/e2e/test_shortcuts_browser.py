"""Keyboard shortcuts in real Chromium: j/k between posts, n, /, ? and its help dialog, l and Enter."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, posts, social

from .conftest import log_in

pytestmark = pytest.mark.browser


def _focused_post(page) -> str | None:
    return page.evaluate(
        "document.activeElement.closest('article.post')?.querySelector('.post-text').textContent"
    )


def _world(site) -> None:
    site.create_user("alice")
    site.create_user("bob")
    with site.services():
        bob = accounts.access_user("bob")
        social.follow_user(accounts.access_user("alice"), "bob")
        for n in range(1, 13):
            posts.post_status(bob, f"Update {n}")


def test_j_and_k_move_between_posts_and_the_letters_stay_letters_in_fields(site, new_page):
    _world(site)
    page = new_page(viewport={"width": 1280, "height": 700})
    log_in(page, site, "alice")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")
    page.locator("body").click(position={"x": 5, "y": 300})  # focus on the page, not in a field
    page.keyboard.press("j")
    assert _focused_post(page) == "Update 12"
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert _focused_post(page) == "Update 11"
    focused = page.evaluate(
        "() => { const p = document.activeElement, s = getComputedStyle(p);"
        " return [p.matches(':focus-visible'), s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused[0] is True and focused[1] != "none" and focused[2] != "0px", focused

    for _ in range(10):
        page.keyboard.press("j")
    assert _focused_post(page) == "Update 1"  # the last one stays
    box = page.locator("article.post").last.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= 700, "scrolled into view"
    for _ in range(11):
        page.keyboard.press("k")
    assert _focused_post(page) == "Update 12"
    box = page.locator("article.post").first.bounding_box()
    header = page.locator("header.topbar").bounding_box()
    assert box is not None and header is not None and box["y"] >= header["y"] + header["height"], (
        box,
        header,
    )

    # A post that arrives live is one of the posts j and k walk through (at the top of the
    # page it is shown at once; further down it waits behind the "new posts" bar, hidden).
    page.evaluate("window.scrollTo(0, 0)")
    bob = new_page()
    log_in(bob, site, "bob")
    bob.fill("#composer-text", "Update 13, live")
    bob.click("form.composer button[type=submit]")
    expect(page.locator("article.post").first.locator(".post-text")).to_have_text("Update 13, live")
    expect(page.locator("article.post").first).to_be_visible()
    page.keyboard.press("k")
    assert _focused_post(page) == "Update 13, live"

    # n: the composer; what is typed there is text, j included.
    page.keyboard.press("n")
    expect(page.locator("#composer-text")).to_be_focused()
    page.keyboard.type("jk? n/")
    expect(page.locator("#composer-text")).to_have_value("jk? n/")
    expect(page.locator("#composer-text")).to_be_focused()
    expect(page.locator("dialog[data-shortcuts-help]")).not_to_be_visible()

    # /: the search box, without typing the slash into it; j there is a letter too.
    page.locator("#composer-text").blur()
    page.keyboard.press("/")
    expect(page.locator("#topsearch-q")).to_be_focused()
    page.keyboard.type("j")
    expect(page.locator("#topsearch-q")).to_have_value("j")

    # With Ctrl, Alt or Meta held nothing fires.
    page.locator("#topsearch-q").blur()
    page.keyboard.press("Control+j")
    page.keyboard.press("Alt+n")
    assert page.evaluate(
        "document.activeElement === document.body || !document.activeElement.matches('textarea')"
    )
    assert _focused_post(page) is None


def test_question_mark_opens_the_help_and_escape_returns_focus(site, new_page):
    _world(site)
    page = new_page(viewport={"width": 1280, "height": 800})
    log_in(page, site, "alice")
    page.keyboard.press("j")
    assert _focused_post(page) == "Update 12"
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    listed = dialog.locator("dt").all_inner_texts()
    for key in ("j", "k", "n", "/", "?", "Enter", "l"):
        assert key in listed, listed
    expect(dialog.locator("dd").first).to_have_text("Next post")
    page.keyboard.press("j")  # the page behind does not move
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert _focused_post(page) == "Update 12"  # focus is back where it was

    # The footer button opens it with the mouse; Close closes it.
    page.get_by_role("button", name="Keyboard shortcuts").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_l_likes_the_focused_post_and_enter_opens_it(site, new_page):
    _world(site)
    page = new_page(viewport={"width": 1280, "height": 800})
    log_in(page, site, "alice")
    page.keyboard.press("j")
    page.keyboard.press("j")
    post = page.locator("article.post").nth(1)
    page.keyboard.press("l")
    expect(post.locator("button.like")).to_have_attribute("aria-pressed", "true")
    expect(post.locator("[data-like-count]")).to_have_text("1")
    assert _focused_post(page) == "Update 11"
    post_id = post.get_attribute("data-post-id")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/posts/{post_id}#post-{post_id}")
    # The thread's posts are walked too, and n goes to the reply box.
    page.keyboard.press("j")
    assert _focused_post(page) == "Update 11"
    page.keyboard.press("n")
    expect(page.locator("#composer-text")).to_be_focused()
