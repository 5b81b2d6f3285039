"""Realtime delivery over Socket.IO: authenticated connect, streams, publish().

Clients connect to the default namespace at /socket.io with their session
cookie (or auth={"token": ...}).  Every client is in its `user` stream (its home
timeline and notifications); `subscribe` / `unsubscribe` add `public`,
`hashtag` and (their own) `list` streams.  Events are Mastodon's: `update`, `delete`, `notification`,
plus `status.update` (counts changed), each carrying
{"stream": [...], "payload": ...}.

This package only emits: services call publish() after their commit.  It
writes nothing to the database and imports nothing from the web layer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, SocketIO, join_room, leave_room

from microblog.text import normalize_tag, parse_id

from . import sse
from .queue import END_SESSIONS, HOME, RELATIONS, STREAMS, Ended, LocalManager, RedisQueue
from .relations import HomeFacts, Load, Relations, user_ids_of, user_room

log = logging.getLogger(__name__)

socketio = SocketIO()

_initializing = threading.Lock()


@dataclass(frozen=True)
class Stream:
    """A stream clients subscribe to.

    `users` lists whose `user` stream (home) it is (None: nobody's); for the
    `public` and `hashtag` streams, the only subscribers who may get the event
    (a private post's audience: an empty tuple reaches no one), or None for
    every subscriber.
    """

    name: str
    tag: str | None = None
    users: tuple[int, ...] | None = None
    list_id: int | None = None
    home: HomeFacts | None = None  # a post's `home` stream: each process picks whose `user` stream hears it

    @property
    def label(self) -> list[str]:
        """Return the stream as events name it: ["user"], ["public"], ["hashtag", "apollo"], ["list", "7"]."""
        if self.name == "list":
            return ["list", str(self.list_id)]
        if self.name == "home":
            return ["user"]
        return ["hashtag", self.tag or ""] if self.name == "hashtag" else [self.name]

    @property
    def rooms(self) -> list[str]:
        """Return the Socket.IO rooms that make up the stream."""
        if self.name == "home":
            return [HOME]
        if self.name == "user":
            return [user_room(uid) for uid in self.users or ()]
        if self.name == "list":  # one owner's: who may hear it is checked when they subscribe
            return [list_room(self.list_id or 0)]
        if self.name == "signals":
            return [signals_room(uid) for uid in self.users or ()]
        base = f"hashtag:{self.tag}" if self.name == "hashtag" else "public"
        if self.users is None:
            return [base]
        return [subscriber_room(base, uid) for uid in self.users]


def subscriber_room(base: str, user_id: int) -> str:
    """Return the room of one person's subscriptions to a stream: where a private post reaches them."""
    return f"{base}@{user_id}"


def user_stream(user_ids: Iterable[int]) -> Stream:
    """Return the `user` stream of these users (their home timelines and notifications)."""
    return Stream("user", users=tuple(sorted(set(user_ids))))


def home_stream(facts: HomeFacts) -> Stream:
    """Return the `user` streams of all whose home timeline holds a post: one publish, whatever their number.

    Each process delivers it to those of its clients whose home it belongs in (see relations).
    """
    return Stream("home", home=facts)


def _audience(members: Iterable[int] | None) -> tuple[int, ...] | None:
    return None if members is None else tuple(sorted(set(members)))


def public_stream(members: Iterable[int] | None = None) -> Stream:
    """Return the company stream: for every subscriber, or (a private post) only for these members."""
    return Stream("public", users=_audience(members))


PUBLIC = public_stream()


def hashtag_stream(tag: str, members: Iterable[int] | None = None) -> Stream:
    """Return the stream of one tag: for every subscriber, or (a private post) only for these members."""
    return Stream("hashtag", tag=tag, users=_audience(members))


def list_stream(list_id: int) -> Stream:
    """Return the stream of one list (a saved search's matches, or an accounts list's posts)."""
    return Stream("list", list_id=list_id)


def signals_stream(user_id: int) -> Stream:
    """Return one person's Signals badge: that a saved search of theirs matched a post (Socket.IO only).

    The web pages' menu counts the unread matches with it; no Mastodon stream
    carries it (those hear the `list` stream).
    """
    return Stream("signals", users=(user_id,))


def signals_room(user_id: int) -> str:
    """Return the room of one person's Signals badge (every Socket.IO connection of theirs joins it)."""
    return f"signals:{user_id}"


def list_room(list_id: int) -> str:
    """Return the room of a list's stream (only its owner's connections join it)."""
    return f"list:{list_id}"


def stream_rooms(stream: Stream, user_id: int) -> list[str]:
    """Return the rooms one person's subscription to a public or hashtag stream listens to."""
    (base,) = Stream(stream.name, stream.tag, None).rooms
    return [base, subscriber_room(base, user_id)]


def publish(stream: Stream, event: str, payload: Any, *, event_id: str | None = None) -> None:
    """Deliver an event to every client in the stream, in every process. Never raises.

    `event_id` (a list hit's post id) lets an event stream's client resume after it (Last-Event-ID).
    """
    rooms = stream.rooms  # built once: a popular author's home stream is a thousand rooms
    if not rooms:
        return
    data: dict[str, Any] = {"stream": stream.label, "payload": payload}
    if event_id is not None:
        data["id"] = event_id
    if stream.home is not None:
        data["home"] = stream.home.to_message()  # read by each process's client manager, never sent on
    try:
        # One emit (one Redis publish) for all rooms; a client in several gets it once.
        socketio.emit(event, data, to=rooms)
    except Exception:
        log.exception("could not publish %s to %s", event, stream.label)


def publish_all(streams: Iterable[Stream], event: str, payload: Any) -> None:
    """Deliver one event to several streams in every process as one message (one Redis publish). Never raises.

    Each process delivers it to each stream as publish() would have, labelled with
    that stream (queue.STREAMS): a client in several of them gets it once from each.
    The payload travels, and is encoded, once.
    """
    parts: list[dict[str, Any]] = []
    for stream in streams:
        rooms = stream.rooms
        if not rooms:
            continue
        part: dict[str, Any] = {"stream": stream.label, "rooms": rooms}
        if stream.home is not None:
            part["home"] = stream.home.to_message()
        parts.append(part)
    if not parts:
        return
    try:
        socketio.emit(event, {"payload": payload, "streams": parts}, to=STREAMS)
    except Exception:
        log.exception("could not publish %s to %s", event, [part["stream"] for part in parts])


def sessions_room(user_id: int) -> str:
    """Return the room every connection and event stream a person opened listens to for its end.

    Only END_SESSIONS is sent there, so an event stream of public posts can hear it too.
    """
    return f"sessions:{user_id}"


def login_room(login_id: int) -> str:
    """Return the room of the connections opened under one browser log-in."""
    return f"login:{login_id}"


def end_sessions(user_id: int) -> None:
    """Close every connection and event stream of a person (deactivated, or password changed)."""
    _end_room(sessions_room(user_id))


def end_login(login_id: int) -> None:
    """Disconnect the connections opened under one browser log-in (it logged out)."""
    _end_room(login_room(login_id))


def _end_room(room: str | list[str]) -> None:
    try:
        socketio.emit(END_SESSIONS, None, to=room)
    except Exception:
        log.exception("could not end the sessions in %s", room)


def relations_changed(user_id: int) -> None:
    """Tell every process that a person's follows changed (after the commit): whose home a post is in."""
    try:
        socketio.emit(RELATIONS, None, to=user_room(user_id))
    except Exception:
        log.exception("could not announce that the follows of user %s changed", user_id)


def hears_every_end() -> bool:
    """Return whether this process hears now of every session, log-in and token ended in any process.

    What remembers credentials in memory may trust them only then; it forgets them
    as `on_ended` tells it (a room's name, or None for everything).
    """
    server = socketio.server
    if server is None:
        return False
    _start_listener()  # subscribes in the background: until then, nothing is trusted
    return bool(server.manager.hears_every_end())


def ended_room(room: str) -> tuple[str, int] | None:
    """Return what an ended room names: ("token", id), ("sessions", user id) or ("login", id); else None."""
    kind, _colon, number = room.partition(":")
    if kind in ("token", "sessions", "login") and number.isdigit():
        return kind, int(number)
    return None


def end_token(token_id: int) -> None:
    """Close the streams opened with one access token (it was revoked)."""
    _end_room(token_room(token_id))


def end_tokens(token_ids: Iterable[int]) -> None:
    """Close the streams opened with these access tokens, in one announcement (revoked together)."""
    rooms = [token_room(token_id) for token_id in token_ids]
    if rooms:
        _end_room(rooms)


def token_room(token_id: int) -> str:
    """Return the room of the streams opened with one access token."""
    return f"token:{token_id}"


def listen(rooms: Iterable[str], kind: str = sse.SSE) -> sse.Listener:
    """Start hearing these rooms' events in this process (for an event stream, or a WebSocket's `kind`)."""
    _start_listener()
    heard = set(rooms)
    listener = sse.hub.add(heard, kind)
    _enter(user_ids_of(heard))
    return listener


def _start_listener() -> None:
    """Start this process's listener on the queue, if it has not started."""
    server = socketio.server
    if server is None or server.manager_initialized:
        return
    with _initializing:
        if not server.manager_initialized:
            # The queue's listener starts with the first Socket.IO connection; an event stream counts,
            # and so does trusting credentials in memory (hears_every_end).
            server.manager_initialized = True
            server.manager.initialize()


def hear(listener: sse.Listener, rooms: Iterable[str]) -> None:
    """Let a listener hear these rooms too (a WebSocket subscribed to a stream)."""
    added = set(rooms) - listener.rooms
    sse.hub.join(listener, added)
    _enter(user_ids_of(added))


def stop_hearing(listener: sse.Listener, rooms: Iterable[str]) -> None:
    """Let a listener no longer hear these rooms (a WebSocket unsubscribed from a stream)."""
    gone = set(rooms) & listener.rooms
    sse.hub.leave(listener, gone)
    _leave(user_ids_of(gone))


def connected_clients() -> int:
    """Return how many Socket.IO clients are connected to this process."""
    server = socketio.server
    if server is None:
        return 0
    return len(server.manager.rooms.get("/", {}).get(None, {}))


def stream_listeners() -> int:
    """Return how many event streams listen in this process."""
    return sse.hub.count(sse.SSE)


def websocket_listeners() -> int:
    """Return how many streaming-API WebSockets (not Socket.IO's) listen in this process."""
    return sse.hub.count(sse.WEBSOCKET)


def stop_listening(listener: sse.Listener) -> None:
    """Stop a listener started by listen()."""
    gone = set(listener.rooms)
    sse.hub.remove(listener)
    _leave(user_ids_of(gone))


def _relations() -> Relations | None:
    server = socketio.server
    return getattr(server.manager, "relations", None) if server is not None else None


def _enter(user_ids: Iterable[int]) -> None:
    """Let this process learn whom these people follow: a client of theirs listens here now."""
    relations = _relations()
    for user_id in user_ids if relations is not None else ():
        relations.enter(user_id)  # type: ignore[union-attr]


def _leave(user_ids: Iterable[int]) -> None:
    relations = _relations()
    for user_id in user_ids if relations is not None else ():
        relations.leave(user_id)  # type: ignore[union-attr]


def home_people() -> int:
    """Return how many people this process knows the follows of (they have clients here)."""
    relations = _relations()
    return relations.people() if relations is not None else 0


# app.extensions keys of init_app's look-ups.
TOKEN_USER = "realtime.token_user"
LIST_OWNER = "realtime.list_owner"
TOKEN_IS_LIVE = "realtime.token_is_live"
LOGIN_IS_LIVE = "realtime.login_is_live"


@socketio.on("connect")
def _connect(auth: Any = None, *_extra: Any) -> None:
    if _connection_user_id() is not None:  # a client-sent "connect" event on a connection made: nothing to do
        return
    user, ended_by, still_live = _who_connects(auth)
    # Each connection joins the rooms that end it: its log-in's or its token's, and its person's.
    join_room(user_room(user.id))
    join_room(signals_room(user.id))
    join_room(sessions_room(user.id))
    join_room(ended_by)
    # Checked again once in the rooms: an end announced between the first check and the joins
    # reached no one here (the rooms are left again when the connection is refused).
    if not still_live():
        raise ConnectionRefusedError("authentication required")
    _connected[request.sid] = user.id  # type: ignore[attr-defined]
    _enter([user.id])


@socketio.on("disconnect")
def _disconnect(*_reason: Any) -> None:
    user_id = _connected.pop(request.sid, None)  # type: ignore[attr-defined]
    if user_id is not None:
        _leave([user_id])


def _who_connects(auth: Any) -> tuple[Any, str, Callable[[], bool]]:
    """Return who connects, the room whose end ends the connection, and a check that it still stands."""
    if current_user.is_authenticated:
        login_id = current_user.login_id
        login_is_live = current_app.extensions.get(LOGIN_IS_LIVE)
        if login_is_live is None:
            raise ConnectionRefusedError("authentication required")
        return current_user, login_room(login_id), lambda: login_is_live(login_id)
    token_user = current_app.extensions.get(TOKEN_USER)
    token_is_live = current_app.extensions.get(TOKEN_IS_LIVE)
    token = auth.get("token") if isinstance(auth, dict) else None
    if token_user is None or token_is_live is None or not isinstance(token, str):
        raise ConnectionRefusedError("authentication required")
    found = token_user(token)
    if found is None:
        raise ConnectionRefusedError("authentication required")
    user, token_id = found
    return user, token_room(token_id), lambda: token_is_live(token_id)


def _stream_of(data: Any, user_id: int | None) -> Stream | None:
    if not isinstance(data, dict):
        return None
    if data.get("stream") == "public":
        return PUBLIC
    if data.get("stream") == "list":
        return _own_list(data.get("list"), user_id)
    tag = data.get("tag")
    if data.get("stream") == "hashtag" and isinstance(tag, str):
        name = normalize_tag(tag)
        return hashtag_stream(name) if name else None
    return None


def _own_list(list_id: Any, user_id: int | None) -> Stream | None:
    """Return the stream of a list of this person's, or None (not a list id, or someone else's list)."""
    found = parse_id(list_id)
    list_owner = current_app.extensions.get(LIST_OWNER)
    if found is None or user_id is None or list_owner is None or list_owner(found) != user_id:
        return None
    return list_stream(found)


# Whose each Socket.IO connection of this process is (by sid), once its connect was accepted.
_connected: dict[str, int] = {}


def _connection_user_id() -> int | None:
    """Return whose connection this is (None: its connect was not accepted yet)."""
    return _connected.get(request.sid)  # type: ignore[attr-defined]


def _change_subscription(data: Any, change: Callable[[str], None]) -> dict:
    user_id = _connection_user_id()
    stream = _stream_of(data, user_id)
    if stream is None or user_id is None:
        return {
            "error": 'Expected {"stream": "public"}, {"stream": "hashtag", "tag": "name"}'
            ' or {"stream": "list", "list": "id of a list of yours"}.'
        }
    if stream.name == "list":
        change(list_room(stream.list_id or 0))
        return {"ok": True}
    for room in stream_rooms(stream, user_id):
        change(room)
    return {"ok": True}


@socketio.on("subscribe")
def _subscribe(data: Any = None, *_extra: Any) -> dict:  # a client may send more arguments than one
    return _change_subscription(data, join_room)


@socketio.on("unsubscribe")
def _unsubscribe(data: Any = None, *_extra: Any) -> dict:  # a client may send more arguments than one
    return _change_subscription(data, leave_room)


def _async_mode() -> str:
    """gevent when the process runs under gevent (gunicorn's gevent worker), else threads."""
    try:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    except ImportError:
        pass
    return "threading"


def _in_app_context(app: Flask, load: Load) -> Load:
    """Return the look-up run in an application context of its own: the queue's listener has none.

    It runs after commits too (a follow announced in this process), where the
    request's session may no longer read.
    """

    def read(user_id: int) -> tuple[Any, Any]:
        with app.app_context():
            return load(user_id)

    return read


def init_app(
    app: Flask,
    *,
    token_user: Callable[[str], tuple[Any, int] | None] | None = None,
    token_is_live: Callable[[int], bool] | None = None,
    login_is_live: Callable[[int], bool] | None = None,
    list_owner: Callable[[int], int | None] | None = None,
    on_ended: Ended | None = None,
    home_sources: Load | None = None,
) -> None:
    """Attach Socket.IO; with MICROBLOG_REDIS_URL, all processes share one Redis queue.

    token_user returns (user, token id) of an access token sent as auth={"token": ...},
    or None.  token_is_live and login_is_live say whether a token or a browser log-in
    (by id) still stands: checked again once a connection is in its rooms.  Without
    them, no connection of that kind is taken.  list_owner returns whose list an id is
    (None: no such list): only its owner subscribes to its stream.  on_ended is called in
    this process with each room whose sessions end in any process (see hears_every_end).
    home_sources returns whom and which tags a person follows: what this process reads of
    the people with clients here, to pick who hears a post's home event (see relations).
    """
    app.extensions[LIST_OWNER] = list_owner
    app.extensions[TOKEN_USER] = token_user
    app.extensions[TOKEN_IS_LIVE] = token_is_live
    app.extensions[LOGIN_IS_LIVE] = login_is_live
    url = app.config.get("REDIS_URL")
    # Without Redis, the processes of one installation share its data directory (the command line's ends).
    ends = app.config["DATA_DIR"] / "sessions-ended"
    # A client's first look-up runs in its connect (or stream) handler's context, with its session:
    # one of its own would hold a second connection per connecting client, a pool's worth at once.
    relations = Relations(_in_app_context(app, home_sources) if home_sources else None, home_sources)
    manager = (
        RedisQueue(url, on_ended, relations, channel=app.config["REDIS_CHANNEL"])
        if url
        else LocalManager(ends, on_ended, relations)
    )
    socketio.init_app(app, async_mode=_async_mode(), client_manager=manager)


__all__ = [
    "END_SESSIONS",
    "Ended",
    "ended_room",
    "hears_every_end",
    "PUBLIC",
    "Stream",
    "connected_clients",
    "stream_listeners",
    "end_login",
    "end_sessions",
    "end_token",
    "end_tokens",
    "login_room",
    "sessions_room",
    "listen",
    "hear",
    "stop_hearing",
    "stop_listening",
    "websocket_listeners",
    "token_room",
    "user_room",
    "hashtag_stream",
    "HomeFacts",
    "home_people",
    "home_stream",
    "relations_changed",
    "list_room",
    "list_stream",
    "public_stream",
    "stream_rooms",
    "subscriber_room",
    "init_app",
    "publish",
    "socketio",
    "user_stream",
]
