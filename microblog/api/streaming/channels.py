"""Mastodon's streams ("channels"): the rooms each listens to, the events it carries, how they are written.

One table for both transports.  An event stream (`GET /api/v1/streaming/public`) and a WebSocket
subscription (`{"type": "subscribe", "stream": "public"}`) to the same stream listen to the same
rooms and pass the same events, under the same scopes; and what a private community posts reaches
its members only, because a `public` or `hashtag` subscription listens to the stream's room and to
its subscriber's own room (realtime.stream_rooms), where a private post is published instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

import realtime
from microblog.services import lists, tokens
from microblog.services.errors import NotFound, ServiceError
from microblog.services.social import check_tag_name
from microblog.text import parse_id

from .. import current_token, signed_in

# Events a Mastodon client understands; a stream passes these and nothing else.
STATUS_EVENTS = frozenset({"update", "delete", "status.update"})
NOTIFICATION_EVENTS = frozenset({"notification"})
# The `user` stream also carries a team inbox's changes (to its members and the team's tokens) and
# an asker's item state: microblog's own events, which stock clients skip as unknown.  Not
# `status.posted_by` (who wrote a team's post): the web page's only, as the REST API never says it.
ALL_EVENTS = STATUS_EVENTS | NOTIFICATION_EVENTS | {"inbox.update", "inbox.state"}

# Mastodon's stream names that microblog serves.  All posts are local and none carries media, so
# `public:local` is `public`, and `public:remote` carries nothing.
NAMES = (
    "user",
    "user:notification",
    "public",
    "public:local",
    "public:remote",
    "hashtag",
    "hashtag:local",
    "list",
)
_TAGGED = ("hashtag", "hashtag:local")


@dataclass(frozen=True)
class Channel:
    """One stream as one client has it: where its events come from, which pass, how they are named."""

    name: str  # Mastodon's name: "user", "public:local", "hashtag" ...
    key: tuple[str, ...]  # what makes it one subscription: ("hashtag", "apollo"), ("list", "7")
    label: tuple[Any, ...]  # the stream as its events name it, the client's own words: ("hashtag", "Apollo")
    carries: tuple[str, ...]  # the realtime.Stream label of the events it takes: ("hashtag", "apollo")
    rooms: tuple[str, ...]
    events: frozenset[str]

    def takes(self, event: str, data: Any) -> bool:
        """Return whether an event delivered to its rooms belongs to this stream."""
        return event in self.events and isinstance(data, dict) and data.get("stream") == list(self.carries)


def _unknown_stream() -> ServiceError:
    return ServiceError(_("Unknown stream. Streams: %(names)s.", names=", ".join(NAMES)))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def channel_key(name: Any, params: Mapping[str, Any]) -> tuple[str, ...]:
    """Return what names one subscription: the stream's name, and its tag or list id; raise if not one."""
    if not isinstance(name, str) or name not in NAMES:
        raise _unknown_stream()
    if name in _TAGGED:
        return (name, check_tag_name(_text(params.get("tag"))))
    if name == "list":
        list_id = parse_id(params.get("list"))
        if list_id is None:
            raise NotFound(_("No such list."))
        return (name, str(list_id))
    return (name,)


def open_channel(name: Any, params: Mapping[str, Any]) -> Channel:
    """Return a stream of the request's token, `params` naming its tag or list; raise ServiceError if not.

    The scope is Mastodon's: `read:notifications` for `user:notification`, `read:statuses` for
    the others; `user` carries notifications only to a token that may read them.  A list is its
    owner's only (to anyone else, it does not exist).
    """
    if not isinstance(name, str) or name not in NAMES:
        raise _unknown_stream()
    me = signed_in("read:notifications" if name == "user:notification" else "read:statuses")
    key = channel_key(name, params)
    label: tuple[Any, ...] = (name,)
    if name in ("user", "user:notification"):
        token = current_token()
        may_read_notifications = token is not None and tokens.grants(token.scope_list, "read:notifications")
        carries = realtime.user_stream([me.id]).label
        rooms = [realtime.user_room(me.id)]
        if name == "user:notification":
            events = NOTIFICATION_EVENTS
        else:
            events = ALL_EVENTS if may_read_notifications else STATUS_EVENTS
    elif name in ("public", "public:local"):
        carries, events = realtime.PUBLIC.label, STATUS_EVENTS
        rooms = realtime.stream_rooms(realtime.PUBLIC, me.id)
    elif name in _TAGGED:
        stream = realtime.hashtag_stream(key[1])
        carries, rooms, events = stream.label, realtime.stream_rooms(stream, me.id), STATUS_EVENTS
        label = (name, params.get("tag"))
    elif name == "list":
        found = lists.access_list(me, key[1])
        stream = realtime.list_stream(found.id)
        carries, rooms, events = stream.label, [realtime.list_room(found.id)], STATUS_EVENTS
        label = (name, params.get("list"))
    else:  # public:remote: posts from other servers, of which there are none
        carries, rooms, events = [name], [], STATUS_EVENTS
    return Channel(name, key, label, tuple(carries), tuple(rooms), events)


# The last events written out, by their data: one post reaches every listener of a process with
# the same data object, and is written once for all of them (and once per stream name for sockets).
@dataclass
class _Written:
    data: Any  # held, so that its id is not reused while it is cached
    event: str
    text: str  # the payload as Mastodon writes it
    messages: dict[tuple[Any, ...], str]  # the WebSocket message, by stream label


_WRITTEN: dict[int, _Written] = {}
_WRITTEN_MAX = 64


def _written(event: str, data: Any) -> _Written | None:
    if not isinstance(data, dict) or "payload" not in data:
        return None
    cached = _WRITTEN.get(id(data))
    if cached is not None and cached.data is data and cached.event == event:
        return cached
    payload = data["payload"]
    if event == "delete":
        text = str(payload.get("id") if isinstance(payload, dict) else payload)  # Mastodon: the bare id
    else:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if len(_WRITTEN) >= _WRITTEN_MAX:
        _WRITTEN.clear()
    written = _WRITTEN[id(data)] = _Written(data, event, text, {})
    return written


def payload_text(event: str, data: Any) -> str | None:
    """Return an event's payload as Mastodon's streaming API writes it: JSON text, or a deleted post's id."""
    written = _written(event, data)
    return None if written is None else written.text


def websocket_message(channel: Channel, event: str, data: Any) -> str | None:
    """Return an event as Mastodon's WebSocket sends it: {"stream": [...], "event": ..., "payload": "..."}."""
    written = _written(event, data)
    if written is None:
        return None
    message = written.messages.get(channel.label)
    if message is None:
        message = json.dumps(
            {"stream": list(channel.label), "event": event, "payload": written.text},
            separators=(",", ":"),
            ensure_ascii=False,
        )
        written.messages[channel.label] = message
    return message
