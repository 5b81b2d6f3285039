"""Read markers (/api/v1/markers): set in one client, seen by the others; each person's own."""

from __future__ import annotations

import pytest

from .factories import make_token


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
        {},
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


def test_markers_need_the_statuses_scopes(client, alice):
    reader = make_token(alice, "read:statuses")
    assert client.get("/api/v1/markers?timeline[]=home", headers=reader).status_code == 200
    refused = client.post("/api/v1/markers", json={"home": {"last_read_id": "5"}}, headers=reader)
    assert refused.status_code == 403
    assert client.get("/api/v1/markers?timeline[]=home").status_code == 401
