"""The search worker: the one process that writes the index, beside `flask serve` or gunicorn."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

import search
from microblog.database import db
from models import PercolationOutbox, SearchOutbox, SearchWorker, utcnow

from .factories import anyone, make_post, make_user
from .live import LiveClient
from .server import FLASK, ROOT, create_user, flask_cli, free_port, running_server, server_env, stop
from .server import wait_until_answering as wait_until_serving
from .test_search import backend_name, config, database_url, language  # noqa: F401 (fixtures)

# Started with this directory on PYTHONPATH, a process records every lock it takes (sitecustomize.py).
INDEX_LOCKS = ROOT / "tests" / "index_locks"
WORKER_STARTED = "search worker: keeping the index up to date"


def ids(raw: str) -> list[int]:
    return search.search_posts(search.parse_query(raw), reader=anyone()).ids


def wait_until(predicate, timeout: float = 15) -> bool:
    """Wait until predicate() holds; return whether it did."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


# -- in one process ---------------------------------------------------------------------------


def test_the_worker_indexes_within_a_second_and_stops_when_told(app):
    search.rebuild()  # a built index: the worker's first look finds nothing to rebuild
    kari = make_user("kari")
    stop = threading.Event()

    def run() -> None:  # as `flask search worker` runs it, in an app context of its own
        with app.app_context():
            search.run_worker(stop)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        post_id = make_post(kari, "Apollo go for launch").id
        started = time.monotonic()
        assert wait_until(lambda: ids("launch") == [post_id], timeout=5)
        assert time.monotonic() - started < 1.0
        # The index is searchable a moment before the worker's delete of its outbox rows commits.
        assert wait_until(lambda: db_count(SearchOutbox) == 0, timeout=5)
        assert db_count(PercolationOutbox) == 1  # matching is the serving processes' job, not the worker's
        beat = db.session.execute(select(SearchWorker.seen_at, SearchWorker.problem)).one()
        assert (utcnow() - beat.seen_at).total_seconds() < 5 and beat.problem is None  # it said it runs
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()


def db_count(model) -> int:
    count = db.session.scalar(select(func.count()).select_from(model)) or 0
    db.session.rollback()
    return count


def test_status_says_when_no_search_worker_drains_the_outbox(app, client, backend_name):  # noqa: F811
    search.rebuild()
    kari = make_user("kari")
    make_post(kari, "Waiting for a worker")
    assert search.status() is None  # just posted: a worker has a moment yet
    db.session.execute(update(SearchOutbox).values(queued_at=utcnow() - timedelta(seconds=45)))
    db.session.commit()
    said = search.status() or ""
    assert "posts have waited 4" in said and "no search worker runs: start one" in said
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["search"] == said

    def heartbeat(seconds_ago: float, problem: str | None = None) -> str | None:
        db.session.execute(delete(SearchWorker))
        db.session.add(SearchWorker(id=1, seen_at=utcnow() - timedelta(seconds=seconds_ago), problem=problem))
        db.session.commit()
        return search.status()

    assert "no search worker runs (last seen 6" in (heartbeat(60) or "")
    # A worker that runs but is held up (a rebuild or a backup holds the writer) is no fault of search.
    assert heartbeat(5) is None
    assert "the search worker fails: PermissionError: [Errno 13]" in (
        heartbeat(5, "PermissionError: [Errno 13] Permission denied: 'search/MAIN_WRITELOCK'") or ""
    )
    search.drain()
    assert heartbeat(60) is None  # nothing waits: no worker is needed this minute
    assert client.get("/healthz").status_code == 200


# -- real processes -----------------------------------------------------------------------------


