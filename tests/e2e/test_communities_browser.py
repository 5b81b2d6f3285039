"""Communities in real Chromium: create a private one, ask to join, accept, a post arrives live.

MICROBLOG_SCREENSHOTS=DIR also saves the community pages at phone and desktop widths there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, communities, posts

from .conftest import log_in

pytestmark = pytest.mark.browser

SECRET = "Q3 reorg plan is ready #q3plan"


def _connected(page) -> None:
    expect(page.locator("body")).to_have_attribute("data-live", "connected", timeout=10_000)


def test_a_private_community_from_creation_to_a_live_post_only_members_see(site, new_page):
    for name in ("alice", "bob", "carol"):
        site.create_user(name)
    alice, bob, carol = new_page(), new_page(), new_page()
    for page, name in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
        log_in(page, site, name)

    # alice creates a private community through the form.
    alice.click("nav.mainnav >> text=Communities")
    alice.click("text=Create community")
    alice.fill("#name", "Leaders")
    alice.fill("#handle", "leaders")
    alice.fill("#description", "Team leads of every department")
    alice.check("input[name=visibility][value=private]")
    alice.click("form.stack button[type=submit]")
    alice.wait_for_url(f"{site.url}/@leaders")
    expect(alice.locator(".community-head h1")).to_contain_text("Leaders")
    expect(alice.locator(".community-head .pill-private")).to_be_visible()

    # bob asks to join: he sees no posts, only the note.
    bob.goto(f"{site.url}/@leaders")
    expect(bob.locator(".private-note")).to_contain_text("This community is private")
    bob.click("[data-membership=request]")
    expect(bob.locator("[data-membership=cancel]")).to_be_visible()

    # alice is told, and accepts.
    alice.goto(f"{site.url}/notifications")
    alice.click("[data-join-request]")
    alice.wait_for_url(f"{site.url}/@leaders/manage#requests")
    alice.click("[data-action=accept-bob]")
    expect(alice.locator(".flashes")).to_contain_text("bob is now a member of Leaders")
    expect(alice.locator("#requests")).to_contain_text("No one is waiting")

    # bob now reads the community at home; alice posts in it; it arrives live.
    bob.goto(f"{site.url}/")
    carol.goto(f"{site.url}/public")
    bob_there = new_page()  # bob on the community's own page too
    log_in(bob_there, site, "bob")
    bob_there.goto(f"{site.url}/@leaders")
    _connected(bob)
    _connected(carol)
    _connected(bob_there)
    bob.evaluate("window.notReloaded = true")
    alice.goto(f"{site.url}/@leaders")
    expect(alice.locator("#composer-text")).to_have_value("@leaders ")
    alice.fill("#composer-text", f"@leaders {SECRET}")
    alice.click("form.composer button[type=submit]")
    expect(alice.locator("article.post .post-text").first).to_contain_text(SECRET)

    live = bob.locator("article.post", has_text=SECRET)
    expect(live).to_have_count(1, timeout=5_000)
    assert bob.evaluate("window.notReloaded") is True
    expect(live.locator("a.in-community")).to_have_attribute("href", "/@leaders")
    expect(live.locator("a.in-community [data-community-name]")).to_have_text("Leaders")
    expect(live.locator("a.in-community [data-community-lock]")).to_have_count(1)
    # On the community's own page its posts do not name it each time, live or not.
    there = bob_there.locator("article.post", has_text=SECRET)
    expect(there).to_have_count(1, timeout=5_000)
    expect(there.locator("a.in-community")).to_have_count(0)
    expect(alice.locator("article.post", has_text=SECRET).locator("a.in-community")).to_have_count(0)

    # carol, in no community, never sees it: company feed (live and reloaded), home, tag, search.
    carol.wait_for_timeout(1000)
    expect(carol.locator("article.post", has_text=SECRET)).to_have_count(0)
    for path in ("/", "/public", "/tags/q3plan", "/search?q=reorg", "/@alice", "/@leaders"):
        carol.goto(f"{site.url}{path}")
        expect(carol.locator("main")).not_to_contain_text("reorg plan")
    expect(carol.locator(".private-note")).to_be_visible()


def test_community_pages_fit_a_phone_and_a_laptop_screen(site, new_page, tmp_path):
    """Nothing on the community pages is wider than the window; MICROBLOG_SCREENSHOTS=DIR keeps the shots."""
    out = Path(os.environ.get("MICROBLOG_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("alice", "bob", "carol"):
        site.create_user(name)
    with site.services():
        alice, bob = accounts.access_user("alice"), accounts.access_user("bob")
        accounts.update_profile(alice, display_name="Alice Andersen")
        leaders = communities.create_community(
            alice, "leaders", name="Leaders", description="Team leads of every department.", private=True
        )
        communities.add_member(alice, leaders, bob)
        apollo = communities.create_community(
            alice, "apollo", name="Apollo Program", description="Launch planning, status and questions."
        )
        communities.set_official(None, apollo, True)
        communities.create_community(bob, "old-intranet", name="Old intranet", description="Retired.")
        communities.set_archived(None, communities.access_community("old-intranet"), True)
        posts.post_status(alice, "@leaders Q3 planning starts Monday. Bring your numbers #q3")
        posts.post_status(bob, "@leaders I'll share the sales forecast by Friday.")
        posts.post_status(alice, "@apollo Launch rehearsal moved to Thursday 10:00")
    for width in (390, 1280):
        member = new_page(viewport={"width": width, "height": 900})
        log_in(member, site, "alice")
        outsider = new_page(viewport={"width": width, "height": 900})
        log_in(outsider, site, "carol")
        shots = [
            (member, "/communities", "directory"),
            (member, "/communities/new", "create"),
            (member, "/@leaders", "community-member"),
            (outsider, "/@leaders", "community-non-member"),
            (member, "/@leaders/manage", "manage"),
            (member, "/", "home"),
        ]
        for page, path, name in shots:
            page.goto(f"{site.url}{path}")
            page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} at {width} px"
