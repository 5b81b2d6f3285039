"""The interface in the reader's language in Chromium: a Norwegian browser, Settings, ageing times."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, posts, social

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_a_norwegian_browser_gets_norwegian_and_settings_switch_it_to_english(site, new_page):
    site.create_user("kari")
    page = new_page(locale="nb-NO")
    log_in(page, site, "kari")
    page.goto(f"{site.url}/settings")
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    expect(page.locator("#preferences h2")).to_have_text("Språk og tid")
    page.select_option("#locale", "en")
    page.click("#preferences button[type=submit]")
    expect(page.locator("#preferences h2")).to_have_text("Language and time")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_relative_times_age_in_the_page_and_the_exact_time_is_in_the_title(site, new_page):
    site.create_user("kari")
    with site.services():
        kari = accounts.access_user("kari")
        accounts.update_preferences(kari, locale="nb", timezone="Europe/Oslo")
        posts.post_status(kari, "Sommerfesten er fredag")
    page = new_page(locale="nb-NO")
    page.clock.install()
    log_in(page, site, "kari")
    time = page.locator("article.post time").first
    expect(time).to_have_text("akkurat nå")
    expect(time).to_have_attribute("title", re.compile(r"^\d{1,2}\. \w+ \d{4} kl\. \d{2}:\d{2}$"))
    page.clock.fast_forward("03:10")
    expect(time).to_have_text("for 3 minutter siden")


def _connected(page) -> None:
    expect(page.locator("body")).to_have_attribute("data-live", "connected", timeout=10_000)


@pytest.mark.parametrize(
    "locale, left, control",
    [
        ("nb-NO", "137 tegn igjen", "Innlegget inneholder kontrolltegn"),
        ("en-GB", "137 characters left", "The post contains control characters"),
    ],
)
def test_the_composer_counter_speaks_the_browser_s_language(site, new_page, locale, left, control):
    site.create_user("kari")
    page = new_page(locale=locale)
    log_in(page, site, "kari")
    counter = page.locator("form.composer [data-counter]").first
    page.fill("#composer-text", "abc")
    expect(counter).to_have_attribute("title", left)
    page.fill("#composer-text", "ab\x07c")
    expect(counter).to_have_attribute("title", control)
    page.fill("#composer-text", "x" * 139)
    expect(counter).to_have_attribute("title", "1 tegn igjen" if locale == "nb-NO" else "1 character left")


@pytest.mark.parametrize(
    "locale, bar_text, liked",
    [
        ("nb-NO", "1 nytt innlegg", "Fjern likerklikket (1 person liker dette)"),
        ("en-GB", "1 new post", "Unlike (1 like)"),
    ],
)
def test_the_live_bar_and_the_like_button_speak_the_browser_s_language(
    site, new_page, locale, bar_text, liked
):
    site.create_user("kari")
    site.create_user("ola")
    with site.services():
        kari = accounts.access_user("kari")
        social.follow_user(kari, "ola")
        for n in range(15):
            posts.post_status(accounts.access_user("ola"), f"Eldre innlegg nummer {n}")
    page = new_page(locale=locale, viewport={"width": 1000, "height": 600})
    log_in(page, site, "kari")
    _connected(page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    other = new_page()
    log_in(other, site, "ola")
    other.fill("#composer-text", "Ferske nyheter")
    other.click("form.composer button[type=submit]")
    expect(page.locator("[data-new-posts]")).to_have_text(bar_text, timeout=5_000)
    page.locator("[data-new-posts]").click()
    button = page.locator("article.post", has_text="Ferske nyheter").locator("button.like")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_accessible_name(liked)
