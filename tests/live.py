"""A python-socketio client logged in to a real server process, collecting what it receives."""

from __future__ import annotations

import re
import threading
import time

import requests
import socketio

from .factories import PASSWORD


def _csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class LiveClient:
    """Logs in over HTTP, connects over websocket with the session cookie, records events."""

    def __init__(self, base_url: str, username: str, password: str = PASSWORD) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.csrf = _csrf_token(self.http.get(f"{base_url}/login").text)
        response = self.form("/login", login=username, password=password)
        assert response.status_code == 302, response.text[:500]
        self.events: list[tuple[str, dict]] = []
        self.disconnects = 0
        self.lock = threading.Lock()
        # The tests reconnect explicitly, as live.js does after a server-side disconnect; an automatic
        # reconnection racing with theirs would make the outcome depend on timing.
        self.sio = socketio.Client(reconnection=False)
        for name in ("update", "delete", "notification", "status.update"):
            self.sio.on(name, self._recorder(name))
        self.sio.on("disconnect", self._on_disconnect)

    def _recorder(self, name: str):
        def record(data: dict) -> None:
            with self.lock:
                self.events.append((name, data))

        return record

    def _on_disconnect(self, reason=None) -> None:
        self.disconnects += 1

    def connect(self) -> LiveClient:
        """Connect over websocket with the login cookie."""
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.sio.connect(self.base_url, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=10)
        return self

    def reconnect(self) -> LiveClient:
        """Connect again once a server-side disconnect has fully closed the connection."""
        # Socket.IO reports the disconnect before Engine.IO has finished closing its websocket;
        # connecting in between is refused ("Client is not in a disconnected state").
        assert self.wait_for(lambda: self.sio.eio.state == "disconnected"), self.sio.eio.state
        return self.connect()

    def form(self, path: str, **data: str) -> requests.Response:
        """Submit a form of the site (with its CSRF token)."""
        return self.http.post(
            f"{self.base_url}{path}", data={**data, "csrf_token": self.csrf}, allow_redirects=False
        )

    def post(self, text: str) -> None:
        """Post through the web form."""
        response = self.form("/posts", text=text, next="/")
        assert response.status_code == 302, response.text[:500]

    def updates(self) -> list[str]:
        """Return the texts of the posts received as `update`, in order."""
        with self.lock:
            return [data["payload"]["text"] for name, data in self.events if name == "update"]

    def wait_for(self, predicate, timeout: float = 10) -> bool:
        """Wait until predicate() holds; return whether it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    def catch_up(self, path: str, newest: int) -> list[int]:
        """Fetch the ids of posts newer than `newest` on a feed page (what the browser does)."""
        html = self.http.get(
            f"{self.base_url}{path}", params={"fragment": 1, "min_id": newest, "limit": 40}
        ).text
        return [int(pid) for pid in re.findall(r'data-post-id="(\d+)"', html)]

    def close(self) -> None:
        """Disconnect."""
        if self.sio.connected:
            self.sio.disconnect()
