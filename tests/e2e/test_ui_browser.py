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
