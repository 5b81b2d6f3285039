"""End-to-end: sign-up, posting, the live counter, following a tag, in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..factories import PASSWORD
from ..vectors import post_length_cases
from .conftest import log_in

pytestmark = pytest.mark.browser


def test_sign_up_and_post(site, new_page):
    page = new_page()
    page.goto(f"{site.url}/signup")
    page.fill("#username", "kari.nordmann")
    page.fill("#display_name", "Kari Nordmann")
    page.fill("#email", "kari@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/people")
    page.click("nav.mainnav >> text=Home")
    page.fill("#composer-text", "Blåbærsyltetøy <b>på</b> fredag! #kantine https://wiki.example.com/x")
    page.click("form.composer button[type=submit]")
    post = page.locator("article.post").first
    post.wait_for()
    assert "Blåbærsyltetøy <b>på</b> fredag!" in post.locator(".post-text").inner_text()
    assert post.locator(".post-text b").count() == 0  # typed HTML is text, never markup
    assert post.locator("a.hashtag").get_attribute("href") == "/tags/kantine"
    assert (
        post.locator("a[href^='https://wiki.example.com']").get_attribute("rel")
        == "nofollow noopener noreferrer"
    )
    assert "Kari Nordmann" in post.locator(".author").inner_text()


def test_counter_agrees_with_the_shared_vectors(site, new_page):
    site.create_user("alice")
    page = new_page()
    log_in(page, site, "alice")
    counter = page.locator("[data-counter]")
    button = page.locator("form.composer button[type=submit]")
    assert counter.inner_text() == "140"
    for case in post_length_cases():
        page.evaluate(
            """text => {
                const area = document.querySelector('#composer-text');
                area.value = text;
                area.dispatchEvent(new Event('input', {bubbles: true}));
            }""",
            case["text"],
        )
        if case["length"] is not None:
            assert counter.get_attribute("data-remaining") == str(140 - case["length"]), case["name"]
        assert button.is_enabled() == case["valid"], case["name"]
    for invisible in ("\u200b", "\ufeff", " \u2060 "):  # the server refuses these as empty too
        page.evaluate(
            """text => {
                const area = document.querySelector('#composer-text');
                area.value = text;
                area.dispatchEvent(new Event('input', {bubbles: true}));
            }""",
            invisible,
        )
        assert not button.is_enabled()


def test_refused_post_keeps_the_text_without_javascript(site, new_page):
    site.create_user("alice")
    page = new_page(java_script_enabled=False)
    log_in(page, site, "alice")
    page.fill("#composer-text", "x" * 150)
    page.click("form.composer button[type=submit]")
    expect(page.locator(".field-error")).to_contain_text("at most 140 characters; this one has 150")
    expect(page.locator("#composer-text")).to_have_value("x" * 150)
    page.fill("#composer-text", "Posting works without JavaScript")
    page.click("form.composer button[type=submit]")
    expect(page.locator("article.post .post-text").first).to_have_text("Posting works without JavaScript")


def test_follow_a_tag_and_see_its_posts_at_home(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    bob = new_page()
    log_in(bob, site, "bob")
    bob.fill("#composer-text", "Apollo 2.1 is on staging #apollo")
    bob.keyboard.press("Control+Enter")  # the shortcut posts too
    bob.locator("article.post").first.wait_for()

    alice = new_page()
    log_in(alice, site, "alice")
    expect(alice.locator("article.post")).to_have_count(0)  # alice follows nobody yet
    alice.goto(f"{site.url}/tags/apollo")
    alice.click("button[data-follow-tag=apollo]")
    expect(alice.locator("button[data-follow-tag=apollo]")).to_have_text("Unfollow #apollo")
    alice.click("nav.mainnav >> text=Home")
    expect(alice.locator("article.post .post-text").first).to_have_text("Apollo 2.1 is on staging #apollo")


def test_reply_like_and_delete(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    bob = new_page()
    log_in(bob, site, "bob")
    bob.fill("#composer-text", "Who reviews the release notes?")
    bob.click("form.composer button[type=submit]")

    alice = new_page()
    log_in(alice, site, "alice")
    alice.goto(f"{site.url}/public")
    alice.click("article.post button.like")
    expect(alice.locator("article.post button.like")).to_have_attribute("aria-pressed", "true")  # in place
    alice.click("article.post a.action[title=Reply]")
    expect(alice.locator("#composer-text")).to_have_value("@bob ")
    alice.wait_for_load_state()  # the thread page's scripts have set up its composer
    alice.locator("#composer-text").press("End")
    alice.locator("#composer-text").type("I will")
    alice.click("form.composer button[type=submit]")
    expect(alice.locator(".thread-item")).to_have_count(2)
    expect(alice.locator(".thread-item.is-reply .post-text")).to_have_text("@bob I will")

    # Bob's badge counts the like and the reply; opening the page clears it (with a POST, by site.js).
    bob.goto(f"{site.url}/")
    expect(bob.locator("[data-notification-badge]")).to_have_text("2")
    bob.goto(f"{site.url}/notifications")
    expect(bob.locator(".notification.unread")).to_have_count(2)
    expect(bob.locator("[data-notification-badge]")).to_be_hidden()
    bob.goto(f"{site.url}/")
    expect(bob.locator("[data-notification-badge]")).to_be_hidden()

    alice.on("dialog", lambda dialog: dialog.accept())
    alice.locator(".thread-item.is-reply button.delete").click()
    alice.wait_for_url(f"{site.url}/")  # the reply's own page is gone: back home
    expect(alice.locator(".flashes .flash")).to_have_text("Post deleted.")
    alice.goto(f"{site.url}/public")
    expect(alice.locator("article.post")).to_have_count(1)


def test_the_browser_enforces_the_policy_no_inline_script_no_framing(site, new_page, tmp_path):
    site.create_user("alice")
    page = new_page()
    page.probes_csp = True
    log_in(page, site, "alice")
    page.goto(f"{site.url}/settings/tokens")
    # Script that got into the page (as an XSS would) does not run: only the site's own files do.
    ran = page.evaluate(
        """() => new Promise(resolve => {
            window.probeRan = false;
            const script = document.createElement("script");
            script.textContent = "window.probeRan = true";
            document.body.appendChild(script);
            setTimeout(() => resolve(window.probeRan), 200);
        })"""
    )
    assert ran is False and any("inline script" in text for text in page.csp_refusals)
    # Another page cannot frame ours (clickjacking of Create token and Authorize).
    framing = tmp_path / "frame.html"
    framing.write_text(f'<iframe id="probe" src="{site.url}/settings/tokens"></iframe>')
    other = new_page()
    other.probes_csp = True
    other.goto(framing.as_uri())
    other.wait_for_timeout(500)
    frame = other.frame_locator("#probe")
    assert frame.locator("form").count() == 0
