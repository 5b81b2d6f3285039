"""Live feeds in real Chromium: two people, a delete, a scrolled reader, a server restart."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, posts, social, teams

from ..server import running_server
from .conftest import Site, log_in

pytestmark = pytest.mark.browser


def _connected(page) -> None:
    expect(page.locator("body")).to_have_attribute("data-live", "connected", timeout=10_000)


def _post(page, text: str) -> None:
    page.fill("#composer-text", text)
    page.click("form.composer button[type=submit]")
    page.wait_for_load_state()


def _texts(page) -> list[str]:
    return page.locator("article.post .post-text").all_inner_texts()


def test_two_people_see_each_others_posts_live_and_deletes_vanish(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    alice, bob = new_page(), new_page()
    log_in(alice, site, "alice")
    log_in(bob, site, "bob")
    alice.goto(f"{site.url}/@bob")
    alice.click("form[action='/@bob/follow'] button")
    bob.goto(f"{site.url}/@alice")
    bob.click("form[action='/@alice/follow'] button")
    alice.goto(f"{site.url}/")
    bob.goto(f"{site.url}/")
    _connected(alice)
    _connected(bob)
    alice.evaluate("window.notReloaded = true")

    _post(bob, "Standup moved to 10:15 <i>today</i> #apollo")
    live = alice.locator("article.post").first
    expect(live.locator(".post-text")).to_have_text(
        "Standup moved to 10:15 <i>today</i> #apollo", timeout=5_000
    )
    assert live.locator(".post-text i").count() == 0
    # The payload is the API's Status, whose links are absolute: this site's tag page.
    tag_link = live.locator("a.hashtag").evaluate("a => [a.origin === location.origin, a.pathname]")
    assert tag_link == [True, "/tags/apollo"]
    assert alice.evaluate("window.notReloaded") is True
    # Built from the page's own post template: links, author, buttons (no Delete: not hers).
    post_id = live.get_attribute("data-post-id")
    assert live.locator("a.time").get_attribute("href") == f"/posts/{post_id}#post-{post_id}"
    assert live.locator(".author .handle").inner_text() == "@bob"
    assert live.locator(".author").get_attribute("href") == "/@bob"
    assert live.locator("button.delete").count() == 0 and live.locator("[data-in-reply]").count() == 0
    live.locator("button.like").click()  # its buttons work (the page reloads after the form)
    expect(alice.locator(f"#post-{post_id} button.like")).to_have_attribute("aria-pressed", "true")
    _connected(alice)
    alice.evaluate("window.notReloaded = true")

    _post(alice, "@bob thanks, noted")  # (alice's own page reloads: she posted through the form)
    _connected(alice)
    alice.evaluate("window.notReloaded = true")
    expect(bob.locator("article.post .post-text").first).to_have_text("@bob thanks, noted", timeout=5_000)
    # alice's follow (counted when bob's page loaded), then live: her like and her mention
    expect(bob.locator("[data-notification-badge]")).to_have_text("3")

    bob.on("dialog", lambda dialog: dialog.accept())
    bob.locator("article.post", has_text="Standup moved").locator("button.delete").click()
    expect(alice.locator("article.post", has_text="Standup moved")).to_have_count(0, timeout=5_000)
    assert alice.evaluate("window.notReloaded") is True


def test_likes_update_live(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    bob = new_page()
    log_in(bob, site, "bob")
    _post(bob, "Like this if the build is green")
    alice = new_page()
    log_in(alice, site, "alice")
    alice.goto(f"{site.url}/public")
    bob.goto(f"{site.url}/public")
    _connected(bob)
    alice.click("article.post button.like")
    expect(bob.locator("article.post [data-like-count]")).to_have_text("1", timeout=5_000)
    expect(bob.locator("[data-notification-badge]")).to_have_text("1")


def test_a_scrolled_reader_gets_a_new_posts_bar(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    with site.services():
        alice, bob = accounts.access_user("alice"), accounts.access_user("bob")
        social.follow_user(alice, "bob")
        for i in range(15):
            posts.post_status(bob, f"Older status number {i}")
    page = new_page(viewport={"width": 1000, "height": 600})
    log_in(page, site, "alice")
    _connected(page)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    other = new_page()
    log_in(other, site, "bob")
    _post(other, "Fresh news while you read")
    bar = page.locator("[data-new-posts]")
    expect(bar).to_have_text("1 new post", timeout=5_000)
    assert page.evaluate("window.scrollY") > 300  # not yanked to the top
    assert not page.locator("article.post", has_text="Fresh news").is_visible()
    bar.click()
    expect(page.locator("article.post", has_text="Fresh news")).to_be_visible()
    expect(bar).to_be_hidden()


def test_after_a_server_restart_the_page_catches_up_without_loss_or_doubles(site_env, new_page):
    site = Site(f"http://127.0.0.1:{site_env['MICROBLOG_PORT']}", site_env)
    site.create_user("alice")
    site.create_user("bob")
    with site.services():
        social.follow_user(accounts.access_user("alice"), "bob")
    page = new_page()
    with running_server(site_env):
        log_in(page, site, "alice")
        _connected(page)
        poster = new_page()
        log_in(poster, site, "bob")
        _post(poster, "live before the restart")
        expect(page.locator("article.post").first).to_contain_text("live before the restart", timeout=5_000)
    # The server is down: the page notices; posts made meanwhile reach no live client.
    expect(page.locator("body")).to_have_attribute("data-live", "disconnected", timeout=10_000)
    with site.services():
        bob = accounts.access_user("bob")
        for i in range(45):  # more than one catch-up page (40)
            posts.post_status(bob, f"missed {i}")
    with running_server(site_env):
        expect(page.locator("article.post").first).to_contain_text("missed 44", timeout=20_000)
        expect(page.locator("article.post")).to_have_count(46)
        _post(poster, "live after the restart")
        expect(page.locator("article.post").first).to_contain_text("live after the restart", timeout=5_000)
        missed = [f"missed {i}" for i in reversed(range(45))]
        assert _texts(page) == ["live after the restart", *missed, "live before the restart"]
        ids = page.locator("article.post").evaluate_all("els => els.map(e => Number(e.dataset.postId))")
        assert ids == sorted(set(ids), reverse=True)  # each once, newest first


def test_a_team_post_shows_its_writer_live_to_the_team_and_admins_only(site, new_page):
    for name in ("alice", "bob", "carol"):
        site.create_user(name)
    site.create_user("root", "--admin")
    with site.services():
        teams.create_team(
            None,
            "it-support",
            name="IT support",
            members=[accounts.access_user("bob")],
            leads=[accounts.access_user("alice")],
        )
    readers = {name: new_page() for name in ("alice", "root", "carol")}
    for name, page in readers.items():
        log_in(page, site, name)
        page.goto(f"{site.url}/public")
        _connected(page)
        page.evaluate("window.notReloaded = true")
    bob = new_page()
    log_in(bob, site, "bob")
    bob.select_option("select[data-post-as]", "it-support")
    _post(bob, "The VPN is back up")

    for name, page in readers.items():
        live = page.locator("article.post", has_text="The VPN is back up")
        expect(live.locator(".author .handle")).to_have_text("@it-support", timeout=5_000)
        if name == "carol":
            expect(live.locator("[data-posted-by]")).to_have_count(0)
            assert "bob" not in live.inner_html()
        else:
            expect(live.locator("[data-posted-by]")).to_have_text("by @bob for @it-support")
            assert live.locator("[data-posted-by] a").get_attribute("href") == "/@bob"
        assert page.evaluate("window.notReloaded") is True, name
        # As the page shows it after a reload: the same line, for the same people.
        before = live.locator("[data-posted-by]").count()
        page.reload()
        after = page.locator("article.post", has_text="The VPN is back up").locator("[data-posted-by]")
        expect(after).to_have_count(before)
