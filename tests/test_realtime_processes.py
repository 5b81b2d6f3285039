"""Several server processes sharing Redis: delivery across processes, and across a Redis restart."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis
import requests
import socketio

from .conftest import missing_service
from .factories import PASSWORD
from .live import LiveClient
from .server import PRODUCTION, ROOT, create_user, flask_cli, free_port, running_server, server_env

# Every test here starts server processes (and one a Redis).
pytestmark = pytest.mark.server

MACHINE_REDIS = "redis://127.0.0.1:6379/0"


def _redis_up(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextmanager
def servers(
    database_url: str, tmp_path: Path, redis_url: str, count: int = 2, envs_out: list | None = None
) -> Iterator[list[str]]:
    """Start `count` server processes on one database and one Redis; yield their URLs (envs into envs_out)."""
    shared = {
        "MICROBLOG_REDIS_URL": redis_url,
        "MICROBLOG_REDIS_CHANNEL": f"microblog-test-{uuid.uuid4().hex}",
        **PRODUCTION,
    }
    envs = [server_env(database_url, tmp_path / f"p{i}", free_port(), **shared) for i in range(count)]
    if envs_out is not None:
        envs_out.extend(envs)
    flask_cli(envs[0], "db", "upgrade")
    for name in ("alice", "bob", "dave"):
        create_user(envs[0], name)
    with ExitStack() as stack:
        # Production mode: each process is gunicorn with one gevent worker (deploy/gunicorn.conf.py),
        # and the installation has one search worker.
        yield [
            stack.enter_context(running_server(env, gunicorn=True, search_worker=i == 0))
            for i, env in enumerate(envs)
        ]


def _follow(client: LiveClient, username: str) -> None:
    assert client.form(f"/@{username}/follow").status_code == 302


@pytest.fixture
def machine_redis() -> str:
    if not _redis_up(MACHINE_REDIS):
        missing_service("Redis is not running on 127.0.0.1:6379")
    return MACHINE_REDIS


def test_a_post_through_one_process_reaches_clients_of_both(database_url, tmp_path, machine_redis):
    with servers(database_url, tmp_path, machine_redis) as (first, second):
        alice = LiveClient(first, "alice")
        dave = LiveClient(second, "dave")
        _follow(alice, "bob")
        _follow(dave, "bob")
        alice.connect(), dave.connect()
        bob = LiveClient(first, "bob")
        try:
            bob.post("Deploy of Apollo 2.1 done #apollo")
            for client in (alice, dave):
                assert client.wait_for(lambda c=client: c.updates() == ["Deploy of Apollo 2.1 done #apollo"])
            time.sleep(0.5)  # nothing doubles
            assert alice.updates() == dave.updates() == ["Deploy of Apollo 2.1 done #apollo"]
        finally:
            alice.close(), dave.close()


def _streams_of_updates(client: LiveClient) -> list[tuple[str, ...]]:
    with client.lock:
        return sorted(tuple(data["stream"]) for name, data in client.events if name == "update")


def test_a_post_is_one_publish_that_reaches_each_of_its_streams_in_both_processes(
    database_url, tmp_path, machine_redis
):
    """Home, company and tag streams hear a post from one message on the queue: each once, in each process."""
    envs: list[dict] = []
    with servers(database_url, tmp_path, machine_redis, envs_out=envs) as (first, second):
        alice = LiveClient(first, "alice")
        dave = LiveClient(second, "dave")
        for client in (alice, dave):
            _follow(client, "bob")
            client.connect()
            for stream in ({"stream": "public"}, {"stream": "hashtag", "tag": "apollo"}):
                assert client.sio.call("subscribe", stream, timeout=5) == {"ok": True}
        queue = redis.Redis.from_url(machine_redis).pubsub()
        queue.subscribe(envs[0]["MICROBLOG_REDIS_CHANNEL"])
        bob = LiveClient(second, "bob")
        try:
            bob.post("Apollo 2.2 is out #apollo")
            every = [("hashtag", "apollo"), ("public",), ("user",)]
            for client in (alice, dave):
                assert client.wait_for(lambda c=client: _streams_of_updates(c) == every), client.events
            time.sleep(0.5)  # nothing doubles
            sent = []
            while (message := queue.get_message(timeout=0.2)) is not None:
                if message["type"] == "message":
                    sent.append(json.loads(message["data"]))
            updates = [m for m in sent if m.get("method") == "emit" and m.get("event") == "update"]
            assert len(updates) == 1, updates
            for client in (alice, dave):
                assert _streams_of_updates(client) == every
                assert client.updates() == ["Apollo 2.2 is out #apollo"] * 3
        finally:
            queue.close()
            alice.close(), dave.close()


def test_follows_changed_through_one_process_steer_home_events_in_the_other(
    database_url, tmp_path, machine_redis
):
    """Each process decides which of its clients hear a post from what it knows of them: kept current."""
    with servers(database_url, tmp_path, machine_redis) as (first, second):
        dave = LiveClient(second, "dave").connect()  # known to the second process before he follows anyone
        dave_at_first = LiveClient(first, "dave")
        bob = LiveClient(first, "bob")
        try:
            _follow(dave_at_first, "bob")
            assert dave_at_first.form("/tags/apollo/follow").status_code == 302
            bob.post("Dave follows me now")
            assert dave.wait_for(lambda: dave.updates() == ["Dave follows me now"])
            LiveClient(first, "alice").post("Launch window moved #apollo")
            assert dave.wait_for(lambda: dave.updates()[-1:] == ["Launch window moved #apollo"])
            assert dave_at_first.form("/@bob/unfollow").status_code == 302
            assert dave_at_first.form("/tags/apollo/unfollow").status_code == 302
            bob.post("Dave no longer follows me")
            LiveClient(first, "alice").post("Launch window moved again #apollo")
            # A mention reaches him whatever he follows: once it has arrived, so would have the two before it.
            bob.post("Last check @dave")
            assert dave.wait_for(lambda: dave.updates()[-1:] == ["Last check @dave"])
            heard = ["Dave follows me now", "Launch window moved #apollo", "Last check @dave"]
            assert dave.updates() == heard
        finally:
            dave.close()


def _list_updates(client: LiveClient) -> list[str]:
    with client.lock:
        return [d["payload"]["text"] for n, d in client.events if n == "update" and d["stream"][0] == "list"]


def test_a_saved_search_matched_in_either_process_reaches_its_follower_in_the_other(
    database_url, tmp_path, machine_redis
):
    with servers(database_url, tmp_path, machine_redis) as (first, second):
        alice = LiveClient(second, "alice")
        followed = alice.form("/signals", q="periscope")
        assert followed.status_code == 302, followed.text[:300]
        list_id = followed.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        alice.connect()
        bob = LiveClient(first, "bob")
        try:
            assert alice.sio.call("subscribe", {"stream": "list", "list": list_id}, timeout=5) == {"ok": True}
            bob.post("Periscope is up")
            bob.post("Lunch is ready")
            # Matched by whichever process indexes the post (about a second later), heard through Redis.
            assert alice.wait_for(lambda: _list_updates(alice) == ["Periscope is up"], timeout=20), (
                alice.events
            )
            time.sleep(1.5)  # nothing doubles, nothing else matches
            assert _list_updates(alice) == ["Periscope is up"]
            # A page that reconnects catches up from the search's matches.
            assert len(alice.catch_up(f"/signals/{list_id}", 0)) == 1
        finally:
            alice.close(), bob.close()


def test_real_clients_need_a_session_to_connect(database_url, tmp_path, machine_redis):
    with servers(database_url, tmp_path, machine_redis, count=1) as (url,):
        anonymous = socketio.Client(reconnection=False)
        refusals = []
        anonymous.on("connect_error", refusals.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            anonymous.connect(url, transports=["websocket"], wait_timeout=10)
        assert refusals == [{"message": "authentication required"}]
        forged = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            forged.connect(url, headers={"Cookie": "session=not-a-signed-session"}, transports=["websocket"])
        alice = LiveClient(url, "alice").connect()
        try:
            assert alice.sio.connected
            assert alice.sio.call("subscribe", {"stream": "public"}, timeout=5) == {"ok": True}
            assert "error" in alice.sio.call("subscribe", {"stream": "secret"}, timeout=5)
        finally:
            alice.close()


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test may stop and start."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.tmp_path = tmp_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.tmp_path,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if _redis_up(self.url):
                return
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        missing_service("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.process and server.process.poll() is None:
        server.stop()


def test_delivery_resumes_after_a_redis_restart_and_catch_up_fills_the_gap(
    database_url, tmp_path, private_redis
):
    with servers(database_url, tmp_path, private_redis.url) as (first, second):
        bob = LiveClient(first, "bob")
        alice = LiveClient(second, "alice")  # on the other process than the poster
        _follow(alice, "bob")
        alice.connect()
        try:
            bob.post("before the outage")
            assert alice.wait_for(lambda: alice.updates() == ["before the outage"])
            newest = int(alice.events[-1][1]["payload"]["id"])

            private_redis.stop()
            bob.post("during the outage")  # stored; its event cannot cross to the other process
            time.sleep(0.5)
            assert alice.updates() == ["before the outage"]

            private_redis.start()
            # The other process notices Redis is back and drops its clients so that they resync.
            assert alice.wait_for(lambda: alice.disconnects >= 1, timeout=30)
            alice.reconnect()  # what live.js does after a server-side disconnect
            missed = alice.catch_up("/", newest)
            assert len(missed) == 1  # "during the outage", once

            bob.post("after the outage")
            assert alice.wait_for(lambda: alice.updates()[-1:] == ["after the outage"], timeout=15)
            assert alice.updates() == ["before the outage", "after the outage"]
        finally:
            alice.close()


def test_event_streams_hear_posts_made_through_another_process(database_url, tmp_path, machine_redis):
    from mastodon import Mastodon

    from .test_api_clients import Collector, _listening

    with servers(database_url, tmp_path, machine_redis) as (first, second):
        readers = []
        for url in (first, second):
            client_id, client_secret = Mastodon.create_app("streams", api_base_url=url)
            reader = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=url)
            reader.log_in("alice@example.com", PASSWORD, allow_http=True)
            readers.append(reader)
        collectors = [Collector(), Collector()]
        handles = [r.stream_public(c, run_async=True) for r, c in zip(readers, collectors, strict=True)]
        try:
            assert all(_listening(c) for c in collectors)
            LiveClient(second, "bob").post("Handover to the night shift #ops")
            for collector in collectors:
                assert collector.wait_for([("update", "Handover to the night shift #ops")]), collector.events
        finally:
            for handle in handles:
                handle.close()


def test_teams_remove_at_the_command_line_reaches_open_inbox_pages_through_redis(
    database_url, tmp_path, machine_redis
):
    env = server_env(
        database_url,
        tmp_path / "site",
        free_port(),
        MICROBLOG_REDIS_URL=machine_redis,
        MICROBLOG_REDIS_CHANNEL=f"microblog-test-{uuid.uuid4().hex}",
        **PRODUCTION,
    )
    flask_cli(env, "db", "upgrade")
    for name in ("alice", "bob", "carol"):
        create_user(env, name)
    flask_cli(env, "teams", "create", "it-support", "--name", "Support", "--member", "bob", "--lead", "alice")
    with running_server(env, gunicorn=True) as url:
        alice = LiveClient(url, "alice")
        alice.sio.on("inbox.update", alice._recorder("inbox.update"))
        alice.connect()
        try:

            def items() -> list[dict]:
                with alice.lock:
                    return [data["payload"] for name, data in alice.events if name == "inbox.update"]

            LiveClient(url, "carol").post("@it-support the printer on 3 is jammed")
            assert alice.wait_for(lambda: len(items()) == 1)
            item = items()[0]["id"]
            assert LiveClient(url, "bob").form(f"/teams/it-support/inbox/{item}/assign").status_code == 302
            assert alice.wait_for(lambda: len(items()) == 2 and items()[1]["state"] == "assigned")

            flask_cli({**env, "MICROBLOG_SITE_URL": url}, "teams", "remove", "it-support", "bob")

            assert alice.wait_for(lambda: len(items()) == 3), items()
            given_back = items()[2]
            assert (given_back["id"], given_back["state"], given_back["assignee"]) == (item, "open", None)
            assert given_back["status"]["url"].startswith(f"{url}/posts/")
        finally:
            alice.close()


REVOKE_AT_THE_COMMAND_LINE = (
    "import sys\n"
    "from microblog import create_app\n"
    "from microblog.services import accounts, tokens\n"
    "with create_app().app_context():\n"
    "    tokens.revoke_token(accounts.access_user('alice'), int(sys.argv[1]))\n"
)


def test_a_token_revoked_in_one_process_is_refused_by_every_process_at_once(
    database_url, tmp_path, machine_redis
):
    # Each process remembers the tokens it has seen (services.grants): the revoking request, or
    # command, answers only once every process has heard of it, so no request after it gets through.
    envs: list[dict[str, str]] = []
    with servers(database_url, tmp_path, machine_redis, envs_out=envs) as (first, second):
        alice = LiveClient(first, "alice")
        try:
            for attempt in range(6):
                value = flask_cli(envs[0], "users", "token", "alice").strip()
                auth = {"Authorization": f"Bearer {value}"}
                for url in (first, second):
                    assert requests.get(f"{url}/api/v1/accounts/verify_credentials", headers=auth).ok
                page = alice.http.get(f"{first}/settings/tokens").text
                token_id = max(int(found) for found in re.findall(r"/settings/tokens/(\d+)/revoke", page))
                if attempt % 2:  # through a request to the first process
                    assert alice.form(f"/settings/tokens/{token_id}/revoke").status_code == 302
                else:  # through a command-line process
                    done = subprocess.run(
                        [sys.executable, "-c", REVOKE_AT_THE_COMMAND_LINE, str(token_id)],
                        cwd=ROOT,
                        env=envs[0],
                        capture_output=True,
                        text=True,
                        timeout=60,
                    )
                    assert done.returncode == 0, done.stderr
                for url in (second, first):
                    answer = requests.get(f"{url}/api/v1/accounts/verify_credentials", headers=auth)
                    assert answer.status_code == 401, (attempt, url)
        finally:
            alice.close()
