"""Mastodon's WebSocket streaming (`/api/v1/streaming`), against a real gunicorn + gevent process.

Mastodon.py's `stream_open_websocket` and a raw websocket-client socket (for what a library
never sends: garbage, binary frames, someone else's list) speak to it as Mastodon clients do.
A subscribe message has no answer in Mastodon's protocol, so a test that must know the server
has taken it sends a message of an unknown type after it and waits for that one's error: the
server handles a socket's messages in order.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from mastodon import Mastodon, MastodonNetworkError, StreamListener

from .conftest import missing_service
from .factories import PASSWORD
from .live import LiveClient
from .nginx import nginx_available, running_nginx
from .server import client_site, flask_cli, free_port, running_server, server_env
from .test_api_clients import _read_only_token, mastodon_for
from .test_realtime_processes import MACHINE_REDIS, _redis_up, servers

# Every test here starts a server process and drives real clients against it.
pytestmark = pytest.mark.server

SYNC = {"type": "microblog-test-sync"}  # an unknown type: answered with an error, in order
UNKNOWN_TYPE = 'Expected {"type": "subscribe", "stream": "public"} (or "unsubscribe"), as JSON.'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One gunicorn + gevent process on SQLite; carol runs the private community @skunkworks."""
    people = ("alice", "bob", "carol", "erin", "frank", "gina")
    env = client_site(tmp_path_factory.mktemp("websocket"), *people)
    flask_cli(
        env, "communities", "create", "skunkworks", "--name", "Skunkworks", "--owner", "carol", "--private"
    )
    with running_server(env, gunicorn=True) as url:
        yield Site(url, env)


