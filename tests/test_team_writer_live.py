"""Who wrote a team post, live: the team and administrators hear it, no one else, and never in a Status."""

from __future__ import annotations

import json

import pytest

import realtime
from microblog.services import accounts, communities, social, teams, tokens

from .factories import login, make_community, make_post, make_team, make_token, make_user
from .test_visibility_streams import _open, _read_until


@pytest.fixture
def connect(app):
    """Return a factory of Socket.IO test clients, each logged in and subscribed to the company stream."""
    clients = []

    def make(username: str):
        http = app.test_client()
        login(http, username)
        sio = realtime.socketio.test_client(app, flask_test_client=http)
        assert sio.is_connected()
        assert sio.emit("subscribe", {"stream": "public"}, callback=True) == {"ok": True}
        sio.get_received()
        clients.append(sio)
        return sio

    yield make
    for sio in clients:
        if sio.is_connected():
            sio.disconnect()


def _received(sio) -> list[tuple[str, dict]]:
    return [(e["name"], e["args"][0]) for e in sio.get_received()]


def test_members_and_admins_hear_who_wrote_it_before_the_post_others_never(app, connect, support, bob, admin):
    carol = make_user("carol")
    social.follow_user(carol, "it-support")  # the post enters her home stream too
    sockets = {name: connect(name) for name in ("alice", "root", "carol", "bob")}

    post = make_post(support, "The VPN is back", posted_by=bob)

    for name in ("alice", "root", "bob"):  # the lead, an administrator, the writer himself
        received = _received(sockets[name])
        names = [event for event, _ in received]
        assert names[0] == "status.posted_by", name  # before the post: the page builds it with the line
        assert "update" in names, name
        (writer,) = [data for event, data in received if event == "status.posted_by"]
        assert writer["stream"] == ["user"]
        assert writer["payload"]["id"] == str(post.id)
        assert (writer["payload"]["account"]["id"], writer["payload"]["account"]["username"]) == (
            str(support.id),
            "it-support",
        )
        assert (writer["payload"]["posted_by"]["id"], writer["payload"]["posted_by"]["username"]) == (
            str(bob.id),
            "bob",
        )
        updates = [data for event, data in received if event == "update"]
        assert all("bob" not in json.dumps(u).casefold() for u in updates), name  # a Status never says it

    outsider = _received(sockets["carol"])
    streams = sorted(data["stream"][0] for event, data in outsider if event == "update")
    assert streams == ["public", "user"]  # she gets the post, on both streams
    assert "status.posted_by" not in [event for event, _ in outsider]
    assert "bob" not in json.dumps(outsider).casefold()  # nor his name or id anywhere
    assert f'"id": "{bob.id}"' not in json.dumps(outsider)


def test_a_post_of_the_team_s_own_member_as_themselves_announces_no_writer(app, connect, support, bob):
    alice = connect("alice")
    make_post(bob, "Lunch?")
    assert "status.posted_by" not in [event for event, _ in _received(alice)]


def test_in_a_private_community_only_members_of_it_hear_the_writer(app, connect, support, alice, bob, admin):
    board = make_community(alice, "board", private=True)
    communities.add_member(None, board, support)
    sockets = {name: connect(name) for name in ("alice", "root", "bob")}

    post = make_post(support, "@board the projector is fixed", posted_by=bob)

    alice_got = _received(sockets["alice"])  # a lead of the team and a member of @board
    heard = [data["payload"]["id"] for event, data in alice_got if event == "status.posted_by"]
    assert heard == [str(post.id)]
    # root administers the site but is not in @board; bob wrote it but is not in @board either.
    for name in ("root", "bob"):
        assert _received(sockets[name]) == [], name


def test_the_live_readers_are_those_pages_show_the_writer_to(app, support, alice, bob, admin):
    carol, dave = make_user("carol"), make_user("dave")
    teams.add_member(None, support, dave)
    accounts.set_active(admin, "dave", False)
    other = make_team("hr", members=(carol,))
    readers = set(teams.real_author_readers(support.id))
    for person in (alice, bob, carol, admin, dave):
        shown = teams.sees_real_authors(person, {support.id}) == {support.id}
        assert (person.id in readers) == (shown and person.is_active), person.username
    assert set(teams.real_author_readers(other.id)) == {carol.id, admin.id}


def test_event_streams_and_the_rest_api_never_name_the_writer(app, client, support, alice, bob):
    """A team member's own token and the team's token: the stream's Status is the REST API's, without him."""
    app.config["STREAM_HEARTBEAT"] = 0.01
    social.follow_user(alice, "it-support")  # the team's posts enter her home
    _, team_value = tokens.issue_team_token(None, support, bob, "read write")
    headers = {"alice": make_token(alice), "team": {"Authorization": f"Bearer {team_value}"}}
    opened = {name: _open(client, "/api/v1/streaming/user", auth) for name, auth in headers.items()}
    try:
        post = make_post(support, "Printers are back", posted_by=bob)
        texts = {name: _read_until(chunks, f'"id":"{post.id}"') for name, (_, chunks) in opened.items()}
    finally:
        for response, _ in opened.values():
            response.close()
    for name, text in texts.items():
        assert "event: update" in text and f'"id":"{post.id}"' in text, name
        assert "status.posted_by" not in text and "bob" not in text.casefold(), name
        streamed = json.loads(text.split("event: update\ndata: ", 1)[1].split("\n", 1)[0])
        fetched = client.get(f"/api/v1/statuses/{post.id}", headers=headers[name]).json
        assert "bob" not in json.dumps(fetched).casefold(), name
        assert set(streamed) == set(fetched), name  # the same entity, no extra field on the stream


def test_the_live_template_has_an_empty_by_line_that_live_js_fills(client, support, alice, bob):
    make_post(support, "Old notice", posted_by=bob)
    login(client, "alice")
    page = client.get("/public").get_data(as_text=True)
    template = page.split("<template data-post-template>", 1)[1].split("</template>", 1)[0]
    assert '<a href="/@__member__" data-posted-by-member></a>' in template
    assert "<span data-posted-by-team></span>" in template
    assert 'by <a href="/@bob">@bob</a> for @it-support' in page.split("</template>", 1)[1]
