"""The interface in the reader's language in Chromium: a Norwegian browser, Settings, ageing times."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, posts

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
