"""Light and dark themes in real Chromium: the system setting decides, and text stays readable.

MICROBLOG_SCREENSHOTS=DIR saves home, a thread and the open help and completion list in both
themes at phone and desktop widths there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from microblog.services import accounts, communities, posts, social

from .conftest import log_in

pytestmark = pytest.mark.browser

# Relative luminance and contrast ratio as WCAG 2 defines them, of computed rgb() colours.
CONTRAST = """
(pairs) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const linear = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    const [r, g, b] = rgb(c).map(linear);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const bg = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (!c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  };
  return pairs.map((sel) => {
    const el = document.querySelector(sel);
    if (!el) return [sel, null];
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    return [sel, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}
"""

READ = [
    "body",
    ".brand",
    ".mainnav a",
    ".mainnav a[aria-current=page]",
    ".post-text",
    ".post .handle",
    ".post .time",
    ".post-text a.hashtag",
    ".post-text a.mention",
    ".composer .button",
    ".counter",
    ".badge-count",
    ".in-community",
    ".flash",
    ".sitefoot .linkish",
]


def _world(site) -> int:
    site.create_user("alice", "--name", "Alice Andersen")
    site.create_user("bob", "--name", "Bob Berg")
    with site.services():
        alice, bob = accounts.access_user("alice"), accounts.access_user("bob")
        social.follow_user(alice, "bob")
        communities.create_community(bob, "apollo", name="Apollo", description="Launch team")
        social.follow_user(alice, "apollo")
        root = posts.post_status(bob, "@apollo Rehearsal on Thursday #apollo")
        posts.post_status(bob, "@alice can you book the room? #planning", in_reply_to=str(root.id))
        for n in range(3):
            posts.post_status(bob, f"@alice status update number {n}")
        return root.id


def _colours(page) -> dict[str, str]:
    return page.evaluate(
        "() => { const s = getComputedStyle(document.body), r = getComputedStyle(document.documentElement);"
        " const p = getComputedStyle(document.querySelector('article.post'));"
        " return {page: r.backgroundColor, text: s.color, post: p.backgroundColor,"
        " scheme: r.colorScheme}; }"
    )


def _lightness(colour: str) -> float:
    r, g, b = (float(v) for v in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])
    return (r + g + b) / 3


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_theme_follows_the_system_setting_and_text_is_readable(site, new_page, scheme):
    _world(site)
    options = {"color_scheme": scheme} if scheme == "dark" else {}  # light: the default of a new context
    page = new_page(viewport={"width": 1280, "height": 900}, **options)
    log_in(page, site, "alice")
    expect(page.locator('meta[name="color-scheme"]')).to_have_attribute("content", "light dark")
    colours = _colours(page)
    if scheme == "dark":
        assert _lightness(colours["page"]) < 40 and _lightness(colours["post"]) < 50, colours
        assert _lightness(colours["text"]) > 200, colours
    else:
        assert _lightness(colours["page"]) > 230 and _lightness(colours["post"]) > 240, colours
        assert _lightness(colours["text"]) < 60, colours
    page.fill("#composer-text", "Lunch?")  # the Post button enabled (a disabled one need not contrast)
    page.evaluate(
        "() => { const f = document.createElement('p'); f.className = 'flash'; f.textContent = 'Saved';"
        " document.querySelector('main').prepend(f); }"
    )
    ratios = dict(page.evaluate(CONTRAST, READ))
    low = {sel: round(r, 2) for sel, r in ratios.items() if r is not None and r < 4.5}
    assert low == {}, f"{scheme}: text below 4.5:1 against its background: {low}"
    assert [sel for sel, r in ratios.items() if r is None] == [], "every checked element is on the page"


def test_screenshots_in_both_themes_at_phone_and_desktop_widths(site, new_page, tmp_path):
    """Nothing is wider than the window in either theme; MICROBLOG_SCREENSHOTS=DIR keeps the shots."""
    out = Path(os.environ.get("MICROBLOG_SCREENSHOTS") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    root_id = _world(site)
    for scheme in ("light", "dark"):
        for width in (390, 1280):
            page = new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
            log_in(page, site, "alice")
            for path, name in (("/", "home"), (f"/posts/{root_id}", "thread")):
                page.goto(f"{site.url}{path}")
                page.screenshot(path=str(out / f"{name}-{scheme}-{width}.png"), full_page=True)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, scheme, width)
            page.goto(f"{site.url}/")
            page.locator("#composer-text").click()
            page.keyboard.type("Thanks @b")
            expect(page.locator("#composer-text-suggestions").get_by_role("option")).not_to_have_count(0)
            page.screenshot(path=str(out / f"complete-{scheme}-{width}.png"))
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            page.keyboard.press("Escape")
            page.locator("#composer-text").blur()
            page.keyboard.press("?")
            expect(page.get_by_role("dialog")).to_be_visible()
            page.screenshot(path=str(out / f"help-{scheme}-{width}.png"))
            assert page.evaluate("document.documentElement.scrollWidth") <= width
