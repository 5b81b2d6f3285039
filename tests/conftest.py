"""Fixtures: a fresh app per test on SQLite and (when configured) PostgreSQL.

MICROBLOG_TEST_DATABASE_URL   run every database test on PostgreSQL too
MICROBLOG_REQUIRE_SERVICES=1  fail (instead of skip) when PostgreSQL or Chromium is missing (CI)
"""

from __future__ import annotations

import functools
import gc
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from flask_babel import refresh as refresh_babel
from flask_migrate import upgrade
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.pool import NullPool

from config import TestingConfig
from microblog import create_app
from microblog.database import db
from models import Base

from .factories import login, make_team, make_user

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("MICROBLOG_TEST_DATABASE_URL", "")
REQUIRE_SERVICES = os.environ.get("MICROBLOG_REQUIRE_SERVICES") == "1"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Collect garbage less often while the tests run: a third of an in-process test's time went to it.

    Every test builds an app (thousands of objects, most of them in reference
    cycles) in a process that already holds every test module and plugin; with
    Python's default thresholds the full collections scanned all of that again
    and again.  What exists once the tests are collected is frozen out of the
    collector's way, and young objects are collected every 50,000 allocations
    instead of 700.  Only this test process is tuned; servers the tests start run
    as in production.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


@pytest.fixture(scope="session", autouse=True)
def _scrypt_once_per_password() -> Iterator[None]:
    """Hash each test password with scrypt once per session, and check each pair once.

    scrypt costs ~0.15 s by design, and nearly every test creates users and logs
    them in with the same password: that was most of an in-process test's time.
    Hashes stay real scrypt hashes (one salt per password instead of per user);
    server processes started by tests hash as in production.
    """
    import models.user

    patch = pytest.MonkeyPatch()
    patch.setattr(models.user, "generate_password_hash", functools.cache(models.user.generate_password_hash))
    patch.setattr(models.user, "check_password_hash", functools.cache(models.user.check_password_hash))
    yield
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def _url_builders_compiled_once() -> Iterator[None]:
    """Compile each URL rule's builder once per session, not once per test's app.

    Werkzeug compiles two Python functions per URL rule when a rule is added,
    and every test creates an app with some 275 rules: that was more than half
    of an in-process test's time.  A builder takes its rule as an argument, so
    rules of the same text, defaults and converters share one; each app still
    builds its own rules, map and matcher.
    """
    from werkzeug.routing import Rule

    compile_builder = Rule._compile_builder
    compiled: dict[tuple, object] = {}

    def compile_once(self: Rule, append_unknown: bool = True):
        defaults = self.defaults or {}
        converters = tuple(
            (name, type(converter), repr(sorted((k, v) for k, v in vars(converter).items() if k != "map")))
            for name, converter in sorted(self._converters.items())
        )
        key = (self.rule, tuple(self._trace), repr(sorted(defaults.items())), converters, append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    patch = pytest.MonkeyPatch()
    patch.setattr(Rule, "_compile_builder", compile_once)
    yield
    patch.undo()


def missing_service(reason: str) -> None:
    """Skip a test whose service is missing, or fail it where services are required (CI)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MICROBLOG_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def damage_whoosh_index(index_dir: Path) -> None:
    """Overwrite every file of a Whoosh index but its locks with garbage, as a bad disk would."""
    for path in index_dir.iterdir():
        if path.is_file() and not path.name.endswith("LOCK"):
            path.write_bytes(b"\x00garbage")


def _migrate(url: str, data_dir: Path) -> None:
    app = create_app(TestingConfig({"MICROBLOG_DATABASE_URL": url, "MICROBLOG_DATA_DIR": str(data_dir)}))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file upgraded by the migrations once; each test gets a copy."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "microblog.db"
    _migrate(f"sqlite:///{path}", folder)
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The PostgreSQL test database, upgraded by the migrations once per session."""
    if not PG_URL:
        missing_service("MICROBLOG_TEST_DATABASE_URL is not set")
    _migrate(PG_URL, tmp_path_factory.mktemp("pg"))
    return PG_URL


@functools.cache
def _cleaning_engine(url: str) -> Engine:
    return create_engine(url, poolclass=NullPool)


def _truncate_all(url: str) -> None:
    """Empty every table and restart every id sequence: the state right after the migrations.

    DELETE, children first, rather than TRUNCATE: on tables of a few rows it takes
    ~10 ms where TRUNCATE takes ~190 ms, and every PostgreSQL test starts here.
    """
    with _cleaning_engine(url).begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        for (sequence,) in conn.execute(text("SELECT seqrelid::regclass::text FROM pg_sequence")).all():
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


def empty_database(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> str:
    """Return the URL of a migrated, empty database of `kind` ("sqlite" or "postgresql") for one test."""
    if kind == "sqlite":
        path = tmp_path / "microblog.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _truncate_all(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    return empty_database(request, request.param, tmp_path)


@pytest.fixture
def config(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> TestingConfig:
    """The test configuration: temporary data dir and database, and the test's @pytest.mark.settings."""
    config = TestingConfig(
        {"MICROBLOG_DATABASE_URL": database_url, "MICROBLOG_DATA_DIR": str(tmp_path / "data")}
    )
    marker = request.node.get_closest_marker("settings")
    for name, value in (marker.kwargs if marker else {}).items():
        setattr(config, name, value)
    return config


@pytest.fixture
def app(config: TestingConfig) -> Iterator[Flask]:
    """A fresh app, with an app context pushed so services can be called directly."""
    app = create_app(config)

    @app.teardown_request
    def _forget_user(exc: BaseException | None) -> None:
        # Test requests share the test's app context, and so `g`, where Flask-Login
        # keeps the user it loaded; a real request starts with a fresh one.
        g.pop("_login_user", None)
        refresh_babel()  # and Flask-Babel its locale, time zone and catalogs

    # Flask-Babel caches the locale it chose in `g` at the first gettext. A message read by the
    # test itself between requests (a factory's service, a module imported late) is read outside
    # any request, in the default locale, and would be cached for the next request too: that
    # request would answer in English whatever its reader chose. A real request never inherits
    # a locale, so each test request starts without one, before any other before_request.
    app.before_request_funcs.setdefault(None, []).insert(0, refresh_babel)

    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def alice(app: Flask):
    """A regular user."""
    return make_user("alice", display_name="Alice Andersen", department="Engineering")


@pytest.fixture
def bob(app: Flask):
    """Another regular user."""
    return make_user("bob", display_name="Bob Berg", department="Sales")


@pytest.fixture
def admin(app: Flask):
    """An administrator."""
    return make_user("root", display_name="Ada Admin", is_admin=True)


@pytest.fixture
def support(app, alice, bob):
    """@it-support, a team account run by alice (its lead) and bob (a member)."""
    return make_team("it-support", members=(bob,), leads=(alice,), name="IT support")


@pytest.fixture
def alice_client(client: FlaskClient, alice) -> FlaskClient:
    """The test client, logged in as alice."""
    login(client, "alice")
    return client


class QueryCounter:
    """Counts the SQL statements run inside `with counter:`."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    """Return a context manager that records the SQL statements run inside it."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
                counter.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting
