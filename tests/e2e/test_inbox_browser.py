"""A helpdesk member works the team inbox in real Chromium: a question arrives live and is answered."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, teams

from .conftest import log_in

pytestmark = pytest.mark.browser


def _connected(page) -> None:
    expect(page.locator("body")).to_have_attribute("data-live", "connected", timeout=10_000)


def test_a_question_arrives_live_and_the_member_answers_it_from_the_inbox(site, new_page):
    for name in ("alice", "bob", "carol"):
        site.create_user(name)
    with site.services():
        teams.create_team(
            None,
            "it-support",
            name="IT support",
            members=[accounts.access_user("bob")],
            leads=[accounts.access_user("alice")],
        )
    bob, alice, carol = new_page(), new_page(), new_page()
    for page, name in ((bob, "bob"), (alice, "alice"), (carol, "carol")):
        log_in(page, site, name)
    bob.goto(f"{site.url}/teams/it-support/inbox")
    alice.goto(f"{site.url}/teams/it-support/inbox")
    expect(bob.locator("[data-inbox-empty]")).to_be_visible()
    _connected(bob)
    _connected(alice)
    bob.evaluate("window.notReloaded = true")

    carol.fill("#composer-text", "@it-support the VPN drops")
    carol.click("form.composer button[type=submit]")
    carol.wait_for_load_state()

    item = bob.locator("article.inbox-item")
    expect(item).to_have_count(1, timeout=5_000)
    expect(item.locator(".post-text")).to_have_text("@it-support the VPN drops")
    expect(item.locator("[data-item-state]")).to_have_text("Open")
    expect(bob.locator("[data-inbox-note]")).to_have_text("New in the inbox: a post from @carol")
    expect(bob.locator('[data-count="open"]')).to_have_text("1")
    expect(bob.locator("[data-inbox-empty]")).to_be_hidden()
    assert bob.evaluate("window.notReloaded") is True
    item_id = item.get_attribute("data-item-id")

    item.locator("textarea[name=text]").fill("@carol we restarted the gateway, try again")
    item.locator("button[data-action=answer]").click()
    expect(bob.locator(".flashes")).to_contain_text("Answered as @it-support.")
    expect(bob.locator('[data-count="answered"]')).to_have_text("1")
    expect(bob.locator("article.inbox-item")).to_have_count(0)  # no longer open

    # Alice's inbox, open all along: the item turned answered in place, and she was told.
    shown = alice.locator(f"#item-{item_id}")
    expect(shown.locator("[data-item-state]")).to_have_text("Answered", timeout=5_000)
    expect(shown).to_contain_text("answered in")
    expect(alice.locator("[data-inbox-note]")).to_have_text("The item from @carol is now: Answered")

    bob.goto(f"{site.url}/teams/it-support/inbox?filter=answered")
    expect(bob.locator(f"#item-{item_id} [data-item-state]")).to_have_text("Answered")

    carol.goto(f"{site.url}/@carol")
    carol.locator("article.post", has_text="the VPN drops").locator("a.time").click()
    expect(carol.locator("article.post", has_text="we restarted the gateway")).to_be_visible()
    reply = carol.locator("article.post", has_text="we restarted the gateway")
    expect(reply.locator(".author .handle")).to_have_text("@it-support")
