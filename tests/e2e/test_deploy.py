"""The intranet installation end to end, started from the files in deploy/.

Debian's nginx with deploy/nginx/microblog.conf on a loopback port, in front of
two processes started as deploy/systemd/microblog@.service starts them, and the
search worker as deploy/systemd/microblog-search.service starts it, with
the settings of deploy/microblog.env.example (read by the shell, as docs/operations.md
tells operators to), on PostgreSQL (search backend `postgres`) and Redis.
Only what a loopback test must change is changed: ports, paths, the database,
a real secret key, and cookies that plain HTTP can carry.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from mastodon import Mastodon
from playwright.sync_api import expect

from ..conftest import _truncate_all, missing_service
from ..factories import PASSWORD
from ..nginx import nginx_available, running_nginx
from ..server import PRODUCTION, ROOT, flask_cli, free_port, stop, wait_until_answering
from ..test_api_clients import Collector, _listening, mastodon_for
from ..test_media import picture
from ..test_realtime_processes import _redis_up
from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.server]  # nginx and two server processes, and Chromium

UNIT = ROOT / "deploy" / "systemd" / "microblog@.service"
SEARCH_UNIT = ROOT / "deploy" / "systemd" / "microblog-search.service"
ENV_FILE = ROOT / "deploy" / "microblog.env.example"
CHECKOUT = "/srv/microblog"  # where the unit and the site expect the checkout
REDIS = "redis://127.0.0.1:6379/3"  # rate-limit counters of this module only


def environment_file(path: Path) -> dict[str, str]:
    """Read an environment file the way deploy/manage does: `set -a; . FILE`, in a clean shell."""
    script = 'set -a; . "$1"; set +a; env -0'
    out = subprocess.run(
        ["bash", "-c", script, "bash", str(path)], env={}, capture_output=True, check=True
    ).stdout.decode()
    return dict(line.split("=", 1) for line in out.split("\0") if line.startswith("MICROBLOG_"))


def _service(path: Path) -> configparser.SectionProxy:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(path)
    return unit["Service"]


def unit_service(port: int) -> tuple[list[str], Path, dict[str, str], str]:
    """Return the command, working directory and environment that microblog@PORT runs with."""
    service = _service(UNIT)
    assert service["EnvironmentFile"] == "/etc/microblog/microblog.env"
    command = shlex.split(service["ExecStart"].replace(CHECKOUT, str(ROOT)))
    workdir = Path(service["WorkingDirectory"].replace(CHECKOUT, str(ROOT)))
    extra = dict(item.split("=", 1) for item in shlex.split(service["Environment"].replace("%i", str(port))))
    return command, workdir, extra, service["Type"]


def manage(env_file: Path, *args: str) -> str:
    """Run deploy/manage (flask with the installation's settings) as docs/operations.md shows."""
    env = {"PATH": os.environ["PATH"], "MICROBLOG_ENV_FILE": str(env_file)}
    result = subprocess.run([ROOT / "deploy" / "manage", *args], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass
class Installation:
    """Two processes behind nginx; `ports` of the processes, `url` of nginx."""

    url: str
    env: dict[str, str]
    ports: list[int]
    logs: list[Path]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def direct(self, index: int) -> str:
        """Return the URL of one process, bypassing nginx."""
        return f"http://127.0.0.1:{self.ports[index]}"

    def socketio_clients(self, index: int) -> float:
        """Return how many Socket.IO clients one process holds (its metrics, through nginx)."""
        text = requests.get(f"{self.url}/metrics/{self.ports[index]}", timeout=5).text
        return float(re.search(r"^microblog_socketio_clients (\S+)$", text, re.M).group(1))


@contextmanager
def started_unit(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    """Start one process as systemd would start microblog@PORT; stop it afterwards.

    Type=notify: systemd counts the unit started when the main process sends READY=1
    to $NOTIFY_SOCKET (and kills it if that never comes), so the test listens there too.
    """
    command, workdir, extra, kind = unit_service(port)
    assert kind == "notify"
    with log.open("w") as out, socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(log.with_suffix(".notify")))
        notify.settimeout(30)
        # Its own process group, like a unit's cgroup: gunicorn's master and its worker go together.
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env={**env, **extra, "NOTIFY_SOCKET": str(log.with_suffix(".notify"))},
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
        try:
            assert notify.recv(4096).decode().startswith("READY=1"), "no READY=1 for systemd"
            wait_until_answering(f"http://127.0.0.1:{port}/healthz", process, log)
            yield process
        finally:
            stop(process, timeout=15)


@contextmanager
def started_search_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """Start the search worker as systemd would start microblog-search; stop it afterwards."""
    service = _service(SEARCH_UNIT)
    assert service["EnvironmentFile"] == "/etc/microblog/microblog.env" and service["Type"] == "simple"
    command = shlex.split(service["ExecStart"].replace(CHECKOUT, str(ROOT)))
    workdir = Path(service["WorkingDirectory"].replace(CHECKOUT, str(ROOT)))
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=out, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 30
            while "search worker: keeping the index up to date" not in log.read_text():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            yield process
        finally:
            stop(process, timeout=15)


@pytest.fixture(scope="module")
def installation(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installation]:
    """The installation docs/operations.md describes, with two processes, on a fresh database."""
    if not nginx_available():
        missing_service("nginx is not installed (apt-get install nginx)")
    if not _redis_up(REDIS):
        missing_service("Redis is not running on 127.0.0.1:6379")
    _truncate_all(postgres_url)
    folder = tmp_path_factory.mktemp("installation")
    # The operator's copy of the example, edited where a loopback test must differ.
    env_file = folder / "microblog.env"
    overrides = {
        "MICROBLOG_DATABASE_URL": postgres_url,
        "MICROBLOG_DATA_DIR": str(folder / "data"),
        "MICROBLOG_REDIS_URL": REDIS,
        "MICROBLOG_REDIS_CHANNEL": f"microblog-deploy-{uuid.uuid4().hex}",
        "MICROBLOG_SECRET_KEY": PRODUCTION["MICROBLOG_SECRET_KEY"],
        "MICROBLOG_SECURE_COOKIES": "off",  # plain HTTP on loopback
    }
    env_file.write_text(ENV_FILE.read_text() + "".join(f"{k}={v}\n" for k, v in overrides.items()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROBLOG_")}
    env.update(environment_file(env_file))
    assert env["MICROBLOG_ENV"] == "production" and env["MICROBLOG_SEARCH_BACKEND"] == "postgres"
    manage(env_file, "db", "upgrade")
    for name in ("alice", "bob", "carol"):
        manage(env_file, "users", "create", name, "--email", f"{name}@example.com", "--password", PASSWORD)
    ports = [free_port(), free_port()]
    logs = [folder / f"microblog@{port}.log" for port in ports]
    with ExitStack() as stack:
        stack.enter_context(started_search_worker(env, folder / "microblog-search.log"))
        processes = [
            stack.enter_context(started_unit(env, p, log)) for p, log in zip(ports, logs, strict=True)
        ]
        url = stack.enter_context(
            running_nginx(folder / "nginx", free_port(), ports, data_dir=folder / "data")
        )
        yield Installation(url, env, ports, logs, processes)


def test_healthz_through_nginx_reports_every_part(installation):
    response = requests.get(f"{installation.url}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "redis": "ok", "search": "ok"}


def test_static_files_come_from_nginx_with_cache_headers(installation):
    page = requests.get(f"{installation.url}/login", timeout=5).text
    css = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page).group(1)
    response = requests.get(f"{installation.url}{css}", timeout=5)
    assert response.status_code == 200
    assert response.content == (ROOT / "microblog" / "static" / "css" / "site.css").read_bytes()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    time.sleep(0.2)
    assert not any("/static/" in log.read_text() for log in installation.logs)  # Python never saw it


def test_pages_and_static_files_through_nginx_carry_the_security_headers(installation):
    page = requests.get(f"{installation.url}/login", timeout=5)
    css = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]+)"', page.text).group(1)
    static = requests.get(f"{installation.url}{css}", timeout=5)
    for response in (page, static):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Server"] == "nginx"  # no version, and not the app server's name
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_each_process_metrics_through_nginx_and_nothing_else(installation):
    for port in installation.ports:
        response = requests.get(f"{installation.url}/metrics/{port}", timeout=5)
        assert response.status_code == 200 and "microblog_http_requests_total" in response.text
    assert requests.get(f"{installation.url}/metrics", timeout=5).status_code == 404
    postgres = requests.get(f"{installation.url}/metrics/5432", timeout=5)  # no other local port
    assert postgres.status_code == 404 and "microblog" not in postgres.text


def test_a_post_through_either_process_is_found_through_nginx_within_a_second(installation):
    # Tokens from the command line, not password log-ins (the module's log-in allowance is for the others).
    token = flask_cli(installation.env, "users", "token", "carol").split()[-1]
    through_nginx = Mastodon(access_token=token, api_base_url=installation.url)
    waited = []
    for i in range(4):
        direct = Mastodon(access_token=token, api_base_url=installation.direct(i % 2))
        started = time.monotonic()
        direct.status_post(f"Capacity review {i}: wallaby{i}")
        while not through_nginx.search_v2(f"wallaby{i}", result_type="statuses").statuses:
            assert time.monotonic() - started < 10, f"wallaby{i} was never found"
            time.sleep(0.02)
        waited.append(time.monotonic() - started)
    assert sorted(waited)[len(waited) // 2] < 1.0, waited  # the search worker writes the index for both
    assert requests.get(f"{installation.url}/healthz", timeout=5).json()["checks"]["search"] == "ok"


def test_the_app_sees_the_address_nginx_was_reached_at(installation):
    instance = requests.get(f"{installation.url}/api/v1/instance", timeout=5).json()
    host = installation.url.removeprefix("http://")
    assert instance["uri"] == host
    assert instance["urls"]["streaming_api"] == f"ws://{host}"


def _follow(client: Mastodon, username: str) -> None:
    client.account_follow(client.account_lookup(username).id)


def _connected(page) -> None:
    expect(page.locator("body")).to_have_attribute("data-live", "connected", timeout=15_000)


def _holder(installation: Installation) -> int:
    """Return which process holds the one browser websocket."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        counts = [installation.socketio_clients(i) for i in range(2)]
        if sorted(counts) == [0, 1]:
            return counts.index(1)
        time.sleep(0.1)
    raise AssertionError(f"expected one websocket on one process, found {counts}")


def test_a_browser_through_nginx_sees_a_post_made_through_the_other_process(installation, new_page):
    alice, bob = mastodon_for(installation.url, "alice"), mastodon_for(installation.direct(0), "bob")
    _follow(alice, "bob")
    page = new_page()
    log_in(page, installation, "alice")
    _connected(page)
    other = 1 - _holder(installation)
    bob_there = Mastodon(access_token=bob.access_token, api_base_url=installation.direct(other))
    bob_there.status_post("Release 4.2 is out #apollo")
    expect(page.locator("article.post .post-text").first).to_have_text("Release 4.2 is out #apollo")


def test_a_mastodon_client_posts_and_streams_through_nginx(installation):
    carol = mastodon_for(installation.url, "carol")
    _follow(carol, "bob")
    assert carol.stream_healthy()
    home = Collector()
    handle = carol.stream_user(home, run_async=True)
    try:
        assert _listening(home)
        carol.status_post("Stand-up moved to 09:30")
        for i in range(2):  # one post through each process
            direct = Mastodon(
                access_token=mastodon_for(installation.direct(i), "bob").access_token,
                api_base_url=installation.direct(i),
            )
            direct.status_post(f"Build {i} green")
        expected = [
            ("update", "Stand-up moved to 09:30"),
            ("update", "Build 0 green"),
            ("update", "Build 1 green"),
        ]
        assert home.wait_for(expected), home.events
    finally:
        handle.close()


def test_images_come_from_nginx_to_who_may_see_them_only(installation):
    # Tokens from the command line: a password log-in counts against the address's log-in limit,
    # which the module's other tests (all from 127.0.0.1) need.
    alice, bob = (
        Mastodon(
            access_token=flask_cli(installation.env, "users", "token", name).split()[-1],
            api_base_url=installation.url,
        )
        for name in ("alice", "bob")
    )
    shot = picture((800, 600), "PNG")
    uploaded = requests.post(
        f"{installation.url}/api/v2/media",
        files={"file": ("shot.png", shot, "image/png")},
        data={"description": "The rack"},
        headers={"Authorization": f"Bearer {alice.access_token}"},
        timeout=30,
    )
    assert uploaded.status_code == 200, uploaded.text
    image = uploaded.json()
    own = {"Authorization": f"Bearer {alice.access_token}"}
    sent = requests.get(image["url"], headers=own, timeout=10)
    assert sent.status_code == 200 and sent.headers["Content-Type"] == "image/png"
    assert sent.content.startswith(b"\x89PNG") and len(sent.content) > 1000  # the file, from nginx
    assert sent.headers["X-Content-Type-Options"] == "nosniff"
    # Unattached: its uploader's only; and nginx's internal location is not reachable from outside.
    others = {"Authorization": f"Bearer {bob.access_token}"}
    assert requests.get(image["url"], headers=others, timeout=10).status_code == 404
    key = image["url"].split("/")[-2]
    assert requests.get(f"{installation.url}/_media/{key[:2]}/{key}.png", timeout=10).status_code == 404
    alice.status_post("Rack diagram", media_ids=[image["id"]])
    assert requests.get(image["url"], headers=others, timeout=10).status_code == 200
    # A body past the upload limit is refused by nginx before it reaches a process.
    huge = requests.post(
        f"{installation.url}/api/v2/media",
        files={"file": ("huge.png", b"0" * (18 * 1024 * 1024), "image/png")},
        headers=own,
        timeout=30,
    )
    assert huge.status_code == 413


def test_logs_are_json_lines_that_keep_secrets_out(installation):
    token = mastodon_for(installation.url, "alice").access_token
    requests.get(f"{installation.url}/api/v1/timelines/home?access_token={token}", timeout=5)
    records = []
    for log in installation.logs:
        for line in log.read_text().splitlines():
            if line.strip():
                records.append(json.loads(line))  # every line is one JSON object
    assert any(r["logger"] == "gunicorn.error" and "Listening at" in r["message"] for r in records)
    access = [r for r in records if r["logger"] == "microblog.access"]
    assert any(
        r["path"] == "/api/v1/statuses" and r["method"] == "POST" and r["status"] == 200 for r in access
    )
    assert all({"time", "level", "duration_ms", "remote_addr"} <= r.keys() for r in access)
    assert {r["remote_addr"] for r in access} == {"127.0.0.1"}  # the client, as nginx saw it
    text = "".join(log.read_text() for log in installation.logs)
    assert PASSWORD not in text and token not in text and installation.env["MICROBLOG_SECRET_KEY"] not in text


def test_killing_one_process_leaves_the_site_serving(installation, new_page):
    _follow(mastodon_for(installation.url, "alice"), "bob")
    page = new_page()
    log_in(page, installation, "alice")
    _connected(page)
    holder = _holder(installation)
    # As `systemctl kill -s KILL microblog@PORT` (or the OOM killer) would: master and worker at once.
    os.killpg(installation.processes[holder].pid, signal.SIGKILL)
    installation.processes[holder].wait(timeout=10)
    # The page notices, reconnects through nginx to the other process, and stays live.
    _connected(page)
    # nginx learns the process is gone from a failed attempt, which it retries on the other for a
    # GET; a POST that met a dead keep-alive connection first would be a 502 (nginx never repeats
    # a POST it may have sent), as it would for a client in that instant in production.
    for _ in range(4):
        assert requests.get(f"{installation.url}/healthz", timeout=5).status_code == 200
    bob = mastodon_for(installation.url, "bob")
    for i in range(6):
        assert requests.get(f"{installation.url}/healthz", timeout=5).status_code == 200
        bob.status_post(f"Still here {i}")
    assert len(bob.timeline_home(limit=40)) >= 6
    expect(page.locator("article.post .post-text").first).to_have_text("Still here 5", timeout=15_000)
    assert installation.socketio_clients(1 - holder) == 1
