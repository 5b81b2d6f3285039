"""Log-ins, cookies and live connections: what ends when, and nothing more."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import delete, func, select, update

import realtime
from microblog.database import db
from microblog.services import accounts, social, tokens
from models import Login, utcnow

from .factories import PASSWORD, login, make_post, make_token

SESSION, REMEMBER = "session", "remember_token"


def _signed_in(app: Flask, **cookies: str) -> bool:
    """Return whether a fresh browser holding only these cookies is logged in."""
    browser = app.test_client()
    for name, value in cookies.items():
        browser.set_cookie(name, value)
    return browser.get("/settings").status_code == 200


def _cookies(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in (SESSION, REMEMBER) if client.get_cookie(name)}


def test_logging_out_makes_that_logins_cookies_useless_and_keeps_the_others(app, alice):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, "alice", remember=True)
    login(phone, "alice", remember=True)
    copied = _cookies(laptop)
    assert set(copied) == {SESSION, REMEMBER}
    assert _signed_in(app, session=copied[SESSION]) and _signed_in(app, remember_token=copied[REMEMBER])
    assert laptop.post("/logout").status_code == 302
    assert not _signed_in(app, session=copied[SESSION])
    assert not _signed_in(app, remember_token=copied[REMEMBER])
    assert not _signed_in(app, **copied)
    assert phone.get("/settings").status_code == 200  # the other browser stays logged in
    assert db.session.scalar(select(func.count()).select_from(Login)) == 1


def test_each_login_has_its_own_remember_me_cookie(app, alice):
    first, second = app.test_client(), app.test_client()
    login(first, "alice", remember=True)
    login(second, "alice", remember=True)
    assert _cookies(first)[REMEMBER] != _cookies(second)[REMEMBER]


def test_the_database_keeps_only_digests_of_login_secrets(app, alice):
    browser = app.test_client()
    login(browser, "alice", remember=True)
    remember = _cookies(browser)[REMEMBER]
    stored = db.session.scalars(select(Login.secret_hash)).one()
    assert stored not in remember and len(stored) == 64


def test_a_password_change_ends_the_other_logins_and_keeps_this_one(app, alice):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "alice", remember=True)
    login(elsewhere, "alice", remember=True)
    old_here, old_elsewhere = _cookies(here), _cookies(elsewhere)
    response = here.post(
        "/settings/password", data={"current_password": PASSWORD, "new_password": "a brand new secret"}
    )
    assert response.status_code == 302
    assert here.get("/settings").status_code == 200
    assert elsewhere.get("/settings").status_code == 302
    assert not _signed_in(app, remember_token=old_elsewhere[REMEMBER])
    assert not _signed_in(app, **old_here)  # the cookies from before the change are gone too


def test_deactivation_ends_every_login(app, alice, admin):
    browser = app.test_client()
    login(browser, "alice", remember=True)
    copied = _cookies(browser)
    accounts.set_active(admin, "alice", False)
    assert browser.get("/settings").status_code == 302
    assert not _signed_in(app, remember_token=copied[REMEMBER])
    accounts.set_active(admin, "alice", True)
    assert not _signed_in(app, **copied)  # reactivating does not bring old log-ins back


# --------------------------------------------------------------------------- live connections


def test_revoking_a_token_disconnects_the_socket_opened_with_it(app, alice):
    revoked, value = tokens.create_personal_token(alice, "bot")
    _, kept = tokens.create_personal_token(alice, "other bot")
    revoked_id = revoked.id
    bot = realtime.socketio.test_client(app, auth={"token": value})
    other = realtime.socketio.test_client(app, auth={"token": kept})
    assert bot.is_connected() and other.is_connected()
    tokens.revoke_token(alice, revoked_id)
    assert not bot.is_connected()
    assert other.is_connected()  # another token of the same person keeps its connection
    assert not realtime.socketio.test_client(app, auth={"token": value}).is_connected()
    other.disconnect()


def test_a_socket_opened_with_a_token_closes_when_its_person_is_deactivated(app, alice, admin):
    _, value = tokens.create_personal_token(alice, "bot")
    bot = realtime.socketio.test_client(app, auth={"token": value})
    assert bot.is_connected()
    accounts.set_active(admin, "alice", False)
    assert not bot.is_connected()


def _open_stream(client, path: str, headers: dict[str, str]):
    response = client.get(path, headers=headers, buffered=False)
    assert response.status_code == 200, response.data
    chunks = iter(response.response)
    assert next(chunks) in (":)\n\n", b":)\n\n")
    return response, chunks


def _ended(chunks, limit: int = 20) -> bool:
    """Return whether the stream ends within `limit` heartbeats (a live one never does)."""
    for _ in range(limit):
        try:
            next(chunks)
        except StopIteration:
            return True
    return False


@pytest.mark.parametrize("path", ["/api/v1/streaming/public", "/api/v1/streaming/hashtag?tag=apollo"])
@pytest.mark.parametrize("ending", ["deactivated", "password changed"])
def test_every_stream_a_person_opened_closes_when_their_sessions_end(app, client, alice, admin, path, ending):
    app.config["STREAM_HEARTBEAT"] = 0.01
    headers = make_token(alice, "read")
    response, chunks = _open_stream(client, path, headers)
    try:
        assert not _ended(chunks, limit=3)  # heartbeats keep coming while nothing happened
        if ending == "deactivated":
            accounts.set_active(admin, "alice", False)
        else:
            accounts.change_password(alice, PASSWORD, "a brand new secret")
        assert _ended(chunks)
    finally:
        response.close()


def test_someone_elses_session_ending_leaves_a_stream_open(app, client, alice, bob, admin):
    app.config["STREAM_HEARTBEAT"] = 0.01
    response, chunks = _open_stream(client, "/api/v1/streaming/public", make_token(alice, "read"))
    try:
        accounts.set_active(admin, "bob", False)
        make_post(alice, "still streaming")
        assert not _ended(chunks, limit=5)
    finally:
        response.close()


def test_a_stream_opened_while_its_token_is_revoked_does_not_live_on(app, client, alice, monkeypatch):
    # The race: the request's token check passes, then the token is revoked before the stream
    # listens, so the revocation's end signal reaches no one.  The stream checks again once it listens.
    token, value = tokens.create_personal_token(alice, "bot", ["read"])
    token_id = token.id
    listen = realtime.listen

    def revoked_meanwhile(rooms):
        listener = listen(rooms)
        tokens.revoke_token(alice, token_id)
        return listener

    monkeypatch.setattr(realtime, "listen", revoked_meanwhile)
    response = client.get("/api/v1/streaming/public", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 401
    assert realtime.stream_listeners() == 0


def test_a_token_that_may_not_read_notifications_streams_no_notifications(app, client, alice, bob):
    app.config["STREAM_HEARTBEAT"] = 0.01
    response, chunks = _open_stream(client, "/api/v1/streaming/user", make_token(alice, "read:statuses"))
    try:
        social.follow_user(alice, "bob")
        make_post(bob, "@alice the Q3 numbers are confidential")
        seen = "".join(str(next(chunks)) for _ in range(10))
        assert "event: update" in seen and "event: notification" not in seen
    finally:
        response.close()
    response, chunks = _open_stream(client, "/api/v1/streaming/user", make_token(alice, "read"))
    try:
        make_post(bob, "@alice again")
        seen = "".join(str(next(chunks)) for _ in range(10))
        assert "event: notification" in seen
    finally:
        response.close()


@pytest.mark.parametrize(("scopes", "connects"), [(["read"], True), (["read:statuses"], False)])
def test_a_socket_needs_a_token_that_reads_notifications_too(app, alice, scopes, connects):
    _, value = tokens.create_personal_token(alice, "bot", scopes)
    assert realtime.socketio.test_client(app, auth={"token": value}).is_connected() is connects


@pytest.mark.settings(API_RATE_LIMIT="5 per minute")
def test_guessing_tokens_over_socket_io_meets_the_same_limit(app, alice):
    _, value = tokens.create_personal_token(alice, "bot", ["read"])
    browser = app.test_client()  # the socket's requests come from its address, 127.0.0.1

    def connects(token: str) -> bool:
        return realtime.socketio.test_client(
            app, flask_test_client=browser, auth={"token": token}
        ).is_connected()

    assert connects(value)
    assert not any(connects(f"guess-{i}") for i in range(5))
    # Past the limit even the right token is refused unseen: the answer tells a guesser nothing.
    assert not connects(value)
    api = app.test_client().get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {value}"}
    )
    assert api.status_code == 429


@pytest.mark.parametrize("revoke", [False, True])
def test_a_password_change_revokes_the_tokens_only_when_asked(app, client, alice, revoke):
    personal = make_token(alice, "read")
    login(client, "alice")
    data = {"current_password": PASSWORD, "new_password": "a brand new secret"}
    if revoke:
        data["revoke_tokens"] = "y"
    assert client.post("/settings/password", data=data).status_code == 302
    still = client.get("/api/v1/accounts/verify_credentials", headers=personal).status_code
    assert still == (401 if revoke else 200)  # a routine change keeps the bots running
    assert client.get("/settings").status_code == 200  # this browser stays logged in either way


def test_a_socket_whose_token_is_revoked_while_it_connects_is_refused(app, alice, monkeypatch):
    token, value = tokens.create_personal_token(alice, "bot", ["read"])
    token_id = token.id
    join_room = realtime.join_room

    def revoked_meanwhile(room, *args, **kwargs):
        join_room(room, *args, **kwargs)
        if room == realtime.token_room(token_id):  # the end reaches no one: not in the room yet
            tokens.revoke_token(alice, token_id)

    monkeypatch.setattr(realtime, "join_room", revoked_meanwhile)
    assert not realtime.socketio.test_client(app, auth={"token": value}).is_connected()


def test_a_browser_that_logs_out_while_its_socket_connects_is_refused(app, alice, monkeypatch):
    browser = app.test_client()
    login(browser, "alice")
    join_room = realtime.join_room

    def logged_out_meanwhile(room, *args, **kwargs):
        join_room(room, *args, **kwargs)
        if room.startswith("login:"):
            db.session.execute(delete(Login))
            db.session.commit()

    monkeypatch.setattr(realtime, "join_room", logged_out_meanwhile)
    assert not realtime.socketio.test_client(app, flask_test_client=browser).is_connected()


def test_a_log_in_ends_when_its_remember_me_cookie_would_have_expired(app, alice):
    browser = app.test_client()
    login(browser, "alice", remember=True)
    copied = _cookies(browser)
    assert _signed_in(app, **copied)
    # A year on (Flask-Login's remember-me lifetime), a copy of the cookies opens nothing.
    db.session.execute(update(Login).values(created_at=utcnow() - timedelta(days=366)))
    db.session.commit()
    assert not _signed_in(app, **copied)
