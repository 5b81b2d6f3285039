"""Mastodon's streaming API over a WebSocket: `GET /api/v1/streaming`, as Mastodon's own server speaks it.

One socket carries any number of streams: the one its URL names (`?stream=user`,
`?stream=hashtag&tag=apollo`, `?stream=list&list=7` ...) and those the client adds and
removes with `{"type": "subscribe", "stream": "public"}` and `{"type": "unsubscribe", ...}`.
Each event goes out once for each subscribed stream that carries it, as
`{"stream": ["user"], "event": "update", "payload": "<the Status as JSON text>"}` (a
`delete`'s payload: the bare id).  A message that is not a good subscription gets
`{"error": "...", "status": 400}` (404: a list that is not the client's own) and changes
nothing else.  What each stream listens to and carries is `channels`', shared with the
event streams.

The token comes as `Authorization: Bearer`, `?access_token=` or the Sec-WebSocket-Protocol
header (then echoed back as the chosen subprotocol, as Mastodon does); without a valid one
the upgrade is refused (401).  The socket listens to its token's and its person's rooms, as
the event streams do, so a revoked token, a deactivation or ended sessions close it.  Pings
go out every MICROBLOG_STREAM_HEARTBEAT seconds, so proxies keep an idle socket open and a
client that stopped answering is let go.  Under gunicorn's gevent worker a socket costs three
greenlets (this request's, simple-websocket's reader and the one queueing the client's
messages), not a worker.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from contextlib import suppress
from typing import Any

import simple_websocket
from flask import Response, current_app, jsonify, request
from flask_babel import gettext as _
from wsproto.utilities import ProtocolError

import realtime
from microblog.database import db
from microblog.services import tokens
from microblog.services.errors import ServiceError

from .. import (
    Unauthorized,
    current_token,
    record_visit,
    route,
    signed_in,
    websocket_subprotocols,
)
from . import channels

log = logging.getLogger(__name__)

MAX_MESSAGE = 4096  # characters in a client's message; a subscription needs a few dozen
MAX_FRAME = 1 << 20  # bytes simple-websocket reads of one message before it closes the socket (1009)
MAX_STREAMS = 100  # subscriptions on one socket: each costs rooms in every process's hub
CLIENT = "microblog:client"  # a client's message (None: the client is gone), queued among the events
CLOSE_CODES = {realtime.sse.BEHIND: 1013}  # fell behind: try again later; its sessions ended: a normal close


@route("/api/v1/streaming", websocket=True)  # Werkzeug routes a handshake only to a rule that says so
@route("/api/v1/streaming")
def stream_websocket():
    """Open a WebSocket that carries any number of Mastodon's streams."""
    token = current_token()
    # A token that may read any stream opens a socket; each subscription checks its own scope.
    reads_statuses = token is None or tokens.grants(token.scope_list, "read:statuses")
    signed_in("read:statuses" if reads_statuses else "read:notifications")
    if not _asks_for_websocket():
        response = jsonify(error=_("This is a WebSocket endpoint: connect with a WebSocket client."))
        response.status_code = 426
        response.headers.update({"Upgrade": "websocket", "Sec-WebSocket-Version": "13"})
        return response
    socket = Socket.listening()
    try:
        socket.ws = _handshake(socket)
    except BaseException:
        socket.stop()
        raise
    return Upgraded(socket)


def _handshake(socket: Socket) -> simple_websocket.Server:
    """Subscribe to the stream the URL names, then upgrade: once connected, that stream is live."""
    first = request.args.get("stream")
    if first:
        try:
            socket.subscribe(first, request.args)
        except ServiceError as error:
            socket.refused = error  # sent once the socket is open, as Mastodon does
    # Mastodon (Node's ws) chooses the first subprotocol offered: the token, when it comes that way.
    try:
        return simple_websocket.Server(
            request.environ,
            subprotocols=websocket_subprotocols()[:1],
            ping_interval=current_app.config["STREAM_HEARTBEAT"],
            max_message_size=MAX_FRAME,
        )
    except (ProtocolError, simple_websocket.ConnectionError, RuntimeError, ValueError) as error:
        raise ServiceError(_("This WebSocket handshake is not one this server can answer.")) from error


def _asks_for_websocket() -> bool:
    """Return whether the request is a WebSocket handshake (RFC 6455, version 13)."""
    headers = request.headers
    connection = {part.strip().lower() for part in headers.get("Connection", "").split(",")}
    return (
        headers.get("Upgrade", "").strip().lower() == "websocket"
        and "upgrade" in connection
        and bool(headers.get("Sec-WebSocket-Key"))
        and headers.get("Sec-WebSocket-Version", "").strip() == "13"
        and bool(headers.get("Host"))
    )


