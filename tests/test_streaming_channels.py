"""Mastodon's streams in process: one table of channels for the event streams and the WebSocket.

What a stream listens to, carries and needs is decided once (microblog/api/streaming/channels.py);
these tests read it directly, and check the WebSocket endpoint's answers short of a handshake
(the socket itself is tested against a real server in test_streaming_websocket.py).
"""

from __future__ import annotations

import json

import pytest

import realtime
from microblog import entities
from microblog.api.streaming import channels
from microblog.services import lists, timelines
from microblog.services.errors import ServiceError

from .factories import make_post, make_token

HANDSHAKE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
}


def _open(app, headers: dict[str, str], name: str, **params: str) -> channels.Channel:
    with app.test_request_context("/api/v1/streaming", headers=headers):
        return channels.open_channel(name, params)


def _refused(app, headers: dict[str, str], name: object, **params: object) -> tuple[int, str]:
    with app.test_request_context("/api/v1/streaming", headers=headers), pytest.raises(ServiceError) as error:
        channels.open_channel(name, params)
    return error.value.status_code, error.value.message


def test_each_stream_listens_to_its_rooms_and_carries_its_events(app, alice):
    token = make_token(alice, "read")
    user = _open(app, token, "user")
    assert (user.rooms, user.carries, user.label) == ((f"user:{alice.id}",), ("user",), ("user",))
    assert user.events == channels.ALL_EVENTS
    note = _open(app, token, "user:notification")
    assert (note.rooms, note.events, note.label) == (
        (f"user:{alice.id}",),
        {"notification"},
        ("user:notification",),
    )
    # public and hashtag: the stream's room, and the subscriber's own, where a private post is published
    for name in ("public", "public:local"):
        public = _open(app, token, name)
        assert public.rooms == ("public", f"public@{alice.id}") and public.carries == ("public",)
        assert public.events == channels.STATUS_EVENTS and public.key == (name,)
    tag = _open(app, token, "hashtag:local", tag="#Apollo")
    assert tag.rooms == ("hashtag:apollo", f"hashtag:apollo@{alice.id}")
    assert (tag.key, tag.label, tag.carries) == (
        ("hashtag:local", "apollo"),
        ("hashtag:local", "#Apollo"),
        ("hashtag", "apollo"),
    )
    assert _open(app, token, "public:remote").rooms == ()


def test_scopes_lists_and_names_are_checked(app, alice, bob):
    bobs = lists.create_list(bob, "Crew")
    reads_notifications = make_token(alice, "read:notifications")
    assert _open(app, reads_notifications, "user:notification").events == {"notification"}
    assert _refused(app, reads_notifications, "user")[0] == 403
    assert _open(app, make_token(alice, "read:statuses"), "user").events == channels.STATUS_EVENTS
    token = make_token(alice, "read")
    assert _refused(app, token, "list", list=str(bobs.id)) == (404, "No such list.")
    assert _refused(app, token, "list", list="x")[0] == 404
    assert _open(app, make_token(bob, "read"), "list", list=bobs.id).rooms == (f"list:{bobs.id}",)
    assert _refused(app, token, "hashtag")[0] == 422
    assert _refused(app, token, "hashtag", tag=["apollo"])[0] == 422
    for name in ("direct", "public:media", "", None, ["user"], 7):
        assert _refused(app, token, name)[0] == 400
    assert _refused(app, {}, "public")[0] == 401


def test_an_event_is_written_as_mastodon_writes_it(app, alice):
    post = timelines.post_views([make_post(alice, "Written once #apollo").id], alice)
    status = entities.status(next(iter(post.values())))
    tag = channels.Channel(
        "hashtag",
        ("hashtag", "apollo"),
        ("hashtag", "Apollo"),
        ("hashtag", "apollo"),
        (),
        channels.STATUS_EVENTS,
    )
    data = {"stream": ["hashtag", "apollo"], "payload": status}
    message = json.loads(channels.websocket_message(tag, "update", data))
    assert message == {
        "stream": ["hashtag", "Apollo"],
        "event": "update",
        "payload": json.dumps(status, separators=(",", ":"), ensure_ascii=False),
    }
    assert json.loads(message["payload"]) == status
    deleted = channels.websocket_message(
        tag, "delete", {"stream": ["hashtag", "apollo"], "payload": {"id": "12"}}
    )
    assert json.loads(deleted) == {"stream": ["hashtag", "Apollo"], "event": "delete", "payload": "12"}
    assert channels.payload_text("update", {"stream": ["user"]}) is None
    # Taken only by the stream it belongs to, and only the events it carries:
    assert tag.takes("update", data) and tag.takes("delete", data)
    assert not tag.takes("notification", data) and not tag.takes(
        "update", {"stream": ["public"], "payload": status}
    )


def test_a_websocket_listener_changes_rooms_and_is_counted_apart(app):
    listener = realtime.listen(["token:1"], realtime.sse.WEBSOCKET)
    try:
        realtime.hear(listener, ["public", "public@1"])
        realtime.sse.hub.deliver("update", {"n": 1}, ["public@1"])
        realtime.stop_hearing(listener, ["public", "public@1"])
        realtime.sse.hub.deliver("update", {"n": 2}, ["public"])
        realtime.sse.hub.deliver(realtime.sse.CLOSE, None, ["token:1"])
        assert [listener.next_event(0) for _ in range(3)] == [
            ("update", {"n": 1}),
            (realtime.sse.CLOSE, None),
            None,
        ]
        assert (realtime.websocket_listeners(), realtime.stream_listeners()) == (1, 0)
    finally:
        realtime.stop_listening(listener)
    assert realtime.websocket_listeners() == 0


def test_the_websocket_endpoint_answers_short_of_a_handshake(client, alice):
    read = make_token(alice, "read")
    assert client.get("/api/v1/streaming").status_code == 401
    assert client.get("/api/v1/streaming", headers=HANDSHAKE).status_code == 401
    bad = client.get("/api/v1/streaming", headers={**HANDSHAKE, "Authorization": "Bearer nope"})
    assert bad.status_code == 401 and "error" in bad.get_json()
    assert client.get("/api/v1/streaming/", headers=make_token(alice, "write")).status_code == 403
    plain = client.get("/api/v1/streaming?stream=user", headers=read)
    assert (
        plain.status_code == 426 and plain.headers["Upgrade"] == "websocket" and "error" in plain.get_json()
    )
    # The token as the subprotocol is taken on a handshake only; the test client has no socket to hand over.
    offered = {**HANDSHAKE, "Sec-WebSocket-Protocol": read["Authorization"].split()[1]}
    refused = client.get("/api/v1/streaming", headers=offered)
    assert refused.status_code == 400 and "error" in refused.get_json()
    assert realtime.websocket_listeners() == 0


def test_a_listener_that_falls_behind_is_closed_so_its_client_catches_up(app):
    listener = realtime.listen(["public"], realtime.sse.WEBSOCKET)
    try:
        for n in range(realtime.sse.BACKLOG + 1):  # one more than it may have waiting
            realtime.sse.hub.deliver("update", {"n": n}, ["public"])
        assert listener.next_event(0) == (realtime.sse.CLOSE, realtime.sse.BEHIND)
        assert listener.next_event(0) is None
    finally:
        realtime.stop_listening(listener)
