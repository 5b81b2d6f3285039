"""The page furniture in real Chromium: header, keyboard focus, liking in place, confirmations.

MICROBLOG_SCREENSHOTS=DIR also saves home and a thread at phone and desktop widths there.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, posts

from .conftest import log_in

pytestmark = pytest.mark.browser


def test_keyboard_focus_on_the_composer_is_visible(site, new_page):
    site.create_user("alice")
    page = new_page()
    log_in(page, site, "alice")
    page.locator("#composer-text").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # focus by keyboard: :focus-visible
    style = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [document.activeElement.id, s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] == "composer-text" and style[1] != "none" and style[2] != "0px", style


def test_liking_updates_the_button_in_place_without_a_reload(site, new_page):
    site.create_user("alice")
    site.create_user("bob")
    with site.services():
        bob = accounts.access_user("bob")
        for n in range(25):
            posts.post_status(bob, f"Status update number {n}")
    page = new_page(viewport={"width": 1280, "height": 700})
    log_in(page, site, "alice")
    page.goto(f"{site.url}/public")
    page.evaluate("window.notReloaded = true")
    post = page.locator("article.post").nth(12)
    button = post.locator("button.like")
    button.scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0
    expect(button).to_have_accessible_name("Like")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_accessible_name("Unlike (1 like)")
    expect(post.locator("[data-like-count]")).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True and page.evaluate("window.scrollY") == scrolled
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button).to_have_accessible_name("Like")
    expect(post.locator("[data-like-count]")).to_have_text("")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    page.reload()  # what the server stored, not only what the page shows
    again = page.locator("article.post").nth(12).locator("button.like")
    expect(again).to_have_attribute("aria-pressed", "true")
    expect(again).to_have_accessible_name("Unlike (1 like)")


def test_revoking_a_token_and_deactivating_an_account_ask_first(site, new_page):
    site.create_user("root", "--admin")
    site.create_user("bob")
    page = new_page()
    log_in(page, site, "root")
    asked: list[str] = []
    answer = {"accept": False}

    def on_dialog(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"{site.url}/settings/tokens")
    page.fill("#name", "CI bot")
    page.click("form.stack button[type=submit]")
    page.click("[data-revoke='CI bot']")
    assert asked == ["Revoke the token CI bot? Whatever uses it stops working."]
    expect(page.locator("[data-revoke='CI bot']")).to_have_count(1)  # dismissed: nothing happened
    answer["accept"] = True
    page.click("[data-revoke='CI bot']")
    expect(page.locator("[data-revoke='CI bot']")).to_have_count(0)

    answer["accept"] = False
    page.goto(f"{site.url}/admin/users")
    page.click("[data-action=deactivate-bob]")
    assert asked[-1].startswith("Deactivate bob?")
    expect(page.locator("[data-action=deactivate-bob]")).to_have_count(1)
    answer["accept"] = True
    page.click("[data-action=deactivate-bob]")
    expect(page.locator("[data-action=reactivate-bob]")).to_have_count(1)
    page.click("[data-action=reactivate-bob]")  # undoing it asks nothing
    expect(page.locator("[data-action=deactivate-bob]")).to_have_count(1)
    assert len(asked) == 4
