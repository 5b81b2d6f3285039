"""Input no field may hold is a clear 4xx that stores nothing, never a 500: the reproductions of each class.

tests/test_fuzz_forms.py sends the whole hostile corpus to every form, route and event.
"""

from __future__ import annotations

import pytest

from .factories import make_post, make_token


@pytest.fixture
def auth(alice):
    return make_token(alice, "read", "write")


@pytest.mark.parametrize("name", ["+2", "%2B2", "%EF%BC%92", "%D9%A2", "2_0", "%202", "02x", "1" * 5000])
def test_ids_are_ascii_digits_only(alice_client, alice, bob, auth, name):
    client = alice_client
    make_post(alice, "the first post")
    assert bob.id == make_post(bob, "the second post").id == 2  # what each name below means to int()
    assert client.get("/api/v1/accounts/2", headers=auth).status_code == 200
    assert client.get(f"/api/v1/accounts/{name}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/statuses/{name}", headers=auth).status_code == 404
    assert client.get(f"/posts/{name}").status_code == 404
    refused = client.get(f"/api/v1/timelines/public?max_id={name}", headers=auth)
    assert refused.status_code == 422
    assert "max_id" in refused.get_json()["error"]


@pytest.mark.parametrize("offset", ["1" * 5000, "+1", "%EF%BC%91"])
def test_a_search_offset_is_ascii_digits_too(client, alice, auth, offset):
    response = client.get(f"/api/v2/search?q=a&offset={offset}", headers=auth)
    assert response.status_code == 422
    assert "offset" in response.get_json()["error"]