class Site:
    """The server's URL, environment and log, and a personal access token per user."""

    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.url = url
        self.env = env
        self.log = Path(env["MICROBLOG_DATA_DIR"]) / "server.log"
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            self._tokens[username] = flask_cli(self.env, "users", "token", username).split()[-1]
        return self._tokens[username]

    def api(self, username: str, method: str, path: str, **data: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        response = requests.request(method, f"{self.url}{path}", data=data, headers=headers, timeout=10)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def post(self, username: str, text: str) -> str:
        return self.api(username, "POST", "/api/v1/statuses", status=text)["id"]

    def follow(self, username: str, target: str) -> None:
        account = self.api(username, "GET", f"/api/v1/accounts/lookup?acct={target}")
        self.api(username, "POST", f"/api/v1/accounts/{account['id']}/follow")

    def socket(self, query: str = "", **options: Any) -> Socket:
        return Socket(f"{self.url.replace('http://', 'ws://')}/api/v1/streaming{query}", **options)


class Socket:
    """A websocket-client socket whose messages a thread collects (and whose pings it answers)."""

    def __init__(self, url: str, **options: Any) -> None:
        self.ws = websocket.create_connection(url, timeout=10, **options)
        self.messages: list[dict[str, Any]] = []
        self.closed: int | None = None
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                opcode, frame = self.ws.recv_data_frame(True)
            except (websocket.WebSocketException, OSError):
                self.closed = self.closed or -1
                return
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                self.closed = int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else 1005
                return
            if opcode == websocket.ABNF.OPCODE_TEXT:
                with self.lock:
                    self.messages.append(json.loads(frame.data.decode()))

    def send(self, message: Any) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def errors(self) -> list[tuple[str, int]]:
        with self.lock:
            return [(m["error"], m["status"]) for m in self.messages if "error" in m]

    def events(self) -> list[tuple[str, str, str]]:
        """Return (stream, event, the text of its post, or a deleted post's id) of each event."""
        found = []
        with self.lock:
            for m in self.messages:
                if "event" in m:
                    payload = m["payload"] if m["event"] == "delete" else json.loads(m["payload"])
                    text = payload if isinstance(payload, str) else payload.get("text") or payload["type"]
                    found.append((":".join(map(str, m["stream"])), m["event"], text))
        return found

    def settled(self) -> None:
        """Return once the server has handled every message sent so far."""
        before = len(self.errors())
        self.send(SYNC)
        assert wait_until(lambda: len(self.errors()) > before), self.messages
        with self.lock:
            self.messages = [m for m in self.messages if m.get("error") != UNKNOWN_TYPE]

    def close(self) -> None:
        self.ws.close()


def wait_until(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# -- Mastodon.py --------------------------------------------------------------------------------


class Collector(StreamListener):
    """Records (stream, event, text or id) of what reaches it, and the errors of its socket."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []
        self.errors: list[Any] = []
        self.lock = threading.Lock()

    def _add(self, stream: Any, event: str, what: str) -> None:
        with self.lock:
            self.events.append((":".join(map(str, stream or [])), event, what))

    def on_update(self, status, for_stream=None):
        self._add(for_stream, "update", status.text)

    def on_delete(self, status_id, for_stream=None):
        self._add(for_stream, "delete", str(status_id))

    def on_notification(self, notification, for_stream=None):
        self._add(for_stream, "notification", notification.type)

    def on_websocket_error(self, error, for_stream=None):
        with self.lock:
            self.errors.append(error)

    def wait_for(self, expected: list[tuple[str, str, str]], timeout: float = 10) -> bool:
        return wait_until(lambda: self.events == expected, timeout) or self.events == expected


def settled(handle: Any, collector: Collector) -> None:
    """Return once the server has handled what the handle sent (see the module's docstring)."""
    before = len(collector.errors)
    handle.connection.send(json.dumps(SYNC))  # Mastodon.py has no call for a message of no known type
    assert wait_until(lambda: len(collector.errors) > before)


def test_mastodon_py_user_stream_gets_a_followed_persons_post_and_its_delete(site):
    alice, bob = mastodon_for(site.url, "alice"), mastodon_for(site.url, "bob")
    alice.account_follow(alice.account_lookup("bob").id)
    home = Collector()
    handle = alice.stream_open_websocket(home)
    try:
        alice.stream_user(home, websocket_handle=handle)
        settled(handle, home)
        post = bob.status_post("Countdown started")
        bob.status_delete(post.id)
        assert home.wait_for([("user", "update", "Countdown started"), ("user", "delete", str(post.id))])
    finally:
        handle.close()


def test_mastodon_py_several_streams_on_one_socket_subscribe_and_unsubscribe(site):
    alice, bob = mastodon_for(site.url, "alice"), mastodon_for(site.url, "bob")
    public, tag = Collector(), Collector()
    handle = alice.stream_open_websocket(public)
    try:
        alice.stream_public(public, websocket_handle=handle)
        alice.stream_hashtag("Rocket", tag, websocket_handle=handle)  # events name it as asked: "Rocket"
        settled(handle, public)
        bob.status_post("Rocket one #rocket")
        bob.status_post("Lunch without tags")
        assert tag.wait_for([("hashtag:Rocket", "update", "Rocket one #rocket")])
        assert public.wait_for(
            [("public", "update", "Rocket one #rocket"), ("public", "update", "Lunch without tags")]
        )
        handle.unsubscribe("public")
        settled(handle, public)
        bob.status_post("Rocket two #rocket")
        assert tag.wait_for(
            [
                ("hashtag:Rocket", "update", "Rocket one #rocket"),
                ("hashtag:Rocket", "update", "Rocket two #rocket"),
            ]
        )
        time.sleep(0.3)
        assert len(public.events) == 2  # unsubscribed: nothing more
    finally:
        handle.close()


def test_mastodon_py_streams_through_nginx(tmp_path):
    if not nginx_available():
        missing_service("nginx is not installed (apt-get install nginx)")
    # Behind nginx as deployed: the app trusts one proxy, so the streaming URL it gives is nginx's.
    env = client_site(tmp_path / "data", "alice", "bob")
    env["MICROBLOG_PROXY_HOPS"] = "1"
    with running_server(env, gunicorn=True) as direct:
        port = free_port()
        with running_nginx(tmp_path / "nginx", port, [int(direct.rsplit(":", 1)[1])]) as url:
            alice, bob = mastodon_for(url, "alice"), mastodon_for(url, "bob")
            assert alice.instance().configuration.urls.streaming == f"ws://127.0.0.1:{port}"
            alice.account_follow(alice.account_lookup("bob").id)
            home = Collector()
            handle = alice.stream_open_websocket(home)
            try:
                alice.stream_user(home, websocket_handle=handle)
                alice.stream_hashtag("relay", home, websocket_handle=handle)
                settled(handle, home)
                time.sleep(2.5)  # idle past two heartbeats (pings): nginx keeps the socket open
                bob.status_post("Through the proxy #relay")
                assert home.wait_for(
                    [
                        ("user", "update", "Through the proxy #relay"),
                        ("hashtag:relay", "update", "Through the proxy #relay"),
                    ]
                )
            finally:
                handle.close()


# -- the protocol as Mastodon speaks it ------------------------------------------------------------


def test_the_stream_in_the_url_is_live_once_connected_and_the_token_may_be_the_subprotocol(site):
    site.follow("erin", "bob")
    token = site.token("erin")
    socket = site.socket("?stream=user", subprotocols=[token])
    try:
        # Mastodon echoes the token back as the chosen subprotocol; Node's ws refuses a socket without.
        assert socket.ws.getheaders()["sec-websocket-protocol"] == token
        post = site.post("bob", "Straight to the socket")  # no wait: subscribed before the handshake
        assert wait_until(lambda: socket.events() == [("user", "update", "Straight to the socket")])
        (message,) = [m for m in socket.messages if "event" in m]
        assert set(message) == {"stream", "event", "payload"} and json.loads(message["payload"])["id"] == post
    finally:
        socket.close()


def test_public_local_hashtag_local_notification_and_list_streams(site):
    site.follow("gina", "alice")
    team = site.api("gina", "POST", "/api/v1/lists", title="Team")
    alice = site.api("gina", "GET", "/api/v1/accounts/lookup?acct=alice")["id"]
    site.api("gina", "POST", f"/api/v1/lists/{team['id']}/accounts", **{"account_ids[]": alice})
    socket = site.socket(f"?stream=list&list={team['id']}&access_token={site.token('gina')}")
    try:
        for stream, extra in (
            ("public:local", {}),
            ("hashtag:local", {"tag": "Orbit"}),
            ("user:notification", {}),
        ):
            socket.send({"type": "subscribe", "stream": stream, **extra})
        socket.send({"type": "subscribe", "stream": "public:local"})  # again: still one subscription
        socket.settled()
        site.post("alice", "@gina into orbit #orbit")
        expected = {
            (f"list:{team['id']}", "update", "@gina into orbit #orbit"),
            ("public:local", "update", "@gina into orbit #orbit"),
            ("hashtag:local:Orbit", "update", "@gina into orbit #orbit"),
            ("user:notification", "notification", "mention"),
        }
        assert wait_until(lambda: len(socket.events()) >= 4)
        time.sleep(0.3)
        assert sorted(socket.events()) == sorted(expected) and socket.errors() == []
    finally:
        socket.close()


def test_a_private_communitys_post_reaches_members_sockets_only(site):
    member = site.socket(f"?stream=public&access_token={site.token('carol')}")
    outsider = site.socket(f"?stream=public&access_token={site.token('alice')}")
    try:
        for socket in (member, outsider):
            socket.send({"type": "subscribe", "stream": "hashtag", "tag": "zebraplan"})
            socket.settled()
        site.post("carol", "@skunkworks zebra secret #zebraplan")
        site.post("carol", "Public zebra lunch #zebraplan")
        secret, control = "@skunkworks zebra secret #zebraplan", "Public zebra lunch #zebraplan"
        assert wait_until(lambda: len(member.events()) == 4 and len(outsider.events()) == 2)
        time.sleep(0.5)  # and nothing more comes
        assert sorted(member.events()) == sorted(
            [
                ("public", "update", secret),
                ("hashtag:zebraplan", "update", secret),
                ("public", "update", control),
                ("hashtag:zebraplan", "update", control),
            ]
        )
        assert sorted(outsider.events()) == [
            ("hashtag:zebraplan", "update", control),
            ("public", "update", control),
        ]
        assert "zebra secret" not in json.dumps(outsider.messages)
    finally:
        member.close(), outsider.close()


def test_someone_elses_list_is_refused_and_nothing_else_changes(site):
    bobs = site.api("bob", "POST", "/api/v1/lists", title="search: zebra")
    socket = site.socket(f"?stream=list&list={bobs['id']}&access_token={site.token('alice')}")
    try:
        assert wait_until(lambda: socket.errors() == [("No such list.", 404)])
        socket.send({"type": "subscribe", "stream": "list", "list": bobs["id"]})
        socket.send({"type": "subscribe", "stream": "public"})
        socket.settled()
        assert socket.errors() == [("No such list.", 404)] * 2
        site.post("bob", "A zebra crossing")
        assert wait_until(lambda: socket.events() == [("public", "update", "A zebra crossing")])
        time.sleep(1.5)  # the saved search matches about a second later: no list event comes
        assert socket.events() == [("public", "update", "A zebra crossing")]
    finally:
        socket.close()


def test_bad_messages_get_an_error_each_and_change_nothing_else(site):
    socket = site.socket(f"?stream=public&access_token={site.token('bob')}")
    try:
        bad = [
            ("not json at all", UNKNOWN_TYPE),
            (b"\x00\x01binary", "Messages are JSON text, not binary."),
            ('["subscribe", "public"]', UNKNOWN_TYPE),
            ('{"type": "dance", "stream": "public"}', UNKNOWN_TYPE),
            ('{"type": "subscribe", "stream": "direct"}', "Unknown stream."),
            ('{"type": "subscribe", "stream": {"a": 1}}', "Unknown stream."),
            ('{"type": "subscribe", "stream": "hashtag"}', "Tags are"),
            ('{"type": "subscribe", "stream": "hashtag", "tag": ["x"]}', "Tags are"),
            ('{"type": "subscribe", "stream": "hashtag", "tag": "no spaces"}', "Tags are"),
            ('{"type": "subscribe", "stream": "list", "list": "x"}', "No such list."),
            ('{"type": "unsubscribe", "stream": "nonsense"}', "Unknown stream."),
            ("[" * 4000, UNKNOWN_TYPE),
            (
                json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "x" * 20000}),
                "The message is too long",
            ),
        ]
        bad += [({"type": "subscribe", "stream": "hashtag", "tag": f"t{n}"}, "") for n in range(99)]
        bad.append(({"type": "subscribe", "stream": "hashtag", "tag": "one-too-many"}, "At most 100 streams"))
        for message, _ in bad:
            if isinstance(message, bytes):
                socket.ws.send(message, opcode=websocket.ABNF.OPCODE_BINARY)
            else:
                socket.send(message)
        refused = [(message, expected) for message, expected in bad if expected]
        assert wait_until(lambda: len(socket.errors()) == len(refused)), socket.errors()
        for (error, status), (_, expected) in zip(socket.errors(), refused, strict=True):
            assert error.startswith(expected) and status in (400, 404), (error, status)
        site.post("alice", "Still streaming after all that")
        assert wait_until(lambda: socket.events() == [("public", "update", "Still streaming after all that")])
        assert socket.closed is None
    finally:
        socket.close()
    assert_no_server_error(site)


def test_broken_frames_and_oversized_messages_close_only_their_own_socket(site):
    bystander = site.socket(f"?stream=public&access_token={site.token('bob')}")
    broken = site.socket(f"?stream=public&access_token={site.token('bob')}")
    huge = site.socket(f"?stream=public&access_token={site.token('bob')}")
    try:
        broken.ws.send(b"\xff\xfe not UTF-8", opcode=websocket.ABNF.OPCODE_TEXT)
        huge.send("x" * (1 << 20 | 1))  # more than a mebibyte: not even read
        # Invalid text fails the connection (RFC 6455: 1007); so does a message too big to read (1009).
        assert wait_until(lambda: broken.closed == 1007 and huge.closed == 1009), (broken.closed, huge.closed)
        site.post("alice", "The others stream on")
        assert wait_until(lambda: bystander.events() == [("public", "update", "The others stream on")])
    finally:
        for socket in (bystander, broken, huge):
            socket.close()
    assert_no_server_error(site)


def test_the_handshake_is_refused_without_a_valid_token_or_scope(site):
    url = f"{site.url.replace('http://', 'ws://')}/api/v1/streaming"
    for query, headers, status in (
        ("", [], 401),
        ("?access_token=not-a-token", [], 401),
        ("", ["Authorization: Bearer not-a-token"], 401),
        ("", ["Sec-WebSocket-Protocol: not-a-token"], 401),
        (f"?access_token={_write_only_token(site)}", [], 403),
    ):
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url + query, header=headers, timeout=10)
        assert refused.value.status_code == status, (query, headers)
        assert "error" in json.loads(refused.value.resp_body)
    plain = requests.get(
        f"{site.url}/api/v1/streaming", headers={"Authorization": f"Bearer {site.token('bob')}"}
    )
    assert plain.status_code == 426 and plain.headers["Upgrade"] == "websocket" and "error" in plain.json()
    assert requests.get(f"{site.url}/api/v1/streaming/").status_code == 401
    nobody = Mastodon(access_token="not-a-token", api_base_url=site.url)
    with pytest.raises(MastodonNetworkError):
        nobody.stream_open_websocket(Collector())
    assert_no_server_error(site)


