"""End-to-end: the header's search box in real Chromium, against a server indexing in the background."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_search_from_the_header_finds_posts_people_and_tags(site, new_page):
    site.create_user("kari")
    site.create_user("ola")
    page = new_page()
    log_in(page, site, "ola")
    page.fill("#composer-text", "Økonomirapporten for #apollo er klar til gjennomlesing")
    page.click("form.composer button[type=submit]")
    page.locator("article.post").first.wait_for()
    log_in(reader := new_page(), site, "kari")
    for _attempt in range(50):  # indexed in the background, right after the commit
        reader.fill("#topsearch-q", "økonomirapporten #APOLLO")
        reader.press("#topsearch-q", "Enter")
        reader.wait_for_url("**/search?q=*")
        if reader.locator("article.post").count():
            break
        reader.wait_for_timeout(200)
    result = reader.locator("article.post")
    expect(result).to_have_count(1)
    expect(result.locator("mark").first).to_have_text("Økonomirapporten")
    expect(reader.locator(".search-side .tag-chips a")).to_contain_text(["#apollo"])
    expect(reader.locator("#search-q")).to_have_value("økonomirapporten #APOLLO")
    reader.click("text=Newest first")
    expect(reader.locator(".search-order a[aria-current]")).to_have_text("Newest first")
    expect(reader.locator("article.post")).to_have_count(1)
    reader.fill("#search-q", "ola")
    reader.press("#search-q", "Enter")
    expect(reader.locator(".search-side .person")).to_contain_text(["@ola"])
    reader.fill("#search-q", 'apollo -- from: before:soon "unbalanced')
    reader.press("#search-q", "Enter")
    expect(reader.locator(".search-note").first).to_contain_text("needs")
