"""Socket.IO: who may connect, which events reach which streams, with what payload."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import realtime
from microblog.database import db, on_commit
from microblog.services import accounts, posts, social, tokens
from models import Post

from .factories import login, make_post, make_user


@pytest.fixture
def connect(app):
    """Return a factory of Socket.IO test clients, each logged in as a user (or anonymous)."""
    clients = []

    def make(username: str | None = None, **kwargs):
        http = app.test_client()
        if username:
            login(http, username)
        sio = realtime.socketio.test_client(app, flask_test_client=http, **kwargs)
        clients.append(sio)
        sio.http = http
        return sio

    yield make
    for sio in clients:
        if sio.is_connected():
            sio.disconnect()


def events(sio, name: str | None = None) -> list[dict]:
    """Return the events received since the last call (optionally of one name) as their data."""
    return [e["args"][0] for e in sio.get_received() if name is None or e["name"] == name]


def test_anonymous_connections_are_refused(app, connect):
    assert not connect().is_connected()


def test_token_connections_need_a_known_token(app, connect, alice):
    _, value = tokens.create_personal_token(alice, "bot", ["read"])
    assert not connect(auth={"token": "nonsense"}).is_connected()
    assert not connect(auth={"token": 42}).is_connected()
    bot = connect(auth={"token": value})
    assert bot.is_connected()
    bot.get_received()
    make_post(alice, "posted while the bot listens")
    assert [e["payload"]["text"] for e in events(bot, "update")] == ["posted while the bot listens"]


def test_deactivated_users_are_disconnected_and_refused(app, connect, alice, admin):
    sio = connect("alice")
    assert sio.is_connected()
    accounts.set_active(admin, "alice", False)
    assert not sio.is_connected()
    again = realtime.socketio.test_client(app, flask_test_client=sio.http)  # same browser session
    assert not again.is_connected()


def test_logging_out_disconnects_that_browser_only(app, connect, alice):
    laptop, phone = connect("alice"), connect("alice")
    assert laptop.is_connected() and phone.is_connected()
    laptop.http.post("/logout")
    assert not laptop.is_connected()
    assert phone.is_connected()


def test_password_change_disconnects_every_connection(app, connect, alice):
    sio = connect("alice")
    accounts.change_password(alice, "correct horse battery", "another passphrase")
    assert not sio.is_connected()


def test_new_post_reaches_the_home_streams_that_hold_it(app, connect, alice, bob):
    carol = make_user("carol")
    make_user("dave")
    social.follow_user(alice, "bob")
    social.follow_tag(carol, "apollo")
    clients = {name: connect(name) for name in ("alice", "bob", "carol", "dave")}
    for sio in clients.values():
        sio.get_received()
    post = make_post(bob, "Release today #apollo @dave")
    for name in ("alice", "bob", "carol", "dave"):
        updates = events(clients[name], "update")
        assert len(updates) == 1, name
        assert updates[0]["stream"] == ["user"]
        assert updates[0]["payload"]["id"] == str(post.id)


def test_strangers_get_nothing_on_their_user_stream(app, connect, alice, bob):
    sio = connect("alice")
    sio.get_received()
    make_post(bob, "nobody follows me")
    assert events(sio, "update") == []


def test_payload_is_the_status_entity(app, connect, alice, bob):
    social.follow_user(alice, "bob")
    sio = connect("alice")
    sio.get_received()
    post = make_post(bob, "See https://wiki.example.com <b>now</b> #Apollo")
    (update,) = events(sio, "update")
    status = update["payload"]
    # The stored HTML, with the renderer's links made absolute for clients elsewhere.
    html = db.session.get(Post, post.id).html.replace('href="/', 'href="http://localhost/')
    assert status["content"] == f"<p>{html}</p>" and 'href="http://localhost/tags/apollo"' in html
    assert "<b>" not in status["content"]
    assert status["account"]["username"] == "bob" and status["account"]["id"] == str(bob.id)
    assert [t["name"] for t in status["tags"]] == ["apollo"]
    assert status["url"].endswith(f"/posts/{post.id}") and status["visibility"] == "public"


def test_public_and_hashtag_streams_by_subscription(app, connect, alice, bob):
    sio = connect("alice")
    assert sio.emit("subscribe", {"stream": "public"}, callback=True) == {"ok": True}
    assert sio.emit("subscribe", {"stream": "hashtag", "tag": "#Apollo"}, callback=True) == {"ok": True}
    sio.get_received()
    make_post(bob, "on #apollo")
    make_post(bob, "elsewhere")
    streams = sorted((tuple(e["stream"]), e["payload"]["text"]) for e in events(sio, "update"))
    assert streams == [
        (("hashtag", "apollo"), "on #apollo"),
        (("public",), "elsewhere"),
        (("public",), "on #apollo"),
    ]
    assert sio.emit("unsubscribe", {"stream": "public"}, callback=True) == {"ok": True}
    make_post(bob, "after")
    assert events(sio, "update") == []


@pytest.mark.parametrize(
    "data", [None, "public", {"stream": "private"}, {"stream": "hashtag"}, {"stream": "hashtag", "tag": "!!"}]
)
def test_bad_subscriptions_get_an_error_not_a_crash(app, connect, alice, data):
    sio = connect("alice")
    assert "error" in sio.emit("subscribe", data, callback=True)
    assert sio.is_connected()


def test_a_stream_that_fails_to_deliver_leaves_the_others_their_event(app, connect, alice, bob, monkeypatch):
    social.follow_user(alice, "bob")
    sio = connect("alice")
    assert sio.emit("subscribe", {"stream": "public"}, callback=True) == {"ok": True}
    sio.get_received()

    def broken(*args):
        raise RuntimeError("home delivery failed")

    monkeypatch.setattr(realtime.queue, "_home", broken)  # the home stream, delivered first
    make_post(bob, "still on the company stream")
    assert [(e["stream"], e["payload"]["text"]) for e in events(sio, "update")] == [
        (["public"], "still on the company stream")
    ]


def test_each_post_reaches_each_stream_of_a_client_once(app, connect, alice, bob):
    social.follow_user(alice, "bob")
    social.follow_tag(alice, "apollo")
    sio = connect("alice")
    sio.get_received()
    make_post(bob, "@alice #apollo followed three ways")
    assert [e["stream"] for e in events(sio, "update")] == [["user"]]


def test_delete_reaches_everyone_who_had_the_post(app, connect, alice, bob):
    social.follow_user(alice, "bob")
    post = make_post(bob, "oops #apollo")
    follower, watcher = connect("alice"), connect("bob")
    watcher.emit("subscribe", {"stream": "hashtag", "tag": "apollo"})
    follower.get_received(), watcher.get_received()
    posts.delete_post(bob, post.id)
    assert events(follower, "delete") == [{"stream": ["user"], "payload": {"id": str(post.id)}}]
    assert sorted(e["stream"] for e in events(watcher, "delete")) == [["hashtag", "apollo"], ["user"]]


def test_likes_and_replies_update_counts_and_notify(app, connect, alice, bob):
    post = make_post(bob, "like me")
    author = connect("bob")
    author.get_received()
    posts.like_post(alice, post.id)
    received = author.get_received()
    counts = [e["args"][0]["payload"] for e in received if e["name"] == "status.update"]
    assert counts[0]["favourites_count"] == 1
    (note,) = [e["args"][0] for e in received if e["name"] == "notification"]
    assert note["stream"] == ["user"]
    assert note["payload"]["type"] == "favourite" and note["payload"]["account"]["username"] == "alice"
    assert note["payload"]["status"]["id"] == str(post.id)
    make_post(alice, "agreed", in_reply_to=post.id)
    received = author.get_received()
    assert [e["args"][0]["payload"]["replies_count"] for e in received if e["name"] == "status.update"] == [1]
    assert [e["args"][0]["payload"]["type"] for e in received if e["name"] == "notification"] == ["mention"]


def test_new_follower_and_mention_notify(app, connect, alice, bob):
    sio = connect("bob")
    sio.get_received()
    social.follow_user(alice, "bob")
    social.follow_user(alice, "bob")  # again: nothing new
    make_post(alice, "thanks @bob")
    kinds = [e["payload"]["type"] for e in events(sio, "notification")]
    assert kinds == ["follow", "mention"]


def test_a_failing_publish_never_fails_the_post(app, alice, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("message queue down")

    monkeypatch.setattr(realtime.socketio, "emit", broken)
    post = make_post(alice, "still stored")
    assert db.session.get(Post, post.id).text == "still stored"


def test_a_rolled_back_write_announces_nothing(app):
    announced = []
    on_commit(lambda: announced.append("sent"))
    db.session.rollback()
    db.session.commit()
    assert announced == []
    on_commit(lambda: announced.append("sent"))
    db.session.commit()
    assert announced == ["sent"]


def test_a_post_that_fails_after_announcing_announces_nothing(app, connect, alice, monkeypatch):
    sio = connect("alice")
    sio.get_received()
    real_announce = posts._announce

    def announce_then_fail(*args):
        real_announce(*args)  # registers the publish for after the commit ...
        raise RuntimeError("disk full")  # ... which never comes

    monkeypatch.setattr(posts, "_announce", announce_then_fail)
    with pytest.raises(RuntimeError):
        posts.post_status(alice, "never stored")
    db.session.rollback()
    monkeypatch.undo()
    make_post(alice, "the next post")  # its commit must not carry the failed post's events
    assert [e["payload"]["text"] for e in events(sio, "update")] == ["the next post"]
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1


def test_a_client_sent_connect_event_is_ignored(app, connect, alice, caplog):
    _, value = tokens.create_personal_token(alice, "bot", ["read"])
    for sio in (connect("alice"), connect(auth={"token": value})):
        sio.emit("connect", {"token": "nonsense"})
        sio.emit("connect")
        assert sio.is_connected()
        sio.get_received()
        make_post(alice, "still delivered")
        assert [e["payload"]["text"] for e in events(sio, "update")] == ["still delivered"]
    assert "ConnectionRefusedError" not in caplog.text and "Traceback" not in caplog.text
