"""Run microblog as a real server process on a loopback port, for end-to-end tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from .factories import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
# Production mode: gunicorn's gevent worker with the project's own configuration file.
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"]


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Production mode on plain HTTP over loopback: a real key (shared by this run's processes), and
# cookies that are not Secure-only (an installation behind HTTPS keeps the Secure default).
PRODUCTION = {
    "MICROBLOG_ENV": "production",
    "MICROBLOG_SECRET_KEY": secrets.token_hex(32),
    "MICROBLOG_SECURE_COOKIES": "off",
}


def server_env(database_url: str, data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """Return the environment of a server process (development mode unless `extra` says otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROBLOG_")}
    env.update(
        MICROBLOG_DATABASE_URL=database_url,
        MICROBLOG_DATA_DIR=str(data_dir),
        MICROBLOG_HOST="127.0.0.1",
        MICROBLOG_PORT=str(port),
        MICROBLOG_ENV="development",
        # Every log-in counts against the address (127.0.0.1 for every client of a test): tests that
        # are not about the limit log in more than ten times a minute.
        MICROBLOG_LOGIN_RATE_LIMIT="1000 per minute",
    )
    env.update(extra)
    return env


def flask_cli(env: dict[str, str], *args: str) -> str:
    """Run a `flask --app wsgi ...` command with env; return its output or raise."""
    result = subprocess.run([*FLASK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def create_user(env: dict[str, str], name: str, *extra: str) -> None:
    """Create an account through the CLI (password: factories.PASSWORD)."""
    flask_cli(env, "users", "create", name, "--email", f"{name}@example.com", "--password", PASSWORD, *extra)


def client_site(data_dir: Path, *names: str) -> dict[str, str]:
    """Return the environment of a production-mode SQLite site in data_dir, migrated, with these accounts.

    The site Mastodon clients are tested against: streams send a heartbeat every second.
    """
    env = server_env(
        f"sqlite:///{data_dir / 'microblog.db'}",
        data_dir,
        free_port(),
        MICROBLOG_STREAM_HEARTBEAT="1",
        **PRODUCTION,
    )
    flask_cli(env, "db", "upgrade")
    for name in names:
        create_user(env, name)
    return env


def wait_until_answering(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    """Wait until `url` answers 200; raise with the process's log if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout}s:\n{log.read_text()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a process: terminate, then kill if it lingers."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_search_worker(env: dict[str, str], timeout: float = 30) -> Iterator[subprocess.Popen]:
    """Start `flask --app wsgi search worker` with env, as microblog-search.service does; stop it afterwards.

    Yields once it works (it logs so); its output goes to search-worker.log in the data directory.
    """
    log = Path(env["MICROBLOG_DATA_DIR"]) / "search-worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [*FLASK, "search", "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            while "search worker: keeping the index up to date" not in log.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the search worker did not start:\n{log.read_text()}")
                time.sleep(0.05)
            yield process
        finally:
            stop(process)


@contextmanager
def running_server(
    env: dict[str, str], timeout: float = 30, *, gunicorn: bool = False, search_worker: bool = True
) -> Iterator[str]:
    """Start `flask --app wsgi serve` (or gunicorn + gevent) with env; yield its URL; stop it afterwards.

    Either way the installation gets its search worker, as `make run` and the deployed site do: serve
    starts its own, gunicorn gets one beside it.  `search_worker=False` for a second server process
    of an installation whose worker runs already.
    """
    log = Path(env["MICROBLOG_DATA_DIR"]) / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{env['MICROBLOG_PORT']}"
    with ExitStack() as stack:
        if gunicorn and search_worker:
            stack.enter_context(running_search_worker(env))
        elif not search_worker:
            env = {**env, "MICROBLOG_SERVE_SEARCH_WORKER": "off"}
        out = stack.enter_context(log.open("w"))
        command = GUNICORN if gunicorn else [*FLASK, "serve"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        stack.callback(stop, process)
        wait_until_answering(f"{url}/login", process, log, timeout)
        yield url