def _write_only_token(site: Site) -> str:
    bob = LiveClient(site.url, "bob")
    page = bob.http.post(
        f"{site.url}/settings/tokens", data={"name": "w", "write": "y", "csrf_token": bob.csrf}
    )
    return re.search(r'value="([^"]+)"[^>]*data-new-token', page.text).group(1)


def assert_no_server_error(site: Site) -> None:
    log = site.log.read_text()
    assert "Traceback" not in log and '" 500 ' not in log, log[-3000:]


# -- the socket's end ------------------------------------------------------------------------------


def test_revoking_the_token_closes_the_socket(site):
    value = _read_only_token(site.url)  # bob's, made in Settings
    socket = site.socket(f"?stream=public&access_token={value}")
    bob = LiveClient(site.url, "bob")
    token_id = re.findall(r"/settings/tokens/(\d+)/revoke", bob.http.get(f"{site.url}/settings/tokens").text)[
        0
    ]
    assert bob.form(f"/settings/tokens/{token_id}/revoke").status_code == 302
    assert wait_until(lambda: socket.closed is not None)
    assert socket.closed == 1000
    with pytest.raises(websocket.WebSocketBadStatusException):
        site.socket(f"?stream=public&access_token={value}")


def test_ending_a_persons_sessions_closes_their_sockets(site):
    sockets = [site.socket("?stream=user", subprotocols=[site.token("frank")]) for _ in range(2)]
    frank = LiveClient(site.url, "frank")
    # A password change ends every session (the token itself stays: a routine change keeps bots going).
    response = frank.form("/settings/password", current_password=PASSWORD, new_password="another password 1")
    assert response.status_code == 302
    assert wait_until(lambda: all(s.closed == 1000 for s in sockets)), [s.closed for s in sockets]


# -- several processes ------------------------------------------------------------------------------


def test_a_post_through_one_process_reaches_a_socket_on_the_other(database_url, tmp_path):
    if not _redis_up(MACHINE_REDIS):
        missing_service("Redis is not running on 127.0.0.1:6379")
    with servers(database_url, tmp_path, MACHINE_REDIS) as (first, second):
        env = server_env(database_url, tmp_path / "cli", free_port())
        token = flask_cli(env, "users", "token", "dave").split()[-1]
        socket = Socket(
            f"{second.replace('http://', 'ws://')}/api/v1/streaming?stream=public&access_token={token}"
        )
        try:
            LiveClient(first, "bob").post("Made in the first process")
            assert wait_until(lambda: socket.events() == [("public", "update", "Made in the first process")])
        finally:
            socket.close()
