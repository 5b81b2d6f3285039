"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, against a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from config import TestingConfig
from microblog import create_app
from microblog.database import db

from ..conftest import missing_service
from ..factories import PASSWORD
from ..server import create_user, flask_cli, free_port, running_server, server_env

CHROMIUM = os.environ.get("MICROBLOG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session."""
    if not Path(CHROMIUM).exists():
        missing_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Site:
    """A running server plus helpers to drive it."""

    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.url = url
        self.env = env

    @contextmanager
    def services(self) -> Iterator[None]:
        """Run services in this process on the site's database (their events reach no client)."""
        config = TestingConfig(
            {
                "MICROBLOG_DATABASE_URL": self.env["MICROBLOG_DATABASE_URL"],
                "MICROBLOG_DATA_DIR": self.env["MICROBLOG_DATA_DIR"],
            }
        )
        app = create_app(config)
        with app.app_context():
            yield
            db.session.remove()
            db.engine.dispose()

    def create_user(self, name: str, *extra: str) -> None:
        """Create an account through the CLI (password: factories.PASSWORD)."""
        create_user(self.env, name, *extra)


@pytest.fixture
def site_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a server process on a fresh, upgraded database and a free port."""
    env = server_env(database_url, tmp_path / "data", free_port())
    flask_cli(env, "db", "upgrade")
    return env


@pytest.fixture
def site(site_env: dict[str, str]) -> Iterator[Site]:
    """A server process serving a fresh database on a free loopback port."""
    with running_server(site_env) as url:
        yield Site(url, site_env)


@pytest.fixture
def new_page(browser):
    """Return a factory of pages, each in its own browser context (its own cookies)."""
    contexts = []
    pages = []

    def make(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        # What the Content-Security-Policy blocked: the site's own pages must need none of it.
        page.csp_refusals = []
        page.on("console", lambda message: _note_refusal(message.text, page.csp_refusals))
        pages.append(page)
        return page

    yield make
    refused = [text for page in pages if not getattr(page, "probes_csp", False) for text in page.csp_refusals]
    for context in contexts:
        context.close()
    assert refused == [], "the site's own pages broke its Content-Security-Policy"


def _note_refusal(text: str, refused: list[str]) -> None:
    if "Content Security Policy" in text:
        refused.append(text)


def log_in(page, site: Site, name: str) -> None:
    """Log in through the form."""
    page.goto(f"{site.url}/login")
    page.fill("#login", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/")
