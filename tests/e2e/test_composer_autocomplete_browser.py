"""@mention and #tag completion in the composer, in real Chromium: keyboard, mouse, ARIA, privacy."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from microblog.database import db
from microblog.services import accounts, posts
from models import Post

from .conftest import log_in

pytestmark = pytest.mark.browser


def _world(site) -> None:
    site.create_user("alice", "--name", "Alice Andersen")
    site.create_user("bob", "--name", "Bob Berg")
    site.create_user("bodil", "--name", "Bodil Dahl")
    site.create_user("kari", "--name", "Kari Nordmann")
    with site.services():
        posts.post_status(accounts.access_user("kari"), "Rehearsal on Thursday #apollo #apollo-launch")


def test_choosing_a_mention_with_the_keyboard_and_posting_it(site, new_page):
    _world(site)
    page = new_page(viewport={"width": 1280, "height": 800})
    log_in(page, site, "alice")
    text = page.locator("#composer-text")
    listbox = page.locator("#composer-text-suggestions")
    # A multi-line text box that completes from a list (ARIA allows no combobox role on a textarea).
    assert text.get_attribute("role") is None
    expect(text).to_have_attribute("aria-autocomplete", "list")
    assert text.get_attribute("aria-controls") == "composer-text-suggestions"

    text.click()
    page.keyboard.type("Thanks @bo")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)
    expect(listbox).to_be_visible()
    assert options.all_inner_texts()[0].split() == ["Bob", "Berg", "@bob"]
    assert options.nth(1).inner_text().split() == ["Bodil", "Dahl", "@bodil"]
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    assert text.get_attribute("aria-activedescendant") == options.nth(0).get_attribute("id")

    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    assert text.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    page.keyboard.press("ArrowDown")  # round to the first again
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(text).to_have_value("Thanks @bob ")  # the partial word replaced, no newline
    expect(listbox).to_be_hidden()
    assert text.get_attribute("aria-activedescendant") is None
    expect(text).to_be_focused()

    page.keyboard.type("see #apo")
    tags = listbox.get_by_role("option")
    expect(tags).to_have_count(2)
    assert tags.all_inner_texts() == ["#apollo", "#apollo-launch"]
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # Tab chooses too
    expect(text).to_have_value("Thanks @bob see #apollo-launch ")
    page.keyboard.type("ok")
    expect(page.locator("[data-counter]")).to_have_text(str(140 - len("Thanks @bob see #apollo-launch ok")))

    page.keyboard.press("Control+Enter")  # posting with the keyboard still works
    first = page.locator("article.post").first
    expect(first.locator(".post-text")).to_have_text("Thanks @bob see #apollo-launch ok")
    expect(first.locator(".post-text a.mention")).to_have_attribute("href", "/@bob")
    with site.services():
        alice = accounts.access_user("alice")
        stored = db.session.scalars(select(Post.text).where(Post.author_id == alice.id)).all()
        assert stored == ["Thanks @bob see #apollo-launch ok"]


def test_escape_closes_a_click_chooses_and_no_match_says_so(site, new_page):
    _world(site)
    page = new_page(viewport={"width": 1280, "height": 800})
    log_in(page, site, "alice")
    text = page.locator("#composer-text")
    listbox = page.locator("#composer-text-suggestions")
    text.click()
    page.keyboard.type("@bo")
    expect(listbox.get_by_role("option")).to_have_count(2)
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    page.keyboard.press("Enter")  # closed: Enter is a newline again
    expect(text).to_have_value("@bo\n")
    page.keyboard.type("and @kar")
    listbox.get_by_role("option", name="Kari Nordmann @kari").click()
    expect(text).to_have_value("@bo\nand @kari ")
    expect(text).to_be_focused()
    page.keyboard.type("@zz")
    expect(page.locator("[data-suggest-empty]")).to_be_visible()
    expect(page.locator("[data-suggest-empty]")).to_have_text("No matches")
    expect(listbox).to_be_hidden()
    page.keyboard.type(" ")
    expect(page.locator("[data-suggest-empty]")).to_be_hidden()
    page.keyboard.type("me@bo")  # an address, not a mention: nothing is asked
    page.wait_for_timeout(400)
    expect(page.locator("[data-suggest]")).to_be_hidden()


def test_late_answers_are_dropped_and_typing_fast_asks_once(site, new_page):
    _world(site)
    page = new_page(viewport={"width": 1280, "height": 800})
    log_in(page, site, "alice")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/suggestions/" in r.url else None)

    # The answer for "@b" comes after the one for "@bod": the older one must not win.
    def slow_first(route) -> None:
        if route.request.url.endswith("q=b"):
            page.wait_for_timeout(600)
        route.continue_()

    page.route("**/suggestions/accounts?q=b", slow_first)
    text = page.locator("#composer-text")
    text.click()
    page.keyboard.type("@b")
    page.wait_for_timeout(250)  # the debounce passes: "b" is asked
    page.keyboard.type("od", delay=20)  # quicker than the debounce: one question for "bod"
    options = page.locator("#composer-text-suggestions").get_by_role("option")
    expect(options).to_have_count(1)
    page.wait_for_timeout(900)
    expect(options).to_have_count(1)
    assert options.inner_text().split() == ["Bodil", "Dahl", "@bodil"]
    assert [u.rsplit("=", 1)[1] for u in asked] == ["b", "bod"]


def test_the_list_fits_a_phone(site, new_page):
    _world(site)
    page = new_page(viewport={"width": 390, "height": 844})
    log_in(page, site, "alice")
    page.locator("#composer-text").click()
    page.keyboard.type("Hei @bo")
    listbox = page.locator("#composer-text-suggestions")
    expect(listbox.get_by_role("option")).to_have_count(2)
    box = listbox.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
