"""Mastodon's streaming API as server-sent events: /api/v1/streaming/user, public, hashtag and list.

Fed by realtime's publish path (one Redis publish per post, delivered by each
process to its own listeners).  A held-open stream costs a greenlet under
gunicorn's gevent worker, not a worker.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from flask import Response, current_app, request
from flask_babel import gettext as _

import realtime
from microblog import entities
from microblog.services import lists, signals, timelines, tokens
from microblog.services.social import check_tag_name
from microblog.text import parse_id

from . import Unauthorized, current_token, route, signed_in

# Events a Mastodon client understands; the stream forwards these and nothing else.
STATUS_EVENTS = frozenset({"update", "delete", "status.update"})
# The `user` stream also carries a team inbox's changes (to its members and the team's tokens) and
# an asker's item state: microblog's own events, which stock clients skip as unknown.  Not
# `status.posted_by` (who wrote a team's post): the web page's only, as the REST API never says it.
ALL_EVENTS = STATUS_EVENTS | {"notification", "inbox.update", "inbox.state"}


def _encoder(events: frozenset[str]) -> Callable[[str, Any], str | None]:
    def encode(event: str, data: Any) -> str | None:
        if event not in events or not isinstance(data, dict):
            return None
        payload = data.get("payload")
        if event == "delete":
            body = str(payload.get("id") if isinstance(payload, dict) else payload)  # Mastodon: the bare id
        else:
            body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
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


@route("/api/v1/streaming/user")
def stream_user():
    """Stream the home timeline of the token's user, and their notifications if the token may read them."""
    me = signed_in("read:statuses")
    token = current_token()
    may_read_notifications = token is not None and tokens.grants(token.scope_list, "read:notifications")
    return _stream([realtime.user_room(me.id)], ALL_EVENTS if may_read_notifications else STATUS_EVENTS)


@route("/api/v1/streaming/user/notification")
def stream_notifications():
    """Stream the notifications of the token's user."""
    me = signed_in("read:notifications")
    return _stream([realtime.user_room(me.id)], frozenset({"notification"}))


@route("/api/v1/streaming/public")
@route("/api/v1/streaming/public/local")
def stream_public():
    """Stream every new post in the company."""
    me = signed_in("read:statuses")
    return _stream(realtime.stream_rooms(realtime.PUBLIC, me.id), STATUS_EVENTS)


@route("/api/v1/streaming/public/remote")
def stream_public_remote():
    """Stream posts from other servers: there are none, so only heartbeats."""
    signed_in("read:statuses")
    return _stream([], STATUS_EVENTS)


@route("/api/v1/streaming/hashtag")
@route("/api/v1/streaming/hashtag/local")
def stream_hashtag():
    """Stream the new posts carrying one #tag (`?tag=apollo`)."""
    me = signed_in("read:statuses")
    tag = check_tag_name(request.args.get("tag", ""))
    return _stream(realtime.stream_rooms(realtime.hashtag_stream(tag), me.id), STATUS_EVENTS)


# How many missed posts a reconnecting list stream replays; a client away longer reads the timeline.
MAX_REPLAY = 200


@route("/api/v1/streaming/list")
def stream_list():
    """Stream a list of the token's user (`?list=ID`): a saved search's matches, or its accounts' posts.

    A client that reconnects with Last-Event-ID (the id of the last post it got) first receives
    the saved search's matches since then, oldest first.
    """
    me = signed_in("read:statuses")
    list_id = lists.access_list(me, request.args.get("list", "")).id
    after = parse_id(request.headers.get("Last-Event-ID", "").strip())

    def missed() -> list[tuple[str, Any]]:
        if after is None:
            return []
        ids = signals.hits_since(list_id, after, MAX_REPLAY)
        views = timelines.post_views(ids, me)  # only what its owner may still see
        stream = realtime.list_stream(list_id).label
        return [
            ("update", {"stream": stream, "payload": entities.status(views[i]), "id": str(i)})
            for i in ids
            if i in views
        ]

    return _stream([realtime.list_room(list_id)], STATUS_EVENTS, missed)
