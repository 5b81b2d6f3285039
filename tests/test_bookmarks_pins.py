"""Bookmarks and pinned posts: through the API, the web, and the visibility rule."""

from __future__ import annotations

import pytest

from microblog.services import social

from .factories import login, make_community, make_post, make_token, make_user


def _bookmarked_ids(client, auth, query=""):
    response = client.get(f"/api/v1/bookmarks{query}", headers=auth)
    assert response.status_code == 200, response.data
    return [s["id"] for s in response.get_json()], response.headers.get("Link", "")


def test_bookmarks_are_the_owners_own_newest_bookmark_first(client, alice, bob):
    older, newer = make_post(bob, "Read the release notes"), make_post(bob, "Lunch at noon")
    auth = make_token(alice)
    answer = client.post(f"/api/v1/statuses/{newer.id}/bookmark", headers=auth)
    assert answer.status_code == 200 and answer.get_json()["bookmarked"] is True
    client.post(f"/api/v1/statuses/{older.id}/bookmark", headers=auth)
    again = client.post(f"/api/v1/statuses/{older.id}/bookmark", headers=auth)  # no change, no error
    assert again.status_code == 200
    ids, _ = _bookmarked_ids(client, auth)
    assert ids == [str(older.id), str(newer.id)]  # by when bookmarked, not when posted
    # Bob, the author, sees neither the bookmark nor that it was made.
    bobs = make_token(bob)
    assert client.get(f"/api/v1/statuses/{older.id}", headers=bobs).get_json()["bookmarked"] is False
    assert _bookmarked_ids(client, bobs)[0] == []
    assert client.get(f"/api/v1/statuses/{older.id}", headers=auth).get_json()["bookmarked"] is True
    timeline = client.get("/api/v1/timelines/public", headers=auth).get_json()
    assert {s["id"]: s["bookmarked"] for s in timeline} == {str(older.id): True, str(newer.id): True}
    gone = client.post(f"/api/v1/statuses/{older.id}/unbookmark", headers=auth)
    assert gone.status_code == 200 and gone.get_json()["bookmarked"] is False
    assert _bookmarked_ids(client, auth)[0] == [str(newer.id)]


def test_bookmarks_page_through_the_link_header(client, alice, bob):
    made = [make_post(bob, f"Update {n}") for n in range(5)]
    auth = make_token(alice)
    for post in made:
        client.post(f"/api/v1/statuses/{post.id}/bookmark", headers=auth)
    first, link = _bookmarked_ids(client, auth, "?limit=2")
    assert first == [str(made[4].id), str(made[3].id)]
    assert 'rel="next"' in link and 'rel="prev"' in link
    next_url = link.split(";")[0].strip("<>")
    second = client.get(next_url, headers=auth).get_json()
    assert [s["id"] for s in second] == [str(made[2].id), str(made[1].id)]


def test_a_bookmarked_private_post_leaves_with_its_community(client, alice, bob):
    make_community(bob, "ops", private=True, members=(alice,))
    secret = make_post(bob, "@ops the new root password is in the vault")
    auth = make_token(alice)
    assert client.post(f"/api/v1/statuses/{secret.id}/bookmark", headers=auth).status_code == 200
    assert _bookmarked_ids(client, auth)[0] == [str(secret.id)]
    social.unfollow_user(alice, "ops")
    assert _bookmarked_ids(client, auth)[0] == []
    # And one who may not see it cannot bookmark it: not found, as if it did not exist.
    carol = make_token(make_user("carol"))
    assert client.post(f"/api/v1/statuses/{secret.id}/bookmark", headers=carol).status_code == 404
    assert _bookmarked_ids(client, carol)[0] == []


def test_bookmarks_need_their_scopes(client, alice, bob):
    post = make_post(bob, "Scoped")
    reader = make_token(alice, "read")
    assert client.post(f"/api/v1/statuses/{post.id}/bookmark", headers=reader).status_code == 403
    writer = make_token(alice, "write:bookmarks")
    assert client.post(f"/api/v1/statuses/{post.id}/bookmark", headers=writer).status_code == 200
    assert client.get("/api/v1/bookmarks", headers=writer).status_code == 403
    assert client.get("/api/v1/bookmarks", headers=make_token(alice, "read:bookmarks")).status_code == 200


