"""axe-core in real Chromium on every page a person can reach, in English and Norwegian, light and dark.

Fails on any violation axe rates "serious" or "critical", listed with the rule, its help text,
the elements it found and the page.  One server (SQLite) and one set of people, communities and
posts serve all four runs: the pages are the same whatever the database behind them.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from microblog.services import accounts, communities, media, pins, posts, social, tokens

from ..server import flask_cli, free_port, running_server, server_env
from ..test_media import picture
from .conftest import Site, log_in

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

# A rule that is wrong about one element, by rule: the element (a CSS selector) it is not applied to.
EXEMPT = {
    # The like button shows an icon and the count ("♡ 3"); its name is "Like (3 likes)".  axe sets
    # aside what a name says in parentheses, so the visible "3" is "missing" from it.  The name begins
    # with the word the icon stands for, which is what a speech-input user says, and a screen reader
    # reads the count: nothing is missing for anyone.
    "label-content-name-mismatch": "button.like",
}

# The four runs: each language in each colour scheme.
LOOKS = [("en-GB", "light"), ("en-GB", "dark"), ("nb-NO", "light"), ("nb-NO", "dark")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[dict]:
    """A server with an ordinary person, a site admin, communities, a thread, likes and notifications."""
    folder = tmp_path_factory.mktemp("a11y")
    shutil.copyfile(sqlite_template, folder / "microblog.db")
    env = server_env(f"sqlite:///{folder / 'microblog.db'}", folder / "data", free_port())
    flask_cli(env, "db", "upgrade")
    with running_server(env) as url:
        site = Site(url, env)
        yield {"site": site, **_populate(site)}


def _populate(site: Site) -> dict:
    site.create_user("alice", "--name", "Alice Andersen")
    site.create_user("bob", "--name", "Bob Berg")
    site.create_user("carol")
    site.create_user("root", "--admin", "--name", "Site Admin")
    with site.services():
        alice, bob, carol = (accounts.access_user(n) for n in ("alice", "bob", "carol"))
        accounts.update_profile(alice, job_title="Team Lead", department="Engineering", bio="Plans #apollo")
        social.follow_user(alice, "bob")
        social.follow_user(bob, "alice")  # a notification
        social.follow_tag(alice, "apollo")
        leaders = communities.create_community(
            alice, "leaders", name="Leaders", description="Team leads of every department.", private=True
        )
        communities.add_member(alice, leaders, bob)
        communities.join(carol, leaders)  # a join request for alice
        apollo = communities.create_community(
            alice, "apollo", name="Apollo Program", description="Launch planning, status and questions."
        )
        communities.set_official(None, apollo, True)
        communities.join(bob, apollo)
        communities.create_community(carol, "hidden", name="Hidden", description="Carol's.", private=True)
        root = posts.post_status(bob, "@alice Launch rehearsal moved to Thursday 10:00 #apollo")
        reply = posts.post_status(alice, "@bob Thursday works, I'll book the room", in_reply_to=str(root.id))
        posts.post_status(bob, "@alice thanks! https://example.com/agenda", in_reply_to=str(reply.id))
        posts.like_post(alice, root.id)
        posts.like_post(bob, reply.id)  # a notification
        posts.post_status(alice, "@leaders Q3 planning starts Monday. Bring your numbers #q3")
        posts.post_status(bob, "@apollo Countdown checklist is in the wiki #apollo")
        # Images: one described and one not, pinned (so on alice's profile twice), and one alone.
        shots = [
            media.upload(alice, picture((800, 600)), description="Launch pad at dawn"),
            media.upload(alice, picture()),
        ]
        pinned = posts.post_status(
            alice, "Photos from the site visit #apollo", media_ids=[str(m.id) for m in shots]
        )
        pins.pin_post(alice, pinned.id)
        chart = media.upload(bob, picture((1600, 900)), description="Burn-down chart: on track")
        posts.post_status(bob, "Sprint burn-down #apollo", media_ids=[str(chart.id)])
        tokens.create_personal_token(alice, "CI bot")
        app, _secret = tokens.register_app("Status board", tokens.OOB_REDIRECT, "read write")
        client_id, thread_id = app.client_id, reply.id
    authorize = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": tokens.OOB_REDIRECT,
            "scope": "read",
        }
    )
    return {"thread": f"/posts/{thread_id}", "authorize": f"/oauth/authorize?{authorize}"}


def _pages(world: dict) -> dict[str, list[str]]:
    """Return the paths to check, by who looks at them (None: logged out)."""
    return {
        "": ["/login", "/signup", "/nothing-here"],
        "alice": [
            "/",
            "/public",
            "/mentions",
            "/notifications",
            world["thread"],
            "/@bob",
            "/@alice",
            "/@alice/followers",
            "/@alice/following",
            "/people",
            "/tags",
            "/tags/apollo",
            "/tags/apollo/followers",
            "/communities",
            "/@leaders",  # a private community alice runs
            "/@hidden",  # a private community she is not in
            "/@apollo",
            "/@leaders/manage",
            "/communities/new",
            "/search?q=apollo",
            "/search?q=alice",
            "/search",
            "/settings",
            "/settings/tokens",
            "/posts/999999",
            world["authorize"],
        ],
        "root": ["/", "/admin/users", "/@alice"],
    }


def _axe(page) -> list[dict]:
    """Run axe-core on the page; return its violations.

    The site's Content-Security-Policy (script-src 'self') refuses an injected <script>, so
    add_script_tag cannot load axe.  page.evaluate runs the source through the DevTools protocol,
    which the policy does not govern, and so the page is checked under the policy people get.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return page.evaluate(
        """async (exempt) => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            const applies = (rule, node) =>
                !(rule in exempt && document.querySelector(node.target[0])?.matches(exempt[rule]));
            return result.violations
                .map(v => ({...v, nodes: v.nodes.filter(node => applies(v.id, node))}))
                .filter(v => v.nodes.length);
        }""",
        EXEMPT,
    )


