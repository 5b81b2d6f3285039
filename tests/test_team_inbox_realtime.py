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
