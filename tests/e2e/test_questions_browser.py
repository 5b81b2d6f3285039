"""Questions in real Chromium: ask with the composer's toggle, reply, accept; "Answered" shows.

MICROBLOG_SCREENSHOTS=DIR also saves a team's question thread and /questions at phone and
desktop widths, in English and Norwegian, there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, posts, questions, teams

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_ask_reply_accept_and_the_question_is_answered(site, new_page):
    for name in ("alice", "bob"):
        site.create_user(name)
    alice, bob = new_page(), new_page()
    log_in(alice, site, "alice")
    log_in(bob, site, "bob")

    alice.fill("#composer-text", "Where do I book a meeting room?")
    alice.check("[data-question-toggle]")
    alice.click("#compose button[type=submit]")
    question = alice.locator("article.post").first
    expect(question.locator("[data-question-open]")).to_be_visible()

    bob.goto(f"{site.url}/public")
    bob.locator("article.post", has_text="meeting room").locator("a.time").click()
    bob.fill("#composer-text", "@alice in the intranet, under Facilities")
    bob.click("#reply button[type=submit]")
    expect(bob.locator("article.post", has_text="Facilities")).to_be_visible()
    expect(bob.locator("[data-accept]")).to_have_count(0)  # only the asker accepts

    question.locator("a.time").click()
    alice.locator("article.post", has_text="Facilities").locator("[data-accept] button").click()
    expect(alice.locator(".flashes")).to_contain_text("Answer accepted.")
    asked = alice.locator("article.post", has_text="meeting room")
    expect(asked.locator("[data-question-answered]")).to_be_visible()
    expect(asked.locator(".accepted-answer")).to_contain_text("under Facilities")
    alice.goto(f"{site.url}/")
    expect(
        alice.locator("article.post", has_text="meeting room").locator("[data-question-answered]")
    ).to_be_visible()


def test_question_pages_fit_a_phone_and_a_laptop_in_both_languages(site, new_page, tmp_path):
    """Nothing is wider than the window; MICROBLOG_SCREENSHOTS=DIR keeps the shots."""
    out = Path(os.environ.get("MICROBLOG_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("alice", "bob", "carol"):
        site.create_user(name)
    with site.services():
        alice, bob = accounts.access_user("alice"), accounts.access_user("bob")
        accounts.update_profile(alice, display_name="Alice Andersen")
        support = teams.create_team(None, "it-support", name="IT support", members=[bob])
        asked = posts.post_status(alice, "@it-support the VPN drops every hour? #question #vpn")
        answer = posts.post_status(
            support, "@alice a fix is rolling out: reconnect after 10:00", in_reply_to=asked.id, posted_by=bob
        )
        posts.post_status(bob, "@alice or use the office network meanwhile", in_reply_to=asked.id)
        questions.accept_answer(alice, answer.id)
        posts.post_status(alice, "Who has the key to the bike shed? #question")
        thread = f"/posts/{asked.id}"
    for lang, locale in (("en", "en-GB"), ("nb", "nb-NO")):
        for width in (390, 1280):
            for who, paths in (("bob", (thread, "/questions")), ("alice", (thread,))):
                page = new_page(viewport={"width": width, "height": 900}, locale=locale)
                log_in(page, site, who)
                for path in paths:
                    page.goto(f"{site.url}{path}")
                    name = "questions" if path == "/questions" else f"thread-{who}"
                    page.screenshot(path=str(out / f"{name}-{width}-{lang}.png"), full_page=True)
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
                page.context.close()
