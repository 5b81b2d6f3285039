"""Communities through the Mastodon client API: group accounts, joining by following, follow requests,
posting into a community (and the 422s when that may not be), and the notifications about joining."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import realtime
from microblog.database import db
from microblog.services import communities, join_requests, social
from models import FollowRequest, Notification, Post

from .factories import login, make_community, make_post, make_token, make_user


@pytest.fixture
def tokens(alice, bob):
    """Tokens for alice (admin of the communities), bob and carol (colleagues)."""
    carol = make_user("carol")
    return {"alice": make_token(alice), "bob": make_token(bob), "carol": make_token(carol)}


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- the Account of a community


def test_a_community_account_is_a_group_locked_when_private(client, alice, tokens):
    open_ = make_community(alice, "apollo")
    secret = make_community(alice, "secret", private=True)
    communities.set_official(None, secret, True)
    make_post(alice, "@apollo kickoff today")
    make_post(alice, "@secret budget numbers")

    public = client.get(f"/api/v1/accounts/{open_.id}", headers=tokens["bob"]).get_json()
    assert (public["group"], public["locked"], public["bot"]) == (True, False, False)
    assert public["note"] == "<p>The apollo team</p>" and public["fields"] == []
    assert public["statuses_count"] == 1 and public["followers_count"] == 1
    private = client.get("/api/v1/accounts/lookup?acct=secret", headers=tokens["bob"]).get_json()
    assert (private["group"], private["locked"]) == (True, True)
    assert private["statuses_count"] == 0  # private posts are counted nowhere a stranger looks
    (field,) = private["fields"]
    assert field["name"] == "Official" and field["verified_at"].endswith("Z")
    person = client.get(f"/api/v1/accounts/{alice.id}", headers=tokens["bob"]).get_json()
    assert (person["group"], person["locked"], person["fields"]) == (False, False, [])


def test_a_private_communitys_members_and_posts_are_for_its_members(client, alice, bob, tokens):
    secret = make_community(alice, "secret", private=True, members=(bob,))
    post = make_post(alice, "@secret budget numbers")
    for name, visible in (("bob", True), ("carol", False)):
        statuses = client.get(f"/api/v1/accounts/{secret.id}/statuses", headers=tokens[name]).get_json()
        assert [s["id"] for s in statuses] == ([str(post.id)] if visible else [])
        members = client.get(f"/api/v1/accounts/{secret.id}/followers", headers=tokens[name]).get_json()
        assert sorted(a["username"] for a in members) == (["alice", "bob"] if visible else [])
        shown = client.get(f"/api/v1/statuses/{post.id}", headers=tokens[name])
        assert shown.status_code == (200 if visible else 404)


# ---------------------------------------------------------------- following is joining


def test_following_a_public_community_joins_it_and_unfollowing_leaves(client, alice, bob, tokens):
    apollo = make_community(alice, "apollo")
    joined = client.post(f"/api/v1/accounts/{apollo.id}/follow", headers=tokens["bob"]).get_json()
    assert (joined["following"], joined["requested"]) == (True, False)
    assert communities.is_member(bob, apollo)
    left = client.post(f"/api/v1/accounts/{apollo.id}/unfollow", headers=tokens["bob"]).get_json()
    assert (left["following"], left["requested"]) == (False, False)
    assert not communities.is_member(bob, apollo)


def test_following_a_private_community_asks_to_join_and_unfollowing_takes_it_back(client, alice, bob, tokens):
    secret = make_community(alice, "secret", private=True)
    asked = client.post(f"/api/v1/accounts/{secret.id}/follow", headers=tokens["bob"]).get_json()
    assert (asked["following"], asked["requested"]) == (False, True)
    assert not communities.is_member(bob, secret) and join_requests.has_requested(bob, secret)
    (rel,) = client.get(f"/api/v1/accounts/relationships?id[]={secret.id}", headers=tokens["bob"]).get_json()
    assert rel["requested"] is True
    again = client.post(f"/api/v1/accounts/{secret.id}/follow", headers=tokens["bob"]).get_json()
    assert again["requested"] is True and _count(FollowRequest) == 1
    taken_back = client.post(f"/api/v1/accounts/{secret.id}/unfollow", headers=tokens["bob"]).get_json()
    assert (taken_back["following"], taken_back["requested"]) == (False, False)
    assert _count(FollowRequest) == 0


def test_the_last_admin_cannot_leave(client, alice, bob, tokens):
    apollo = make_community(alice, "apollo", members=(bob,))
    refused = client.post(f"/api/v1/accounts/{apollo.id}/unfollow", headers=tokens["alice"])
    assert refused.status_code == 422
    assert refused.get_json() == {"error": "Appoint another admin of @apollo first: it needs one."}
    assert communities.is_member(alice, apollo) and communities.is_admin(alice, apollo)


def test_an_archived_community_takes_no_one_in(client, alice, tokens):
    apollo = make_community(alice, "apollo")
    communities.set_archived(None, apollo, True)
    refused = client.post(f"/api/v1/accounts/{apollo.id}/follow", headers=tokens["bob"])
    assert refused.status_code == 422 and "archived" in refused.get_json()["error"]


# ---------------------------------------------------------------- follow requests


def test_an_admin_sees_and_authorizes_follow_requests(client, app, alice, bob, tokens):
    secret = make_community(alice, "secret", private=True)
    other = make_community(alice, "other", private=True)
    carol = social.access_user("carol")
    nobody_asked = client.get("/api/v1/follow_requests", headers=tokens["alice"])
    assert nobody_asked.status_code == 200 and nobody_asked.get_json() == []
    for name, community in (("bob", secret), ("bob", other), ("carol", secret)):
        client.post(f"/api/v1/accounts/{community.id}/follow", headers=tokens[name])

    listed = client.get("/api/v1/follow_requests", headers=tokens["alice"]).get_json()
    assert [a["username"] for a in listed] == ["carol", "bob"]  # one entry per person, newest account first
    assert client.get("/api/v1/follow_requests", headers=tokens["bob"]).get_json() == []  # not an admin

    relationship = client.post(f"/api/v1/follow_requests/{bob.id}/authorize", headers=tokens["alice"])
    assert relationship.status_code == 200 and relationship.get_json()["id"] == str(bob.id)
    assert communities.is_member(bob, secret) and communities.is_member(bob, other)  # both answered
    assert not communities.is_member(carol, secret)
    assert [
        a["username"] for a in client.get("/api/v1/follow_requests", headers=tokens["alice"]).get_json()
    ] == ["carol"]
    (rel,) = client.get(f"/api/v1/accounts/relationships?id[]={secret.id}", headers=tokens["bob"]).get_json()
    assert (rel["following"], rel["requested"]) == (True, False)

    rejected = client.post(f"/api/v1/follow_requests/{carol.id}/reject", headers=tokens["alice"])
    assert rejected.status_code == 200
    assert not communities.is_member(carol, secret) and _count(FollowRequest) == 0
    again = client.post(f"/api/v1/follow_requests/{carol.id}/reject", headers=tokens["alice"])
    assert again.status_code == 404 and "has not asked" in again.get_json()["error"]


def test_only_an_admin_of_the_community_can_answer_its_requests(client, alice, bob, tokens):
    secret = make_community(alice, "secret", private=True)
    make_community(bob, "bobs", private=True)
    carol = social.access_user("carol")
    client.post(f"/api/v1/accounts/{secret.id}/follow", headers=tokens["carol"])
    for action in ("authorize", "reject"):
        refused = client.post(f"/api/v1/follow_requests/{carol.id}/{action}", headers=tokens["bob"])
        assert refused.status_code == 404  # bob administers a community carol did not ask to join
    for account_id in ("0", "99999", "x", secret.id):
        missing = client.post(f"/api/v1/follow_requests/{account_id}/authorize", headers=tokens["alice"])
        assert missing.status_code == 404
    assert join_requests.has_requested(carol, secret)


def test_follow_requests_page_through_the_link_header(client, alice, tokens):
    secret = make_community(alice, "secret", private=True)
    people = [make_user(f"asker{n}") for n in range(3)]
    for person in people:
        communities.join(person, secret)
    first = client.get("/api/v1/follow_requests?limit=2", headers=tokens["alice"])
    assert [a["username"] for a in first.get_json()] == ["asker2", "asker1"]
    assert f"max_id={people[1].id}" in first.headers["Link"] and 'rel="next"' in first.headers["Link"]
    second = client.get(f"/api/v1/follow_requests?limit=2&max_id={people[1].id}", headers=tokens["alice"])
    assert [a["username"] for a in second.get_json()] == ["asker0"]


def test_follow_requests_need_the_follows_scopes(client, alice, bob):
    secret = make_community(alice, "secret", private=True)
    communities.join(bob, secret)
    assert (
        client.get("/api/v1/follow_requests", headers=make_token(alice, "read:statuses")).status_code == 403
    )
    assert client.get("/api/v1/follow_requests", headers=make_token(alice, "read:follows")).status_code == 200
    url = f"/api/v1/follow_requests/{bob.id}/authorize"
    assert client.post(url, headers=make_token(alice, "read:follows")).status_code == 403
    assert client.post(url, headers=make_token(alice, "write:follows")).status_code == 200


# ---------------------------------------------------------------- notifications about joining


def test_join_requests_and_acceptance_are_notified_and_filtered(client, alice, bob, tokens):
    secret = make_community(alice, "secret", private=True)
    client.post(f"/api/v1/accounts/{secret.id}/follow", headers=tokens["bob"])
    (request,) = client.get("/api/v1/notifications", headers=tokens["alice"]).get_json()
    assert request["type"] == "follow_request" and request["account"]["username"] == "bob"
    assert request["status"] is None
    client.post(f"/api/v1/follow_requests/{bob.id}/authorize", headers=tokens["alice"])
    (accepted,) = client.get("/api/v1/notifications", headers=tokens["bob"]).get_json()
    assert accepted["type"] == "join_accepted" and accepted["account"]["username"] == "secret"
    assert accepted["account"]["group"] is True

    def kinds(who: str, query: str) -> list[str]:
        return [
            n["type"] for n in client.get(f"/api/v1/notifications?{query}", headers=tokens[who]).get_json()
        ]

    assert kinds("alice", "types[]=follow_request") == ["follow_request"]
    assert kinds("alice", "types[]=mention&types[]=follow") == []
    assert kinds("alice", "exclude_types[]=follow_request") == []
    assert kinds("bob", "types[]=join_accepted") == ["join_accepted"]
    assert kinds("bob", "exclude_types[]=join_accepted") == []
    assert kinds("bob", "types[]=follow&types[]=follow_request") == []


def test_join_notifications_reach_the_streams(app, alice, bob):
    secret = make_community(alice, "secret", private=True)
    streams = {}
    for name in ("alice", "bob"):
        http = app.test_client()
        login(http, name)
        streams[name] = realtime.socketio.test_client(app, flask_test_client=http)
        streams[name].get_received()
    try:
        social.follow_user(bob, "secret")
        join_requests.accept_requests_from(alice, bob)

        def received(name: str) -> list[tuple[str, str]]:
            return [
                (e["args"][0]["payload"]["type"], e["args"][0]["payload"]["account"]["username"])
                for e in streams[name].get_received()
                if e["name"] == "notification"
            ]

        assert received("alice") == [("follow_request", "bob")]
        assert received("bob") == [("join_accepted", "secret")]
    finally:
        for sio in streams.values():
            sio.disconnect()
    assert _count(Notification) == 2 and communities.is_member(bob, secret)


# ---------------------------------------------------------------- posting into a community


def _post(client, headers, text: str, **data: str):
    return client.post("/api/v1/statuses", data={"status": text, **data}, headers=headers)


def test_addressing_a_private_community_posts_privately_whatever_the_client_says(client, alice, bob, tokens):
    make_community(alice, "secret", private=True, members=(bob,))
    for visibility in ("", "public", "unlisted", "private"):
        response = _post(
            client, tokens["bob"], f"@secret plan {visibility or 'default'}", visibility=visibility
        )
        assert response.status_code == 200, response.get_json()
        status = response.get_json()
        assert status["visibility"] == "private"
        assert "secret" in [m["username"] for m in status["mentions"]]
    reply = _post(client, tokens["alice"], "agreed", in_reply_to_id=status["id"], visibility="private")
    assert reply.status_code == 200 and reply.get_json()["visibility"] == "private"
    assert _count(Post, Post.visibility == "private") == 5


def test_addressing_a_public_community_posts_publicly(client, alice, bob, tokens):
    make_community(alice, "apollo", members=(bob,))
    status = _post(client, tokens["bob"], "@apollo kickoff at ten").get_json()
    assert status["visibility"] == "public" and "apollo" in [m["username"] for m in status["mentions"]]
    refused = _post(client, tokens["bob"], "@apollo members only please", visibility="private")
    assert refused.status_code == 422 and "private community" in refused.get_json()["error"]


@pytest.mark.parametrize(
    ("visibility", "reason"),
    [
        ("private", "Only a post in a private community is private"),
        ("direct", "Direct messages are not supported"),
        ("secret", "visibility must be public, unlisted or private"),
    ],
)
def test_a_visibility_that_cannot_be_honoured_is_a_422(client, alice, tokens, visibility, reason):
    response = _post(client, tokens["alice"], "hello everyone", visibility=visibility)
    assert response.status_code == 422 and reason in response.get_json()["error"]
    assert _count(Post) == 0


def test_a_post_that_may_not_go_into_its_community_is_a_422_with_the_reason(client, alice, bob, tokens):
    secret = make_community(alice, "secret", private=True, members=(bob,))
    apollo = make_community(alice, "apollo", members=(bob,))
    archived = make_community(alice, "oldproject")
    communities.set_archived(None, archived, True)
    in_secret = make_post(alice, "@secret roadmap")
    in_apollo = make_post(alice, "@apollo release day")
    before = _count(Post)
    cases = [
        ("carol", "@secret let me in", {}, "Join @secret to post in it."),
        ("carol", "@apollo hello", {}, "Join @apollo to post in it."),
        ("bob", "@secret and @apollo both", {}, "A post can be in one community only"),
        ("alice", "@oldproject one more thing", {}, "@oldproject is archived"),
        (
            "bob",
            "@apollo moving this",
            {"in_reply_to_id": str(in_secret.id)},
            "A reply stays where its post is",
        ),
        ("carol", "sneaking in", {"in_reply_to_id": str(in_secret.id)}, "That post does not exist"),
    ]
    for who, text, extra, reason in cases:
        response = _post(client, tokens[who], text, **extra)
        expected = 404 if reason.startswith("That post") else 422
        assert response.status_code == expected, (text, response.get_json())
        assert reason in response.get_json()["error"], (text, response.get_json())
    assert _count(Post) == before
    # A reply with no handle stays in its community, whoever may read it may answer a public one.
    reply = _post(client, tokens["carol"], "congrats!", in_reply_to_id=str(in_apollo.id)).get_json()
    assert reply["visibility"] == "public" and "apollo" in [m["username"] for m in reply["mentions"]]
    assert db.session.get(Post, int(reply["id"])).community_id == apollo.id
    assert secret.id != apollo.id


def test_a_following_list_shows_a_private_community_to_its_members_only(client, alice, bob, tokens):
    make_community(alice, "secret", private=True, members=(bob,))
    make_community(alice, "apollo", members=(bob,))
    social.follow_user(bob, "alice")

    def listed(who: str) -> list[str]:
        page = client.get(f"/api/v1/accounts/{bob.id}/following", headers=tokens[who]).get_json()
        return sorted(a["username"] for a in page)

    assert listed("alice") == listed("bob") == ["alice", "apollo", "secret"]
    assert listed("carol") == ["alice", "apollo"]


@pytest.mark.parametrize(
    "value", [["private"], {"private": True}, True, 5, "PRIVATE", "private\x00", "x" * 5000]
)
def test_hostile_visibility_values_are_422s_that_store_nothing(client, alice, bob, tokens, value):
    make_community(alice, "secret", private=True, members=(bob,))
    response = client.post(
        "/api/v1/statuses", json={"status": "@secret hi", "visibility": value}, headers=tokens["bob"]
    )
    # NUL is refused before any endpoint reads it (400), like everywhere in the API.
    assert response.status_code == (400 if "\x00" in str(value) else 422), response.get_json()
    assert response.get_json()["error"] and _count(Post) == 0
