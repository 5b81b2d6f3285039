"""The page furniture in real Chromium: header, keyboard focus, liking in place, confirmations.

MICROBLOG_SCREENSHOTS=DIR also saves home and a thread at phone and desktop widths there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, posts, social

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


LONG_NAME = "Alexandra Konstantinopoulou-Ng"  # 30 characters


def _header_world(site) -> None:
    site.create_user("alexandra.k", "--admin", "--name", LONG_NAME)
    site.create_user("bob")
    with site.services():
        alexandra, bob = accounts.access_user("alexandra.k"), accounts.access_user("bob")
        social.follow_user(alexandra, "bob")
        for n in range(30):
            posts.post_status(bob, f"@alexandra.k status update number {n}")  # 30 unread notifications


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


# Norwegian's words are longer ("Emneknagger", "Administrasjon"): the header must hold them too.
@pytest.mark.parametrize("locale", ["en-GB", "nb-NO"])
def test_the_header_is_one_row_on_a_desktop_and_compact_on_a_phone(site, new_page, locale):
    _header_world(site)
    desktop = new_page(viewport={"width": 1280, "height": 800}, locale=locale)
    log_in(desktop, site, "alexandra.k")
    expect(desktop.locator("html")).to_have_attribute("lang", locale[:2])
    expect(desktop.locator("[data-notification-badge]")).to_have_text("30")
    expect(desktop.locator(".mainnav a[href='/admin/users']")).to_be_visible()
    for width in (1920, 1280, 1100, 1024):  # 1023 and below: the phone's two rows
        desktop.set_viewport_size({"width": width, "height": 800})
        header = _box(desktop, "header.topbar")
        parts = (".brand", ".mainnav a >> nth=0", ".mainnav a >> nth=-1", "#topsearch-q", ".usermenu")
        rows = [_box(desktop, s) for s in parts]
        assert header["height"] < 64, (width, header)  # one row, not two
        middles = {round(b["y"] + b["height"] / 2) for b in rows}
        assert max(middles) - min(middles) <= 4, (width, rows)  # everything on the same line
        assert desktop.evaluate("document.documentElement.scrollWidth") <= width
        clipped = desktop.evaluate(
            "() => { const nav = document.querySelector('.mainnav').getBoundingClientRect();"
            " return [...document.querySelectorAll('.mainnav a')].filter(a => {"
            " const r = a.getBoundingClientRect(); return r.left < nav.left || r.right > nav.right + 0.5; })"
            ".map(a => a.textContent.trim()); }"
        )
        assert clipped == [], f"links cut off at {width} px: {clipped}"
    desktop.set_viewport_size({"width": 1280, "height": 800})

    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale=locale)
    log_in(phone, site, "alexandra.k")
    header = _box(phone, "header.topbar")
    assert header["height"] <= 844 / 8, header  # an eighth of the screen at most, not a quarter
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.evaluate("window.scrollTo(0, 1500)")
    assert phone.evaluate("window.scrollY") > 1000
    top = phone.evaluate("document.querySelector('header.topbar').getBoundingClientRect().bottom")
    assert top <= 60, top  # scrolled: the header takes at most a small bar

    # The "N new posts" bar, scrolled down, is in view and not under the header.
    for page, width in ((desktop, 1280), (phone, 390)):
        page.goto(f"{site.url}/")
        page.evaluate(
            "() => { const b = document.querySelector('[data-new-posts]'); b.hidden = false;"
            " b.textContent = '3 new posts'; window.scrollTo(0, 1500); }"
        )
        assert page.evaluate("window.scrollY") > 1000
        bar = page.evaluate("document.querySelector('[data-new-posts]').getBoundingClientRect().toJSON()")
        head = page.evaluate("document.querySelector('header.topbar').getBoundingClientRect().toJSON()")
        assert bar["top"] >= max(head["bottom"], 0) and bar["bottom"] <= page.viewport_size["height"], (
            width,
            bar,
            head,
        )
        hit = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y).closest('[data-new-posts]') !== null",
            [bar["left"] + bar["width"] / 2, bar["top"] + bar["height"] / 2],
        )
        assert hit, f"the new-posts bar is covered at {width} px"


def test_home_and_a_thread_fit_a_phone_and_a_desktop(site, new_page, tmp_path):
    """Nothing is wider than the window; MICROBLOG_SCREENSHOTS=DIR keeps the shots."""
    out = Path(os.environ.get("MICROBLOG_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    _header_world(site)
    with site.services():
        alexandra, bob = accounts.access_user("alexandra.k"), accounts.access_user("bob")
        root = posts.post_status(bob, "Launch rehearsal moved to Thursday 10:00 #apollo")
        reply = posts.post_status(
            alexandra, "@bob Thursday works, I'll book the room", in_reply_to=str(root.id)
        )
        posts.post_status(bob, "@alexandra.k thanks!", in_reply_to=str(reply.id))
        posts.like_post(alexandra, root.id)
        reply_id = reply.id
    for width in (390, 1280):
        page = new_page(viewport={"width": width, "height": 900})
        log_in(page, site, "alexandra.k")
        for path, name in (("/", "home"), (f"/posts/{reply_id}", "thread")):
            page.goto(f"{site.url}{path}")
            page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} at {width} px"
        page.click("details.usermenu summary")
        expect(page.locator(".usermenu-panel >> text=Log out")).to_be_visible()
        page.screenshot(path=str(out / f"menu-{width}.png"))
        page.keyboard.press("Escape")
        expect(page.locator(".usermenu-panel")).to_be_hidden()