@pytest.mark.parametrize("post_id", ["abc", "-1", "99999999999999999999999", "0"])
def test_bookmarking_what_is_no_post_is_not_found(client, alice, post_id):
    auth = make_token(alice)
    assert client.post(f"/api/v1/statuses/{post_id}/bookmark", headers=auth).status_code == 404
    assert client.get("/api/v1/bookmarks?max_id=abc", headers=auth).status_code == 422


def _pinned_ids(client, auth, account):
    response = client.get(f"/api/v1/accounts/{account.id}/statuses?pinned=true", headers=auth)
    assert response.status_code == 200, response.data
    return [s["id"] for s in response.get_json()]


def test_people_pin_up_to_five_of_their_own_posts(client, alice, bob):
    auth = make_token(alice)
    mine = [make_post(alice, f"Note {n}") for n in range(6)]
    for post in mine[:5]:
        answer = client.post(f"/api/v1/statuses/{post.id}/pin", headers=auth)
        assert answer.status_code == 200 and answer.get_json()["pinned"] is True
    sixth = client.post(f"/api/v1/statuses/{mine[5].id}/pin", headers=auth)
    assert sixth.status_code == 422 and "5" in sixth.get_json()["error"]
    assert client.post(f"/api/v1/statuses/{mine[0].id}/pin", headers=auth).status_code == 200  # again: fine
    assert _pinned_ids(client, make_token(bob), alice) == [str(p.id) for p in reversed(mine[:5])]
    assert (
        client.get("/api/v1/instance", headers=auth).get_json()["configuration"]["accounts"][
            "max_pinned_statuses"
        ]
        == 5
    )
    client.post(f"/api/v1/statuses/{mine[4].id}/unpin", headers=auth)
    assert client.post(f"/api/v1/statuses/{mine[5].id}/pin", headers=auth).status_code == 200
    theirs = make_post(bob, "Bob's news")
    refused = client.post(f"/api/v1/statuses/{theirs.id}/pin", headers=auth)
    assert refused.status_code == 422
    assert _pinned_ids(client, auth, bob) == []


def test_a_pinned_private_post_shows_on_the_profile_to_members_only(client, alice, bob):
    make_community(bob, "ops", private=True, members=(alice,))
    secret = make_post(alice, "@ops maintenance window Friday")
    open_post = make_post(alice, "Hello everyone")
    auth = make_token(alice)
    client.post(f"/api/v1/statuses/{secret.id}/pin", headers=auth)
    client.post(f"/api/v1/statuses/{open_post.id}/pin", headers=auth)
    assert set(_pinned_ids(client, make_token(bob), alice)) == {str(secret.id), str(open_post.id)}
    carol = make_user("carol")
    assert _pinned_ids(client, make_token(carol), alice) == [str(open_post.id)]
    login(client, "carol")
    page = client.get("/@alice").get_data(as_text=True)
    assert "Hello everyone" in page and "maintenance window" not in page


def test_community_admins_pin_up_to_three_posts_at_its_top(client, alice, bob):
    carol = make_user("carol")
    ops = make_community(bob, "ops", members=(alice, carol))
    posts = [make_post(alice, f"@ops status {n}") for n in range(4)]
    elsewhere = make_post(alice, "Not in ops")
    admin, member = make_token(bob), make_token(carol)
    refused = client.post(f"/api/v1/statuses/{posts[0].id}/pin", data={"community": "true"}, headers=member)
    assert refused.status_code == 403
    for post in posts[:3]:
        answer = client.post(f"/api/v1/statuses/{post.id}/pin", data={"community": "true"}, headers=admin)
        assert answer.status_code == 200, answer.data
    fourth = client.post(f"/api/v1/statuses/{posts[3].id}/pin", data={"community": "true"}, headers=admin)
    assert fourth.status_code == 422
    outside = client.post(f"/api/v1/statuses/{elsewhere.id}/pin", data={"community": "true"}, headers=admin)
    assert outside.status_code == 422
    assert _pinned_ids(client, member, ops) == [str(p.id) for p in reversed(posts[:3])]
    # Pinned in the community is not pinned on its author's profile.
    assert _pinned_ids(client, member, alice) == []
    client.post(f"/api/v1/statuses/{posts[0].id}/unpin", data={"community": "true"}, headers=admin)
    assert _pinned_ids(client, member, ops) == [str(p.id) for p in reversed(posts[1:3])]


