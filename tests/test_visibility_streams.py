"""The visibility matrix, live: Socket.IO and server-sent-event streams carry private posts to members only.

Same world as test_visibility.py; events are made after every reader is
connected, then each reader's events are checked: the member gets the private
post on every stream it is on, nobody else gets anything of it (update,
status.update, delete or notification), and everyone gets the public control
post.  Membership changes take effect on the very next event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import realtime
from microblog.services import communities, join_requests, posts

from .factories import login, make_post
from .visibility_world import SECRET, SECRET_TAG, SIGNED_IN, Matrix, World, build_world

STREAMS = ["user", "public", "hashtag:skunk", f"hashtag:{SECRET_TAG}"]


@pytest.fixture
def world(app) -> World:
    """The private community, its posts, and the people around it."""
    return build_world()


def _socket(app, world: World, role: str):
    """Connect a Socket.IO client as a role: a browser session, or (readonly) a read-only token."""
    if role == "readonly":
        token = world.auth(role)["Authorization"].removeprefix("Bearer ")
        return realtime.socketio.test_client(app, auth={"token": token})
    http = app.test_client()
    person = world.user(role)
    assert person is not None
    login(http, person.username)
    return realtime.socketio.test_client(app, flask_test_client=http)


def _subscribe(sio) -> None:
    assert sio.emit("subscribe", {"stream": "public"}, callback=True) == {"ok": True}
    for tag in ("skunk", SECRET_TAG):
        assert sio.emit("subscribe", {"stream": "hashtag", "tag": tag}, callback=True) == {"ok": True}
    sio.get_received()


def _live_events(world: World) -> dict[str, int]:
    """Post, reply, like and delete in the private community, then post the public control; return the ids."""
    owen, mia = world.users["owen"], world.users["mia"]
    made = {"live_secret": make_post(owen, f"@skunkworks Zebra live #skunk #{SECRET_TAG} @nora @mia @rex").id}
    made["live_reply"] = make_post(mia, "Zebra live reply", in_reply_to=made["live_secret"]).id
    posts.like_post(mia, made["live_secret"])
    posts.like_post(mia, world.ids["rex_reply"])  # rex wrote it as a member; he must not hear of the like
    made["lea_answer"] = make_post(mia, "Zebra answer for lea", in_reply_to=world.ids["lea_post"]).id
    posts.delete_post(owen, made["live_reply"])
    made["live_control"] = make_post(owen, "Live lunch #skunk @nora @mia @rex @lea @quinn @ada").id
    return made


def _ids_of(payload: Any) -> set[int]:
    if isinstance(payload, dict):
        found = {int(payload["id"])} if "id" in payload and str(payload["id"]).isdigit() else set()
        status = payload.get("status")
        return found | (_ids_of(status) if status else set())
    return {int(payload)} if str(payload).isdigit() else set()


def test_socketio_user_public_and_hashtag_streams(app, world):
    anonymous = realtime.socketio.test_client(app)
    assert not anonymous.is_connected()
    clients = {role: _socket(app, world, role) for role in SIGNED_IN}
    for sio in clients.values():
        assert sio.is_connected()
        _subscribe(sio)
    made = _live_events(world)
    private = world.private | {made["live_secret"], made["live_reply"], made["lea_answer"]}
    matrix = Matrix()
    for role, sio in clients.items():
        received = sio.get_received()
        got: dict[str, set[int]] = {}
        for event in received:
            data = event["args"][0]
            stream = ":".join(data["stream"])
            got.setdefault(f"{event['name']} {stream}", set()).update(_ids_of(data["payload"]))
        for stream in ("user", "public", "hashtag:skunk"):
            seen = got.get(f"update {stream}", set())
            matrix.check(made["live_control"] in seen, role, stream, f"control: no public update, got {got}")
        if role == "member":
            for stream in STREAMS:
                seen = got.get(f"update {stream}", set())
                matrix.check(made["live_secret"] in seen, role, stream, "control: member not updated")
            mentioned = got.get("notification user", set())
            matrix.check(made["live_secret"] in mentioned, role, "notification", "control: member not told")
            matrix.check(made["live_reply"] in got.get("delete public", set()), role, "delete", "control")
        else:
            leaked = {key: ids & private for key, ids in got.items() if ids & private}
            matrix.check(not leaked, role, "socket.io", f"private events {leaked}")
            text = json.dumps([e["args"] for e in received]).casefold()
            matrix.check(SECRET not in text, role, "socket.io", "private text in an event")
        sio.disconnect()
    matrix.done()


def _open(client, path: str, headers: dict[str, str]) -> tuple[Any, Iterator]:
    response = client.get(path, headers=headers, buffered=False)
    assert response.status_code == 200, (path, response.status_code)
    chunks = iter(response.response)
    assert next(chunks) in (":)\n\n", b":)\n\n")
    return response, chunks


def _read_until(chunks: Iterator, marker: str, heartbeats: int = 1) -> str:
    """Return what a stream sends until `marker` shows up or it falls idle (in process: delivered at once)."""
    text = ""
    idle = 0
    while marker not in text and idle < heartbeats:
        chunk = next(chunks)
        chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
        idle += chunk == ":thump\n\n"
        text += chunk
    return text


SSE_PATHS = {
    "user": "/api/v1/streaming/user",
    "public": "/api/v1/streaming/public",
    "hashtag:skunk": "/api/v1/streaming/hashtag?tag=skunk",
    f"hashtag:{SECRET_TAG}": f"/api/v1/streaming/hashtag?tag={SECRET_TAG}",
}


def test_server_sent_event_streams(app, client, world):
    app.config["STREAM_HEARTBEAT"] = 0.01
    for path in SSE_PATHS.values():
        assert client.get(path).status_code == 401  # anonymous
    opened = {
        (role, stream): _open(client, path, world.auth(role))
        for role in SIGNED_IN
        for stream, path in SSE_PATHS.items()
    }
    matrix = Matrix()
    try:
        made = _live_events(world)
        control = f'"id":"{made["live_control"]}"'
        for (role, stream), (_, chunks) in opened.items():
            text = _read_until(chunks, control if stream != f"hashtag:{SECRET_TAG}" else "never")
            if stream != f"hashtag:{SECRET_TAG}":
                matrix.check(control in text, role, stream, "control: the public post did not arrive")
            if role == "member":
                matrix.check(
                    f'"id":"{made["live_secret"]}"' in text, role, stream, "control: member missed it"
                )
            else:
                matrix.check(SECRET not in text.casefold(), role, stream, "private text in the stream")
                ids = {made["live_secret"], made["live_reply"], made["lea_answer"]}
                leaked = [i for i in ids if f'"id":"{i}"' in text or f"event: delete\ndata: {i}\n" in text]
                matrix.check(not leaked, role, stream, f"private events {leaked}")
    finally:
        for response, _ in opened.values():
            response.close()
    matrix.done()


def test_membership_changes_take_effect_on_the_next_live_event(app, client, world):
    app.config["STREAM_HEARTBEAT"] = 0.01
    skunk, owen = world.community, world.users["owen"]
    sockets = {"mia": _socket(app, world, "member"), "quinn": _socket(app, world, "requester")}
    for sio in sockets.values():
        _subscribe(sio)
    streams = {
        "mia": _open(client, "/api/v1/streaming/user", world.auth("member")),
        "quinn": _open(client, "/api/v1/streaming/public", world.auth("requester")),
    }
    try:
        before = make_post(owen, "@skunkworks zebra one #skunk").id
        communities.remove_member(None, skunk, world.users["mia"])  # both still connected
        join_requests.accept_request(None, skunk, "quinn")
        after = make_post(owen, "@skunkworks zebra two #skunk").id
        control = make_post(owen, "after the changes #skunk").id
        sse = {name: _read_until(chunks, f'"id":"{control}"') for name, (_, chunks) in streams.items()}
    finally:
        for response, _ in streams.values():
            response.close()
    updates = {
        name: {int(e["args"][0]["payload"]["id"]) for e in sio.get_received() if e["name"] == "update"}
        for name, sio in sockets.items()
    }
    assert updates["mia"] == {before, control}  # removed: nothing private from then on
    assert updates["quinn"] == {after, control}  # accepted: from then on
    assert f'"id":"{before}"' in sse["mia"] and f'"id":"{after}"' not in sse["mia"]
    assert f'"id":"{before}"' not in sse["quinn"] and f'"id":"{after}"' in sse["quinn"]
    assert all(f'"id":"{control}"' in text for text in sse.values())


def _save(person, query: str) -> int:
    import search
    from microblog.database import db
    from models import TimelineList
    from models.timeline_list import SEARCH

    saved = TimelineList(user_id=person.id, kind=SEARCH, title=query, query=query)
    db.session.add(saved)
    db.session.commit()
    search.saved_searches_changed()
    return saved.id


def test_saved_search_streams_carry_private_posts_to_members_only(app, client, world):
    """Everyone follows searches that the private posts match; only the member's streams carry them."""
    import search

    app.config["STREAM_HEARTBEAT"] = 0.01
    queries = (SECRET, f"#{SECRET_TAG}", "from:owen", "lunch")
    saved = {(role, q): _save(world.user(role), q) for role in SIGNED_IN for q in queries}
    sockets = {role: _socket(app, world, role) for role in SIGNED_IN}
    for (role, _), list_id in saved.items():
        assert sockets[role].emit("subscribe", {"stream": "list", "list": str(list_id)}, callback=True) == {
            "ok": True
        }
    opened = {
        key: _open(client, f"/api/v1/streaming/list?list={list_id}", world.auth(key[0]))
        for key, list_id in saved.items()
    }
    for sio in sockets.values():
        sio.get_received()
    matrix = Matrix()
    try:
        made = _live_events(world)
        search.drain()
        private = {made["live_secret"], made["lea_answer"]}
        control = made["live_control"]
        for (role, query), (_, chunks) in opened.items():
            text = _read_until(chunks, f'"id":"{control}"' if query in ("lunch", "from:owen") else "never")
            stream = f"sse list {query}"
            if query in ("lunch", "from:owen"):
                matrix.check(
                    f'"id":"{control}"' in text, role, stream, "control: the public match is missing"
                )
            if role == "member" and query != "lunch":
                matrix.check(
                    f'"id":"{made["live_secret"]}"' in text, role, stream, "control: member missed it"
                )
            elif role != "member":
                leaked = [i for i in private if f'"id":"{i}"' in text]
                matrix.check(not leaked and SECRET not in text.casefold(), role, stream, f"leaked {leaked}")
        for role, sio in sockets.items():
            got = {
                int(e["args"][0]["payload"]["id"])
                for e in sio.get_received()
                if e["name"] == "update" and e["args"][0]["stream"][0] == "list"
            }
            matrix.check(control in got, role, "socket.io list", "control: the public match is missing")
            if role == "member":
                matrix.check(made["live_secret"] in got, role, "socket.io list", "control: member missed it")
            else:
                matrix.check(not got & private, role, "socket.io list", f"leaked {got & private}")
    finally:
        for response, _ in opened.values():
            response.close()
    matrix.done()
    # Another person's list is not found, whatever the token.
    member_list = saved[("member", SECRET)]
    for role in SIGNED_IN:
        if role != "member":
            response = client.get(f"/api/v1/streaming/list?list={member_list}", headers=world.auth(role))
            assert response.status_code == 404, role


