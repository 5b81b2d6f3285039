"""Search with real processes: concurrent writers, background indexing, rebuilds, the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

import search
from config import config_from_env
from microblog import create_app
from microblog.database import db
from models import SearchOutbox

from .conftest import _truncate_all, damage_whoosh_index
from .factories import anyone
from .live import _csrf_token
from .server import ROOT, create_user, flask_cli, free_port, running_server, server_env

# Every test here starts server or CLI processes.
pytestmark = pytest.mark.server

WRITERS = 3
POSTS_EACH = 40


@contextmanager
def searching(env: dict[str, str]) -> Iterator[Callable[[str], list[int]]]:
    """Yield a search function over the installation that env configures (one app, one pool)."""
    app = create_app(config_from_env(env))
    with app.app_context():

        def ids(raw: str) -> list[int]:
            return search.search_posts(
                search.parse_query(raw), search.PageRequest(limit=40), reader=anyone()
            ).ids

        assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
        yield ids
        db.session.remove()
        db.engine.dispose()


def test_concurrent_writers_in_separate_processes_lose_nothing(database_url, tmp_path):
    env = server_env(database_url, tmp_path / "data", free_port())
    flask_cli(env, "db", "upgrade")
    names = [f"writer{n}" for n in range(WRITERS)]
    for name in names:
        create_user(env, name)
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.search_writer", name, str(POSTS_EACH)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    outputs = [w.communicate(timeout=300) for w in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        print(out.strip())  # how often each found the writer busy
        assert writer.returncode == 0, err
        assert "Traceback" not in err, err
    with searching(env) as ids:
        for name in names:
            found = ids(f"from:{name}")
            assert len(found) == POSTS_EACH - POSTS_EACH // 5, (name, found)
            for i in range(POSTS_EACH):
                hits = ids(f"token{name}x{i}")
                assert len(hits) == (0 if i % 5 == 4 else 1), (name, i, hits)


def _logged_in(url: str, username: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    csrf = _csrf_token(http.get(f"{url}/login").text)
    response = http.post(
        f"{url}/login", data={"login": username, "password": "correct horse battery", "csrf_token": csrf}
    )
    assert response.status_code == 200, response.text[:300]
    return http, _csrf_token(http.get(f"{url}/").text)


def _wait_for_search(http: requests.Session, url: str, query: str, present: bool, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        response = http.get(f"{url}/search", params={"q": query})
        assert response.status_code == 200, response.text[:300]
        if ("data-post-id=" in response.text) == present or time.monotonic() > deadline:
            return response.text
        time.sleep(0.1)


def test_servers_index_in_the_background_and_see_each_others_posts(database_url, tmp_path):
    _two_servers_search_each_others_posts(database_url, tmp_path, "whoosh")


def test_postgres_backend_servers_see_each_others_posts(postgres_url, tmp_path):
    _truncate_all(postgres_url)
    _two_servers_search_each_others_posts(postgres_url, tmp_path, "postgres")


def _two_servers_search_each_others_posts(database_url: str, tmp_path: Path, backend: str) -> None:
    shared = {"MICROBLOG_SEARCH_BACKEND": backend, "MICROBLOG_SECRET_KEY": "shared-by-both"}
    envs = [server_env(database_url, tmp_path / "data", free_port(), **shared) for _ in range(2)]
    flask_cli(envs[0], "db", "upgrade")
    create_user(envs[0], "alice")
    # Two `flask serve` of one installation: the first one's search worker indexes for both.
    with running_server(envs[0]) as one, running_server(envs[1], search_worker=False) as two:
        http_one, csrf = _logged_in(one, "alice")
        response = http_one.post(
            f"{one}/posts", data={"text": "Kickoff of #apollo in Ålesund", "csrf_token": csrf}
        )
        assert response.status_code == 200
        http_two, csrf_two = _logged_in(two, "alice")
        found = _wait_for_search(http_two, two, "ålesund #apollo", present=True)
        assert "<mark>Ålesund</mark>" in found
        post_id = int(found.split('data-post-id="')[1].split('"')[0])
        response = http_two.post(f"{two}/posts/{post_id}/delete", data={"csrf_token": csrf_two})
        assert response.status_code == 200
        assert "data-post-id=" not in _wait_for_search(http_one, one, "ålesund", present=False)
    for env in envs:
        log = (Path(env["MICROBLOG_DATA_DIR"]) / "server.log").read_text()
        assert "Traceback" not in log, log


@pytest.mark.parametrize("damage", ["missing", "garbled"])
def test_a_server_rebuilds_a_missing_or_damaged_index_while_serving(database_url, tmp_path, damage):
    env = server_env(database_url, tmp_path / "data", free_port())
    flask_cli(env, "db", "upgrade")
    out = flask_cli(env, "demo", "seed", "--users", "20", "--posts", "400", "--follows", "5")
    assert "Seeded" in out
    create_user(env, "alice")
    index_dir = tmp_path / "data" / "search"
    if damage == "missing":
        shutil.rmtree(index_dir)
    else:
        damage_whoosh_index(index_dir)
    with running_server(env) as url:
        http, _ = _logged_in(url, "alice")  # serving before the index is back
        page = _wait_for_search(http, url, "deploy pipeline", present=True, timeout=60)
        assert "data-post-id=" in page
        # Results come while the rebuild still runs (it indexes in batches); then its note goes.
        deadline = time.monotonic() + 60
        while "being rebuilt" in (page := _wait_for_search(http, url, "deploy pipeline", present=True)):
            assert time.monotonic() < deadline, "the rebuild did not finish within 60 s"
            time.sleep(0.2)
        assert "data-post-id=" in page
    said = (tmp_path / "data" / "server.log").read_text()
    # A missing index is only new: built without a warning; a damaged one is rebuilt with one.
    expected = "no search index yet: building it" if damage == "missing" else "damaged: rebuilding it"
    assert expected in said


def test_reindex_command_rebuilds_from_the_database(database_url, tmp_path):
    env = server_env(database_url, tmp_path / "data", free_port())
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "seed", "--users", "10", "--posts", "250", "--follows", "3", "--no-index")
    with searching(env) as ids:
        assert ids("pipeline") == []
    out = flask_cli(env, "search", "reindex")
    assert "Indexed 250 posts" in out
    with searching(env) as ids:
        assert len(ids("pipeline")) > 0