def _site(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Return the environment of a migrated SQLite + Whoosh site with alice and bob, and its lock log."""
    data = tmp_path / "data"
    env = server_env(f"sqlite:///{data / 'microblog.db'}", data, free_port())
    flask_cli(env, "db", "upgrade")
    for name in ("alice", "bob"):
        create_user(env, name)
    flask_cli(env, "search", "reindex", "--quiet")  # the worker starts on a built index
    locks = tmp_path / "locks.log"
    path = os.pathsep.join(p for p in (str(INDEX_LOCKS), env.get("PYTHONPATH", "")) if p)
    return {**env, "PYTHONPATH": path, "INDEX_LOCK_LOG": str(locks)}, locks


def _list_updates(client: LiveClient) -> list[str]:
    with client.lock:
        return [d["payload"]["text"] for n, d in client.events if n == "update" and d["stream"][0] == "list"]


@pytest.mark.server
@pytest.mark.parametrize("server", ["serve", "gunicorn"])
def test_posts_are_searchable_within_a_second_matched_live_and_written_by_the_worker_only(tmp_path, server):
    """`make run` (serve, its worker as a child) and one gunicorn process beside a worker, without Redis."""
    env, locks = _site(tmp_path)
    log = Path(env["MICROBLOG_DATA_DIR"]) / ("server.log" if server == "serve" else "search-worker.log")
    with running_server(env, gunicorn=server == "gunicorn") as url:
        assert wait_until(lambda: WORKER_STARTED in log.read_text()), log.read_text()
        alice = LiveClient(url, "alice")
        followed = alice.form("/signals", q="periscope")
        assert followed.status_code == 302, followed.text[:300]
        list_id = followed.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        alice.connect()
        bob = LiveClient(url, "bob")
        try:
            assert alice.sio.call("subscribe", {"stream": "list", "list": list_id}, timeout=5) == {"ok": True}
            waited = []
            for i in range(5):
                started = time.monotonic()
                bob.post(f"Periscope {i} is up: quokka{i}")

                def found(i=i) -> bool:
                    page = alice.http.get(f"{url}/search", params={"q": f"quokka{i}"})
                    return "data-post-id=" in page.text

                assert wait_until(found, timeout=10), i
                waited.append(time.monotonic() - started)
            # From the POST to a search that finds it, the POST included: under a second.
            assert statistics.median(waited) < 1.0, waited
            # The serving process matched them against alice's search and told her connection.
            expected = [f"Periscope {i} is up: quokka{i}" for i in range(5)]
            assert alice.wait_for(lambda: _list_updates(alice) == expected, timeout=10), alice.events
        finally:
            alice.close(), bob.close()
    taken = [line.split("\t") for line in locks.read_text().splitlines()] if locks.exists() else []
    index = str(Path(env["MICROBLOG_DATA_DIR"]) / "search")
    writers = [(pid, command) for pid, path, command in taken if path.startswith(index)]
    assert writers, "nobody took the index's locks: the posts were indexed by no one?"
    # The worker only (or a rebuild it would start): never the serving process.
    assert all(" search worker" in command or " search reindex" in command for _, command in writers), writers


def _children(pid: int) -> list[tuple[int, str]]:
    """Return the live (not zombie) processes whose parent is `pid`, with their command lines."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if int(parent) == pid and state != "Z":
            found.append((int(entry.name), command))
    return found


@pytest.mark.server
def test_serve_starts_its_search_worker_starts_it_again_and_stops_it(tmp_path):
    env, _ = _site(tmp_path)
    log = Path(env["MICROBLOG_DATA_DIR"]) / "server.log"
    url = f"http://127.0.0.1:{env['MICROBLOG_PORT']}"
    with log.open("w") as out:
        serve = subprocess.Popen([*FLASK, "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(f"{url}/login", serve, log)
            assert wait_until(lambda: log.read_text().count(WORKER_STARTED) == 1), log.read_text()

            def workers() -> list[int]:
                return [pid for pid, command in _children(serve.pid) if "search worker" in command]

            (first,) = workers()
            os.kill(first, signal.SIGKILL)  # as the OOM killer would
            assert wait_until(lambda: len(workers()) == 1 and workers() != [first], timeout=20), (
                log.read_text()
            )
            assert "the search worker exited (code -9): starting it again" in log.read_text()
            assert wait_until(lambda: log.read_text().count(WORKER_STARTED) == 2), log.read_text()
            (second,) = workers()
        finally:
            stop(serve)  # SIGTERM, as systemd or a terminal's Ctrl-C would stop it
    assert serve.returncode == 0
    assert not Path(f"/proc/{second}").exists()  # stopped with serve, and reaped by it
    assert "search worker: stopped" in log.read_text()