class Upgraded(Response):
    """The answer once the socket is open: serving it, after the request's own hooks have run."""

    def __init__(self, socket: Socket) -> None:
        super().__init__(status=101)
        self.socket = socket

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Serve the socket until it closes, then tell the server the connection is done with."""
        self.socket.serve()
        mode = self.socket.ws.mode if self.socket.ws is not None else ""
        # The socket is closed: no HTTP answer may follow on it (what python-engineio does too).
        if mode == "gunicorn":
            raise StopIteration
        if mode == "werkzeug":
            raise ConnectionError("the WebSocket closed")
        return []


class Socket:
    """One client's WebSocket: its subscriptions, and the listener that hears their rooms."""

    def __init__(self, listener: realtime.sse.Listener) -> None:
        self.listener = listener
        self.heartbeat: float = current_app.config["STREAM_HEARTBEAT"]
        self.ws: simple_websocket.Server | None = None
        self.channels: dict[tuple[str, ...], channels.Channel] = {}
        self.refused: ServiceError | None = None  # why the URL's stream was refused
        self.always = frozenset(listener.rooms)  # its token's and its person's: where its end comes from
        self.done = False

    @classmethod
    def listening(cls) -> Socket:
        """Start hearing the rooms that end a socket of the request's token; refuse one ended meanwhile."""
        token = current_token()
        assert token is not None, "sockets are opened by signed-in requests"
        rooms = [realtime.token_room(token.id), realtime.sessions_room(token.user_id)]
        listener = realtime.listen(rooms, realtime.sse.WEBSOCKET)
        # Listening first, then checking again: a revocation or deactivation announced between the
        # request's token check and listen() would otherwise go unheard, and the socket live on.
        if not tokens.token_is_live(token.id):
            realtime.stop_listening(listener)
            raise Unauthorized(_("The access token is invalid"))
        return cls(listener)

    def subscribe(self, name: Any, params: Any) -> None:
        """Add a stream (a second subscription to the same stream changes nothing)."""
        channel = channels.open_channel(name, params)
        if channel.key not in self.channels:
            if len(self.channels) >= MAX_STREAMS:
                raise ServiceError(_("At most %(count)d streams on one socket.", count=MAX_STREAMS))
            self.channels[channel.key] = channel
            realtime.hear(self.listener, channel.rooms)

    def unsubscribe(self, name: Any, params: Any) -> None:
        """Remove a stream, and stop hearing the rooms no other stream of the socket needs."""
        channel = self.channels.pop(channels.channel_key(name, params), None)
        if channel is not None:
            needed = self.always.union(*(c.rooms for c in self.channels.values()))
            realtime.stop_hearing(self.listener, set(channel.rooms) - needed)

    def serve(self) -> None:
        """Pass events and client messages until the socket closes or its sessions end."""
        reader = threading.Thread(target=self._read, name="streaming-websocket-reader", daemon=True)
        code = 1000
        try:
            _release_database()
            record_visit()  # the person used microblog today: written now, holding no other connection
            if self.refused is not None:
                self.send_error(self.refused)
            reader.start()
            code = self._pass_events()
        except (simple_websocket.ConnectionClosed, OSError):
            pass  # the client went away
        except Exception:
            log.exception("a streaming WebSocket failed")
            code = 1011
        finally:
            self.stop()
            self._close(code)

    def _pass_events(self) -> int:
        """Send the events the subscriptions carry, handle client messages; return the close code."""
        ws = self.ws
        assert ws is not None
        while ws.connected:
            item = self.listener.next_event(self.heartbeat)
            if item is None:
                continue
            event, data = item
            if event == realtime.sse.CLOSE:
                return CLOSE_CODES.get(data, 1000)
            if event == CLIENT:
                if data is None:
                    break
                self.handle(data)
                _release_database()
                continue
            for channel in list(self.channels.values()):
                if channel.takes(event, data):
                    message = channels.websocket_message(channel, event, data)
                    if message is not None:
                        ws.send(message)
        return 1000

    def handle(self, message: str | bytes) -> None:
        """Act on one client message; answer a bad one with an error message."""
        try:
            kind, name, params = _parse(message)
            if kind == "subscribe":
                self.subscribe(name, params)
            else:
                self.unsubscribe(name, params)
        except ServiceError as error:
            self.send_error(error)

    def send_error(self, error: ServiceError) -> None:
        """Tell the client what was wrong, as Mastodon does: {"error": ..., "status": ...}."""
        status = 400 if error.status_code == 422 else error.status_code  # Mastodon's bad request
        if self.ws is not None:
            self.ws.send(json.dumps({"error": error.message, "status": status}, ensure_ascii=False))

    def _read(self) -> None:
        """Queue the client's messages among the events (run beside serve(), which handles them)."""
        ws = self.ws
        assert ws is not None
        while not self.done:
            try:
                message = ws.receive(timeout=self.heartbeat)
            except simple_websocket.ConnectionClosed:
                break
            if message is None:
                if not ws.connected:
                    break
                continue
            self._queue(message)
        self._queue(None)

    def _queue(self, message: str | bytes | None) -> None:
        # A full queue waits for serve() to take from it: a client sending faster than it is
        # answered is slowed down, never buffered without bound.
        while not self.done:
            if self.listener.events.qsize() < realtime.sse.BACKLOG:
                self.listener.events.put((CLIENT, message))
                return
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop hearing every room (idempotent)."""
        self.done = True
        realtime.stop_listening(self.listener)

    def _close(self, code: int) -> None:
        ws = self.ws
        if ws is not None and ws.connected:
            with suppress(simple_websocket.ConnectionClosed, OSError):
                ws.close(code)


def _parse(message: str | bytes) -> tuple[str, Any, dict[str, Any]]:
    """Return (type, stream, parameters) of a subscribe or unsubscribe message, or raise ServiceError."""
    if not isinstance(message, str):
        raise ServiceError(_("Messages are JSON text, not binary."))
    if len(message) > MAX_MESSAGE:
        raise ServiceError(_("The message is too long (at most %(count)d characters).", count=MAX_MESSAGE))
    try:
        parsed = json.loads(message)
    except (ValueError, RecursionError):
        parsed = None
    kind = parsed.get("type") if isinstance(parsed, dict) else None
    if kind not in ("subscribe", "unsubscribe"):
        raise ServiceError(
            _('Expected {"type": "subscribe", "stream": "public"} (or "unsubscribe"), as JSON.')
        )
    assert isinstance(parsed, dict)
    name = parsed.get("stream")
    if isinstance(name, list) and name:
        name = name[0]  # Mastodon takes the first of several
    params = {key: value for key, value in parsed.items() if key not in ("type", "stream")}
    return kind, name, params


def _release_database() -> None:
    """Give the request's database connection back: a socket is held for hours, and reads now and then."""
    db.session.remove()
