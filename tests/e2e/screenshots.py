"""`make screenshots`: the main pages at phone and desktop widths, in English and Norwegian, light and dark.

    .venv/bin/python -m tests.e2e.screenshots [--out screenshots] [--no-dark]

Starts the site as the browser tests do (its own temporary data directory, SQLite, a
server process on a free loopback port), seeds the demo company (`flask demo seed`,
small), spreads its posts over the last 90 days (so that boards have a shape), adds a
thread, likes, a follow, a mention and posts with one, two and four images for the
person with the longest demo name (made an administrator: the fullest header), logs in
as them in Debian's Chromium and saves PNGs named PAGE-WIDTH-LANGUAGE-SCHEME.png
(an image's lightbox and the composer holding images too), printing each path.
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import func, select, update

from microblog.cli.demo import DEMO_PASSWORD
from microblog.database import db
from microblog.services import accounts, bookmarks, communities, media, pins, posts, social
from models import Post, Tag, User, post_tags, utcnow

from ..server import create_user, flask_cli, free_port, running_server, server_env
from .conftest import CHROMIUM, CHROMIUM_ARGS, Site

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = {390: 844, 1280: 900}  # width: height of the window (each shot is the whole page)
LOCALES = {"en": "en-GB", "nb": "nb-NO"}
DEMO = ["--users", "40", "--posts", "600", "--tags", "40", "--follows", "15", "--communities", "8"]
ADMIN = "it.admin"


def main() -> int:
    """Start a demo site, take the screenshots, print their paths."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="where the PNGs go")
    parser.add_argument("--no-dark", dest="dark", action="store_false", help="light colour scheme only")
    options = parser.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium, or set MICROBLOG_CHROMIUM)"
        )
    options.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="microblog-screenshots-"))
    try:
        env = server_env(f"sqlite:///{folder / 'microblog.db'}", folder / "data", free_port())
        print("Seeding the demo company ...", flush=True)
        flask_cli(env, "db", "upgrade")
        flask_cli(env, "demo", "seed", *DEMO)
        create_user(env, ADMIN, "--admin", "--name", "IT")
        with running_server(env) as url:
            site = Site(url, env)
            pages = _liven(site)
            schemes = ["light", "dark"] if options.dark else ["light"]
            for path in _shoot(site, pages, options.out, schemes):
                print(path, flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _spread(days: int = 90) -> None:
    """Date the demo's posts evenly over the last days, oldest first as their ids go (ids follow time)."""
    count = db.session.scalar(select(func.count()).select_from(Post)) or 1
    step = timedelta(days=days) / count
    now = utcnow()
    for n, post_id in enumerate(db.session.scalars(select(Post.id).order_by(Post.id.desc()))):
        db.session.execute(update(Post).where(Post.id == post_id).values(created_at=now - step * n))
    db.session.commit()


def _liven(site: Site) -> dict:
    """Give the viewer a thread, likes, a follower and a mention; return the viewer and the pages."""
    with site.services():
        _spread()
        length = func.length(User.display_name)
        viewer = db.session.scalars(
            select(User).where(User.kind == "person", User.username != ADMIN).order_by(length.desc(), User.id)
        ).first()
        assert viewer is not None, "the demo seed made no one"
        others = db.session.scalars(
            select(User).where(User.kind == "person", User.id != viewer.id, User.username != ADMIN).limit(2)
        ).all()
        accounts.set_admin(accounts.access_user(ADMIN), viewer.username, True)
        first, second = others
        root = posts.post_status(
            first, f"@{viewer.username} Launch rehearsal moved to Thursday 10:00 #apollo"
        )
        reply = posts.post_status(
            viewer, f"@{first.username} Thursday works, I'll book the room", in_reply_to=root.id
        )
        posts.post_status(second, f"@{viewer.username} I'll bring the checklist", in_reply_to=reply.id)
        posts.like_post(first, reply.id)
        posts.like_post(viewer, root.id)
        bookmarks.bookmark_post(viewer, root.id)
        pins.pin_post(viewer, reply.id)
        social.follow_user(second, viewer.username)
        listing = communities.directory()
        community = next(c.account for c in listing if not c.is_archived and not c.account.locked)
        communities.join(viewer, community)  # a member already: nothing changes
        posts.post_status(viewer, f"@{community.username} Status meeting notes are in the wiki")
        _images(viewer, first, second)
        return {
            "viewer": viewer.username,
            "pages": {
                "home": "/",
                "company": "/public",
                "thread": f"/posts/{reply.id}",
                "profile": f"/@{viewer.username}",
                "notifications": "/notifications",
                "bookmarks": "/bookmarks",
                "communities": "/communities",
                "community": f"/@{community.username}",
                "tag": f"/tags/{_busiest_tag()}",
                "search": "/search?q=deploy",
                "settings": "/settings",
                "dashboard": "/admin/dashboard",
            },
        }


def picture(size: tuple[int, int], hue: int, stripes: int = 6) -> bytes:
    """Return a JPEG with some shapes (a stand-in for a photo or a screenshot)."""
    image = Image.new("RGB", size, ((hue * 3) % 200 + 30, (hue * 7) % 160 + 60, (hue * 11) % 180 + 60))
    draw = ImageDraw.Draw(image)
    width, height = size
    for n in range(stripes):
        top = height * n // stripes
        draw.rectangle((0, top, width, top + height // (stripes * 2)), fill=(240, 240 - n * 20, 200))
    draw.ellipse(
        (width // 3, height // 4, width * 2 // 3, height * 3 // 4), fill=(250, 250, 250), outline=(20, 20, 20)
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _images(viewer: User, first: User, second: User) -> None:
    """Posts with one, two and four images (described and not), newest on the company's feed."""
    alone = media.upload(
        first,
        picture((1600, 900), 10),
        description="The planning board after today's session: three columns of sticky notes, most in Done",
    )
    posts.post_status(first, "Planning board after today's session #apollo", media_ids=[str(alone.id)])
    pair = [
        media.upload(second, picture((1200, 900), 40), description="The old office: boxes everywhere"),
        media.upload(second, picture((900, 1200), 70)),
    ]
    posts.post_status(second, "Before and after the move", media_ids=[str(m.id) for m in pair])
    party = [
        media.upload(viewer, picture(size, hue), description=text)
        for size, hue, text in (
            ((1200, 800), 90, "The summer party's long table under the trees"),
            ((800, 1200), 120, ""),
            ((1600, 900), 150, "Quiz winners holding the trophy"),
            ((1000, 1000), 180, "The band"),
        )
    ]
    posts.post_status(viewer, "Photos from the summer party", media_ids=[str(m.id) for m in party])


def _busiest_tag() -> str:
    """Return the name of the tag most posts carry (its page has the fullest board)."""
    tag_id = db.session.scalar(
        select(post_tags.c.tag_id).group_by(post_tags.c.tag_id).order_by(func.count().desc()).limit(1)
    )
    return db.session.get_one(Tag, tag_id).name


def _shoot(site: Site, world: dict, out: Path, schemes: list[str]):
    """Save every page at every width, language and scheme; yield each file's path."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for language, locale in LOCALES.items():
                for scheme in schemes:
                    for width, height in WIDTHS.items():
                        phone = width < 600
                        context = browser.new_context(
                            locale=locale,
                            color_scheme=scheme,
                            viewport={"width": width, "height": height},
                            is_mobile=phone,
                            has_touch=phone,
                        )
                        page = context.new_page()
                        suffix = f"{width}-{language}-{scheme}.png"
                        page.goto(f"{site.url}/login")
                        yield _save(page, out / f"login-{suffix}")
                        page.fill("#login", world["viewer"])
                        page.fill("#password", DEMO_PASSWORD)
                        page.click("button[type=submit]")
                        page.wait_for_url(f"{site.url}/")
                        for name, path in world["pages"].items():
                            page.goto(f"{site.url}{path}")
                            yield _save(page, out / f"{name}-{suffix}")
                        yield from _image_states(site, page, out, suffix)
                        context.close()
        finally:
            browser.close()


def _image_states(site: Site, page, out: Path, suffix: str):
    """Save what opens over a page: an image's lightbox, and the composer holding two images."""
    page.goto(f"{site.url}/public")
    page.locator("a[data-lightbox]").first.click()
    page.locator("dialog[data-lightbox-dialog] [data-lightbox-image]").evaluate(
        "img => img.complete || new Promise(done => { img.onload = img.onerror = done; })"
    )
    page.screenshot(path=str(out / f"lightbox-{suffix}"), animations="disabled")
    yield _relative(out / f"lightbox-{suffix}")
    page.goto(f"{site.url}/")
    files = [
        {"name": "whiteboard.jpg", "mimeType": "image/jpeg", "buffer": picture((1600, 900), 200)},
        {"name": "rack.jpg", "mimeType": "image/jpeg", "buffer": picture((900, 1200), 230)},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image"},
    ]
    page.set_input_files("form.composer [data-attach-input]", files)
    page.locator("[data-attachment] input[name=media_ids]:enabled").nth(1).wait_for(state="attached")
    page.locator("[data-attachment] textarea").first.fill("Whiteboard with the rollout plan")
    page.locator("#composer-text").fill("Rollout plan and the rack, as promised")
    page.wait_for_timeout(300)  # the server's previews replace the local ones
    page.locator("form.composer").screenshot(
        path=str(out / f"composer-images-{suffix}"), animations="disabled"
    )
    yield _relative(out / f"composer-images-{suffix}")


def _relative(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _save(page, path: Path) -> Path:
    page.wait_for_load_state("load")
    # A whole-page shot scrolls nothing into view: load the lazy avatars below the fold first.
    page.evaluate(
        """() => Promise.all([...document.images].map(img => {
            img.loading = "eager";
            return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
        }))"""
    )
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return _relative(path)


if __name__ == "__main__":
    sys.exit(main())