def test_a_private_communitys_pins_are_for_its_members(client, alice, bob):
    ops = make_community(bob, "ops", private=True, members=(alice,))
    secret = make_post(alice, "@ops the pinned runbook")
    client.post(f"/api/v1/statuses/{secret.id}/pin", data={"community": "1"}, headers=make_token(bob))
    assert _pinned_ids(client, make_token(alice), ops) == [str(secret.id)]
    carol = make_user("carol")
    assert _pinned_ids(client, make_token(carol), ops) == []
    login(client, "carol")
    assert "pinned runbook" not in client.get("/@ops").get_data(as_text=True)


def test_bookmark_and_pin_from_the_web(alice_client, alice, bob):
    post = make_post(bob, "Worth keeping")
    mine = make_post(alice, "My intro")
    json = {"Accept": "application/json"}
    answer = alice_client.post(f"/posts/{post.id}/bookmark", headers=json)
    assert answer.status_code == 200
    unbookmark = f"/posts/{post.id}/unbookmark"
    assert answer.get_json() == {"on": True, "action": unbookmark, "label": "Remove bookmark"}
    page = alice_client.get("/bookmarks").get_data(as_text=True)
    assert "Worth keeping" in page and "My intro" not in page
    assert 'aria-pressed="true" title="Remove bookmark"' in page
    alice_client.post(f"/posts/{post.id}/unbookmark")
    assert "Worth keeping" not in alice_client.get("/bookmarks").get_data(as_text=True)
    # Pins: on her profile, above her posts, marked "Pinned".
    assert alice_client.post(f"/posts/{mine.id}/pin", headers=json).get_json()["on"] is True
    profile = alice_client.get("/@alice").get_data(as_text=True)
    pinned = profile.split("data-pinned", 1)[1].split("data-posts", 1)[0]
    assert "My intro" in pinned and "Pinned" in pinned
    # Not a button on someone else's post, and refused if forced.
    assert f"/posts/{post.id}/pin" not in alice_client.get("/public").get_data(as_text=True)
    assert alice_client.post(f"/posts/{post.id}/pin", headers=json).status_code == 422


def test_the_web_says_when_no_more_can_be_pinned(alice_client, alice):
    mine = [make_post(alice, f"Note {n}") for n in range(6)]
    for post in mine[:5]:
        alice_client.post(f"/posts/{post.id}/pin")
    answer = alice_client.post(f"/posts/{mine[5].id}/pin", data={"next": "/@alice"}, follow_redirects=True)
    assert answer.status_code == 200
    assert "At most 5 posts can be pinned here: unpin one first." in answer.get_data(as_text=True)


def test_community_admins_pin_from_the_community_page(client, alice, bob):
    make_community(alice, "ops", members=(bob,))
    post = make_post(bob, "@ops read this first")
    login(client, "alice")
    page = client.get("/@ops").get_data(as_text=True)
    assert f"/posts/{post.id}/pin?community=1" in page
    client.post(f"/posts/{post.id}/pin?community=1")
    page = client.get("/@ops").get_data(as_text=True)
    assert "read this first" in page.split("data-pinned", 1)[1].split("data-posts", 1)[0]
    assert f"/posts/{post.id}/unpin?community=1" in page


def test_a_pin_left_behind_in_a_community_does_not_take_a_place(client, alice, bob):
    make_community(bob, "ops", private=True, members=(alice,))
    auth = make_token(alice)
    inside = make_post(alice, "@ops on call this week")
    client.post(f"/api/v1/statuses/{inside.id}/pin", headers=auth)
    social.unfollow_user(alice, "ops")
    for n in range(5):
        post = make_post(alice, f"Public note {n}")
        assert client.post(f"/api/v1/statuses/{post.id}/pin", headers=auth).status_code == 200
    assert len(_pinned_ids(client, auth, alice)) == 5
