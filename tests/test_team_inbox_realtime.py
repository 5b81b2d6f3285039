"""The team inbox live: members hear every change of an item, the asker its state, no one else anything."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import realtime
from microblog.database import db
from models import InboxItem

from .factories import login, make_post, make_team, make_user


@pytest.fixture
def connect(app):
    """Return a factory of Socket.IO test clients, each logged in as a user."""
    clients = []

    def make(username: str):
        http = app.test_client()
        login(http, username)
        sio = realtime.socketio.test_client(app, flask_test_client=http)
        assert sio.is_connected()
        sio.get_received()
        clients.append(sio)
        sio.http = http
        return sio

    yield make
    for sio in clients:
        if sio.is_connected():
            sio.disconnect()


def _events(sio, name: str) -> list[dict]:
    return [e["args"][0] for e in sio.get_received() if e["name"] == name]


def test_members_hear_each_change_the_asker_its_state_outsiders_nothing(app, connect, alice, bob):
    support = make_team("it-support", members=(bob,), leads=(alice,))
    carol, _ = make_user("carol"), make_user("dave")
    member, asker, outsider = connect("bob"), connect("carol"), connect("dave")

    post = make_post(carol, "@it-support the VPN drops")
    item_id = db.session.scalar(select(InboxItem.id).where(InboxItem.post_id == post.id))
    (update,) = _events(member, "inbox.update")
    assert update["stream"] == ["user"]
    assert (update["payload"]["id"], update["payload"]["state"]) == (str(item_id), "open")
    assert update["payload"]["status"]["id"] == str(post.id)
    (state,) = _events(asker, "inbox.state")
    assert state["payload"] == {
        "id": str(item_id),
        "team_id": str(support.id),
        "status_id": str(post.id),
        "state": "open",
        "answered_at": None,
    }

    base = f"/teams/it-support/inbox/{item_id}"
    steps = [
        (f"{base}/assign", {}, "assigned"),
        (f"{base}/assign", {"assignee": "alice"}, "assigned"),
        (f"{base}/unassign", {}, "open"),
        (f"{base}/close", {"reason": "duplicate"}, "closed"),
        (f"{base}/reopen", {}, "open"),
        (f"{base}/answer", {"text": "@carol fixed now"}, "answered"),
    ]
    for url, data, expected in steps:
        assert member.http.post(url, data=data).status_code == 302
        updates = _events(member, "inbox.update")
        assert [u["payload"]["state"] for u in updates] == [expected], url
        assert [s["payload"]["state"] for s in _events(asker, "inbox.state")] == [expected], url
    assert updates[0]["payload"]["answer_status_id"] is not None

    received = outsider.get_received()
    assert [e for e in received if e["name"].startswith("inbox.")] == []


def _assigned_to_bob(bob) -> tuple[int, int]:
    """Return (item id, post id) of carol's question, assigned to bob."""
    from microblog.services import inbox

    carol = make_user("carol")
    post = make_post(carol, "@it-support my laptop will not boot")
    item_id = db.session.scalar(select(InboxItem.id).where(InboxItem.post_id == post.id))
    inbox.assign(bob, item_id)
    return item_id, post.id


def _remove_bob(app):
    result = app.test_cli_runner().invoke(args=["teams", "remove", "it-support", "bob"])
    assert result.exit_code == 0, result.output
    return result


def test_teams_remove_at_the_command_line_announces_the_items_it_gives_back(app, connect, support, bob):
    item_id, post_id = _assigned_to_bob(bob)
    lead, asker, removed = connect("alice"), connect("carol"), connect("bob")

    result = _remove_bob(app)

    assert "MICROBLOG_SITE_URL" not in result.stderr  # the tests' SERVER_NAME gives the links
    db.session.expire_all()
    assert db.session.get(InboxItem, item_id).assignee_id is None
    (update,) = _events(lead, "inbox.update")
    assert (update["payload"]["id"], update["payload"]["state"]) == (str(item_id), "open")
    assert update["payload"]["assignee"] is None
    assert update["payload"]["status"]["url"] == f"http://localhost/posts/{post_id}"
    assert [s["payload"]["state"] for s in _events(asker, "inbox.state")] == ["open"]
    assert _events(removed, "inbox.update") == []  # off the team: he hears its inbox no more


def test_the_command_line_links_to_microblog_site_url(app, connect, support, bob):
    item_id, post_id = _assigned_to_bob(bob)
    lead = connect("alice")
    app.config.update(SERVER_NAME=None, SITE_URL="https://microblog.example.internal/sub")  # as in production

    _remove_bob(app)

    (update,) = _events(lead, "inbox.update")
    assert update["payload"]["id"] == str(item_id)
    assert update["payload"]["status"]["url"] == f"https://microblog.example.internal/sub/posts/{post_id}"
    assert update["payload"]["status"]["account"]["url"] == "https://microblog.example.internal/sub/@carol"


@pytest.mark.parametrize("site_url", [None, "microblog.example.internal"])
def test_without_a_site_address_the_command_line_removes_and_says_the_pages_update_on_reload(
    app, connect, support, bob, site_url
):
    item_id, _ = _assigned_to_bob(bob)
    lead = connect("alice")
    app.config.update(SERVER_NAME=None, SITE_URL=site_url)

    result = _remove_bob(app)

    assert "@bob is no longer on @it-support" in result.stdout
    assert "set MICROBLOG_SITE_URL for live updates" in result.stderr
    assert ("not an http(s) address" in result.stderr) is (site_url is not None)
    db.session.expire_all()
    assert db.session.get(InboxItem, item_id).assignee_id is None  # removed all the same
    assert _events(lead, "inbox.update") == []