def test_a_list_stream_resumes_after_the_last_event_it_sent(app, client, world):
    import search

    app.config["STREAM_HEARTBEAT"] = 0.01
    mia, owen = world.users["mia"], world.users["owen"]
    list_id = _save(mia, SECRET)
    first = make_post(owen, f"@skunkworks {SECRET} one").id
    public = make_post(owen, f"{SECRET.upper()}s are striped, said the public post").id
    kept = make_post(owen, f"@skunkworks {SECRET} kept").id  # matched while she was a member
    search.drain()
    from microblog.database import db
    from models import ListHit

    assert db.session.get(ListHit, (list_id, kept)) is not None
    _save(mia, "unrelated")
    posts.delete_post(owen, first)  # gone: not replayed
    communities.remove_member(None, world.community, mia)
    after_leaving = make_post(world.users["nora"], f"{SECRET} two, public").id
    search.drain()
    headers = {**world.auth("member"), "Last-Event-ID": "0"}
    response, chunks = _open(client, f"/api/v1/streaming/list?list={list_id}", headers)
    try:
        text = _read_until(chunks, "never")
    finally:
        response.close()
    assert [line for line in text.split("\n") if line.startswith("id: ")] == [
        f"id: {public}",
        f"id: {after_leaving}",
    ]
    for bad in ("abc", "-1", "1" * 40, "٣"):
        response, chunks = _open(
            client, f"/api/v1/streaming/list?list={list_id}", {**world.auth("member"), "Last-Event-ID": bad}
        )
        response.close()
