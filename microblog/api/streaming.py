"""Mastodon's streaming API as server-sent events: /api/v1/streaming/user, /public, /hashtag?tag=.

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
from microblog.services import tokens
from microblog.services.social import check_tag_name

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
        return f"event: {event}\ndata: {body}\n\n"

    return encode


def _stream(rooms: Iterable[str], events: frozenset[str]) -> Response:
    """Open an event stream on these rooms, and on the rooms that end it: its token's and its person's."""
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

    def body():
        try:
            yield from realtime.sse.frames(listener, _encoder(events), heartbeat)
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