def _report(found: list[tuple[str, dict]]) -> str:
    """Return the violations by rule, each element once with the pages it is on."""
    rules: dict[tuple[str, str, str], dict[str, tuple[str, list[str]]]] = {}
    for where, violation in found:
        elements = rules.setdefault((violation["impact"], violation["id"], violation["help"]), {})
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            summary = " ".join(node.get("failureSummary", "").split())
            elements.setdefault(target, (summary, []))[1].append(where)
    lines = []
    for (impact, rule, help_text), elements in sorted(rules.items()):
        lines.append(f"[{impact}] {rule}: {help_text}")
        for target, (summary, pages) in elements.items():
            more = f" and {len(pages) - 3} more" if len(pages) > 3 else ""
            lines.append(f"  {target}\n    {summary[:400]}\n    on {', '.join(pages[:3])}{more}")
    return "\n".join(lines)


def _wait_for_search(page, site: Site) -> None:
    """Wait until the search worker has indexed the posts made for the test."""
    for _attempt in range(100):
        page.goto(f"{site.url}/search?q=apollo")
        if page.locator("article.post").count():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the posts were never indexed")


@pytest.mark.parametrize(("locale", "scheme"), LOOKS, ids=[f"{lo[:2]}-{s}" for lo, s in LOOKS])
def test_every_page_passes_axe_without_serious_violations(world, new_page, locale, scheme):
    site = world["site"]
    found: list[tuple[str, dict]] = []
    for who, paths in _pages(world).items():
        page = new_page(locale=locale, color_scheme=scheme, viewport={"width": 1280, "height": 900})
        if who:
            log_in(page, site, who)
            _wait_for_search(page, site)
        for path in paths:
            page.goto(f"{site.url}{path}")
            assert page.locator("html").get_attribute("lang") == locale[:2], path
            where = f"{path} ({who or 'logged out'}, {locale[:2]}, {scheme})"
            found += [(where, v) for v in _axe(page) if v["impact"] in BLOCKING]
        if who == "alice":  # what opens on a page: the account menu, completion, the shortcuts' help
            page.goto(f"{site.url}/")
            page.click("details.usermenu summary")
            found += [
                (f"/ menu open ({locale[:2]}, {scheme})", v) for v in _axe(page) if v["impact"] in BLOCKING
            ]
            page.goto(f"{site.url}/")
            page.click("#composer-text")
            page.keyboard.type("@b")
            page.locator("#composer-text-suggestions [role=option]").first.wait_for()
            found += [
                (f"/ suggestions open ({locale[:2]}, {scheme})", v)
                for v in _axe(page)
                if v["impact"] in BLOCKING
            ]
            page.goto(f"{site.url}/")
            page.keyboard.press("?")
            page.locator("dialog[data-shortcuts-help][open]").wait_for()
            found += [
                (f"/ shortcuts help open ({locale[:2]}, {scheme})", v)
                for v in _axe(page)
                if v["impact"] in BLOCKING
            ]
            found += [(f"{where} ({locale[:2]}, {scheme})", v) for where, v in _image_states(page, site)]
    assert not found, "axe found serious or critical accessibility problems:\n" + _report(found)


def _image_states(page, site: Site) -> list[tuple[str, dict]]:
    """Return axe's serious findings with a description shown, a lightbox open, images in the composer."""
    found = []
    page.goto(f"{site.url}/public")
    page.locator("[data-alt]").first.click()
    found += [("/public image description shown", v) for v in _axe(page) if v["impact"] in BLOCKING]
    page.locator("a[data-lightbox]").first.click()
    page.locator("dialog[data-lightbox-dialog][open]").wait_for()
    found += [("/public lightbox open", v) for v in _axe(page) if v["impact"] in BLOCKING]
    page.goto(f"{site.url}/")
    not_an_image = {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"minutes"}
    shot = {"name": "shot.jpg", "mimeType": "image/jpeg", "buffer": picture((400, 300))}
    page.set_input_files("form.composer [data-attach-input]", [shot, not_an_image])
    page.locator("[data-attachment] input[name=media_ids]:enabled").wait_for(state="attached")
    page.locator("[data-attachment-error]:not([hidden])").wait_for()
    found += [("/ composer with images", v) for v in _axe(page) if v["impact"] in BLOCKING]
    return found


def test_axe_is_for_the_tests_only_and_the_site_never_serves_it(world):
    served = [p for p in (ROOT / "microblog").rglob("*.js") if "axe v" in p.read_text(errors="replace")[:200]]
    assert served == []
    for path in ("/static/axe.min.js", "/static/vendor/axe.min.js", "/static/vendor/axe-core/axe.min.js"):
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"{world['site'].url}{path}", timeout=5)
        assert answer.value.code == 404, path
