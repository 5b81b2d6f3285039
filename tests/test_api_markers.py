"""Read markers (/api/v1/markers): set in one client, seen by the others; each person's own."""

from __future__ import annotations

import pytest

from microblog.services import social

from .factories import make_post, make_token


def test_a_marker_set_by_one_client_is_seen_by_another(client, alice, bob):
    phone, laptop = make_token(alice), make_token(alice)
    assert (
        client.get("/api/v1/markers?timeline[]=home&timeline[]=notifications", headers=laptop).get_json()
        == {}
    )
    saved = client.post("/api/v1/markers", data={"home[last_read_id]": "103"}, headers=phone).get_json()
    assert saved["home"]["last_read_id"] == "103" and saved["home"]["version"] == 1
    assert saved["home"]["updated_at"].endswith("Z")
    # Mastodon's JSON form, both timelines at once; home's version goes up.
    both = {"home": {"last_read_id": "110"}, "notifications": {"last_read_id": 7}}
    client.post("/api/v1/markers", json=both, headers=laptop)
    seen = client.get("/api/v1/markers?timeline[]=home&timeline[]=notifications", headers=phone).get_json()
    assert {k: (v["last_read_id"], v["version"]) for k, v in seen.items()} == {
        "home": ("110", 2),
        "notifications": ("7", 1),
    }
    only_home = client.get("/api/v1/markers?timeline[]=home", headers=phone).get_json()
    assert list(only_home) == ["home"]
    assert client.get("/api/v1/markers?timeline[]=home", headers=make_token(bob)).get_json() == {}


@pytest.mark.parametrize(
    "body",
    [
        {"home": {"last_read_id": "abc"}},
        {"home": {"last_read_id": "-1"}},
        {"home": {"last_read_id": [1]}},
    ],
)
def test_bad_markers_are_refused_and_change_nothing(client, alice, body):
    auth = make_token(alice)
    client.post("/api/v1/markers", json={"home": {"last_read_id": "5"}}, headers=auth)
    response = client.post("/api/v1/markers", json=body, headers=auth)
    assert response.status_code == 422, response.data
    home = client.get("/api/v1/markers?timeline[]=home", headers=auth).get_json()["home"]
    assert (home["last_read_id"], home["version"]) == ("5", 1)


def test_setting_nothing_or_the_same_place_changes_nothing(client, alice):
    auth = make_token(alice)
    assert client.post("/api/v1/markers", json={}, headers=auth).get_json() == {}  # as Mastodon answers
    client.post("/api/v1/markers", json={"home": {"last_read_id": "5"}}, headers=auth)
    again = client.post("/api/v1/markers", json={"home": {"last_read_id": "5"}}, headers=auth).get_json()
    assert again["home"]["version"] == 1
    back = client.post("/api/v1/markers", json={"home": {"last_read_id": "4"}}, headers=auth).get_json()
    assert (back["home"]["last_read_id"], back["home"]["version"]) == ("4", 2)  # a client may move it back


def test_markers_need_the_statuses_scopes(client, alice):
    reader = make_token(alice, "read:statuses")
    assert client.get("/api/v1/markers?timeline[]=home", headers=reader).status_code == 200
    refused = client.post("/api/v1/markers", json={"home": {"last_read_id": "5"}}, headers=reader)
    assert refused.status_code == 403
    assert client.get("/api/v1/markers?timeline[]=home").status_code == 401


def test_home_draws_you_were_here_above_the_read_posts_and_opening_it_sets_the_marker(
    alice_client, alice, bob
):
    social.follow_user(alice, "bob")
    read = make_post(bob, "Read yesterday").id
    newer = [make_post(bob, f"New today {n}").id for n in range(2)]
    auth = make_token(alice)
    alice_client.post("/home/read", data={"up_to": read})  # as site.js does when home opens
    html = alice_client.get("/").get_data(as_text=True)
    line = html.index('id="you-were-here"')
    assert html.index(f'id="post-{newer[-1]}"') < line < html.index(f'id="post-{read}"')
    assert 'href="#you-were-here"' in html and f'name="up_to" value="{newer[-1]}"' in html
    seen = alice_client.post("/home/read", data={"up_to": newer[-1]}, headers={"Accept": "application/json"})
    assert seen.json == {"last_read_id": str(newer[-1])}
    # Another client of alice's sees it, and home has nothing unread to mark.
    home = client_marker(alice_client, auth, "home")
    assert home["last_read_id"] == str(newer[-1]) and home["version"] == 2
    assert 'id="you-were-here"' not in alice_client.get("/").get_data(as_text=True)
    alice_client.post("/home/read", data={"up_to": read})  # an older tab: the marker stays, unwritten
    assert client_marker(alice_client, auth, "home") == home
    assert alice_client.post("/home/read", data={"up_to": "x"}).status_code == 422


def client_marker(client, auth, timeline):
    return client.get(f"/api/v1/markers?timeline[]={timeline}", headers=auth).get_json()[timeline]


def test_the_notifications_marker_and_the_web_badge_are_one_mark(alice_client, alice, bob):
    auth = make_token(alice)
    first = make_post(bob, "@alice one").id
    make_post(bob, "@alice two")
    ids = [n["id"] for n in alice_client.get("/api/v1/notifications", headers=auth).get_json()]
    assert len(ids) == 2 and first
    # A client marks the older one read: the web's badge counts one.
    alice_client.post("/api/v1/markers", json={"notifications": {"last_read_id": ids[1]}}, headers=auth)
    assert alice_client.get("/notifications/unread").get_json()["count"] == 1
    # The web page reads the newest: every client's marker follows.
    alice_client.post("/notifications/seen", data={"up_to": ids[0]})
    assert client_marker(alice_client, auth, "notifications")["last_read_id"] == ids[0]
