"""Mastodon's streaming API as server-sent events: /api/v1/streaming/user, public, hashtag and list.

Fed by realtime's publish path (one Redis publish per post, delivered by each
process to its own listeners).  A held-open stream costs a greenlet under
gunicorn's gevent worker, not a worker.  What each stream listens to and
carries is `channels`', shared with the WebSocket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _

import realtime
from microblog import entities
from microblog.services import signals, timelines, tokens
from microblog.text import parse_id

from .. import Unauthorized, current_account, current_token, route
from . import channels
from .channels import open_channel


def _encoder(events: frozenset[str]) -> Callable[[str, Any], str | None]:
    def encode(event: str, data: Any) -> str | None:
        body = channels.payload_text(event, data) if event in events else None
        if body is None:
            return None
        # A list's posts carry their id as the event's: a client that reconnects sends the last one back.
        event_id = data.get("id")
        head = f"id: {event_id}\n" if isinstance(event_id, str) and event_id.isdigit() else ""
        return f"{head}event: {event}\ndata: {body}\n\n"

    return encode


Missed = Callable[[], list[tuple[str, Any]]]


def _stream(rooms: Iterable[str], events: frozenset[str], missed: Missed | None = None) -> Response:
    """Open an event stream on these rooms, and on the rooms that end it: its token's and its person's.

    `missed` returns the events the client missed while away (a list's, after its Last-Event-ID):
    read once the stream listens, so that nothing falls between; a live event already replayed
    is not sent again.
    """
    token = current_token()
    assert token is not None, "streams are opened by signed-in requests"
    heard = [*rooms, realtime.token_room(token.id), realtime.sessions_room(token.user_id)]
    listener = realtime.listen(heard)
    # Listening first, then checking again: a revocation or deactivation announced between the
    # request's token check and listen() would otherwise go unheard, and the stream live on.
    if not tokens.token_is_live(token.id):
        realtime.stop_listening(listener)
        raise Unauthorized(_("The access token is invalid"))
    heartbeat = current_app.config["STREAM_HEARTBEAT"]
    encode = _encoder(events)
    backlog = missed() if missed is not None else []
    replayed = max((int(data["id"]) for _, data in backlog), default=0)

    def live(event: str, data: Any) -> str | None:
        event_id = data.get("id") if isinstance(data, dict) else None
        if isinstance(event_id, str) and event_id.isdigit() and int(event_id) <= replayed:
            return None
        return encode(event, data)

    def body():
        try:
            frames = realtime.sse.frames(listener, live, heartbeat)
            yield next(frames)  # the stream opens at once, then what was missed, then what comes
            for event, data in backlog:
                yield encode(event, data)
            yield from frames
        finally:
            realtime.stop_listening(listener)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # nginx: pass each event on at once
    return Response(body(), mimetype="text/event-stream", headers=headers)


@route("/api/v1/streaming/health")
def stream_health():
    """Answer OK: the streaming API is up (clients check before connecting)."""
    return Response("OK", mimetype="text/plain")


def _channel_stream(name: str) -> Response:
    """Open the event stream of one of Mastodon's streams, named by the path, its tag or list in the query."""
    channel = open_channel(name, request.args)
    return _stream(channel.rooms, channel.events)


@route("/api/v1/streaming/user")
def stream_user():
    """Stream the home timeline of the token's user, and their notifications if the token may read them."""
    return _channel_stream("user")


@route("/api/v1/streaming/user/notification")
def stream_notifications():
    """Stream the notifications of the token's user."""
    return _channel_stream("user:notification")


@route("/api/v1/streaming/public")
@route("/api/v1/streaming/public/local")
def stream_public():
    """Stream every new post in the company."""
    return _channel_stream("public")


@route("/api/v1/streaming/public/remote")
def stream_public_remote():
    """Stream posts from other servers: there are none, so only heartbeats."""
    return _channel_stream("public:remote")


@route("/api/v1/streaming/hashtag")
@route("/api/v1/streaming/hashtag/local")
def stream_hashtag():
    """Stream the new posts carrying one #tag (`?tag=apollo`)."""
    return _channel_stream("hashtag")


# How many missed posts a reconnecting list stream replays; a client away longer reads the timeline.
MAX_REPLAY = 200


@route("/api/v1/streaming/list")
def stream_list():
    """Stream a list of the token's user (`?list=ID`): a saved search's matches, or its accounts' posts.

    A client that reconnects with Last-Event-ID (the id of the last post it got) first receives
    the saved search's matches since then, oldest first.
    """
    channel = open_channel("list", request.args)
    list_id = int(channel.key[1])
    after = parse_id(request.headers.get("Last-Event-ID", "").strip())
    me = current_account()

    def missed() -> list[tuple[str, Any]]:
        if after is None or me is None:
            return []
        ids = signals.hits_since(list_id, after, MAX_REPLAY)
        views = timelines.post_views(ids, me)  # only what its owner may still see
        stream = realtime.list_stream(list_id).label
        return [
            ("update", {"stream": stream, "payload": entities.status(views[i]), "id": str(i)})
            for i in ids
            if i in views
        ]

    return _stream(channel.rooms, channel.events, missed)
