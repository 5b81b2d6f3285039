"""The Mastodon client API in-process: auth and scopes, statuses, paging, errors, rate limits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from microblog.database import db
from microblog.services import social
from models import AccessToken, Post

from .factories import make_post, make_token, make_user
from .vectors import post_length_cases


@pytest.fixture
def auth(alice):
    return make_token(alice)


def test_instance_describes_the_post_rule_both_with_and_without_a_trailing_slash(client):
    for path in ("/api/v1/instance", "/api/v1/instance/"):
        v1 = client.get(path).get_json()
        assert v1["version"] == "4.3.0 (compatible; microblog 0.1)"
        assert v1["configuration"]["statuses"]["max_characters"] == 140
        assert v1["configuration"]["statuses"]["characters_reserved_per_url"] == 23
        assert v1["urls"]["streaming_api"] == "ws://localhost"
    v2 = client.get("/api/v2/instance/").get_json()
    assert v2["configuration"]["statuses"] == v1["configuration"]["statuses"]
    assert v2["configuration"]["urls"]["streaming"] == "ws://localhost"
    assert v2["api_versions"] == {"mastodon": 2}


def test_oauth_metadata_lists_the_grants_and_pkce(client):
    meta = client.get("/.well-known/oauth-authorization-server").get_json()
    assert set(meta["grant_types_supported"]) == {"authorization_code", "password"}
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["token_endpoint"] == "http://localhost/oauth/token"
    assert {"read", "write", "follow", "push"} <= set(meta["scopes_supported"])


def test_reads_need_a_token_and_a_bad_token_is_refused(client, alice):
    response = client.get("/api/v1/timelines/home")
    assert response.status_code == 401 and "access token" in response.get_json()["error"]
    response = client.get("/api/v1/timelines/home", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401 and response.get_json() == {"error": "The access token is invalid"}


def test_a_read_only_token_cannot_post(client, alice):
    response = client.post("/api/v1/statuses", data={"status": "hi"}, headers=make_token(alice, "read"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "This action is outside the authorized scopes"}
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_tokens_are_stored_as_digests_only(client, alice, auth):
    value = auth["Authorization"].split()[1]
    (stored,) = db.session.scalars(select(AccessToken.token_hash))
    assert value not in stored and len(stored) == 64
    assert client.get("/api/v1/accounts/verify_credentials", headers=auth).get_json()["username"] == "alice"


def test_post_a_status_form_or_json_and_read_it_back(client, alice, auth):
    response = client.post("/api/v1/statuses", data={"status": "Build 41 passed #Apollo"}, headers=auth)
    assert response.status_code == 200, response.data
    status = response.get_json()
    assert status["text"] == "Build 41 passed #Apollo" and status["visibility"] == "public"
    assert status["tags"][0]["name"] == "apollo" and status["account"]["statuses_count"] == 1
    assert 'href="http://localhost/tags/apollo"' in status["content"]
    reply = client.post(
        "/api/v1/statuses", json={"status": "ok", "in_reply_to_id": status["id"]}, headers=auth
    )
    assert reply.get_json()["in_reply_to_id"] == status["id"]
    again = client.get(f"/api/v1/statuses/{status['id']}", headers=auth).get_json()
    assert again["replies_count"] == 1 and again["id"] == status["id"]


@pytest.mark.parametrize("case", post_length_cases(), ids=lambda case: case["name"])
def test_the_api_applies_the_shared_post_rule(client, alice, auth, case):
    response = client.post("/api/v1/statuses", json={"status": case["text"]}, headers=auth)
    # NUL is refused before any rule, in every field of every request (microblog.inputs).
    refused = 400 if "\x00" in case["text"] else 422
    assert response.status_code == (200 if case["valid"] else refused), response.data
    assert db.session.scalar(select(func.count()).select_from(Post)) == (1 if case["valid"] else 0)
    if not case["valid"]:
        assert response.get_json()["error"]


@pytest.mark.parametrize(
    "body",
    [{"status": "x", "visibility": "direct"}, {"status": "x", "spoiler_text": "cw"}, {}, {"status": ["a"]}],
)
def test_what_the_server_cannot_honour_is_refused_not_dropped(client, alice, auth, body):
    response = client.post("/api/v1/statuses", json=body, headers=auth)
    assert response.status_code == 422 and response.get_json()["error"]
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_a_retried_post_with_the_same_idempotency_key_returns_the_first(client, alice, bob, auth):
    first = client.post("/api/v1/statuses", data={"status": "once"}, headers=auth | {"Idempotency-Key": "k1"})
    again = client.post("/api/v1/statuses", data={"status": "once"}, headers=auth | {"Idempotency-Key": "k1"})
    assert first.get_json()["id"] == again.get_json()["id"]
    other = client.post("/api/v1/statuses", data={"status": "once"}, headers=auth | {"Idempotency-Key": "k2"})
    bobs = client.post(
        "/api/v1/statuses", data={"status": "once"}, headers=make_token(bob) | {"Idempotency-Key": "k1"}
    )
    assert len({first.get_json()["id"], other.get_json()["id"], bobs.get_json()["id"]}) == 3
    assert db.session.scalar(select(func.count()).select_from(Post)) == 3


def test_delete_own_post_but_not_a_colleagues(client, alice, bob, auth):
    mine, theirs = make_post(alice, "mine"), make_post(bob, "theirs")
    assert client.delete(f"/api/v1/statuses/{theirs.id}", headers=auth).status_code == 403
    deleted = client.delete(f"/api/v1/statuses/{mine.id}", headers=auth)
    assert deleted.status_code == 200 and deleted.get_json()["text"] == "mine"
    assert client.get(f"/api/v1/statuses/{mine.id}", headers=auth).status_code == 404
    assert client.get("/api/v1/statuses/not-a-number", headers=auth).status_code == 404


def test_link_header_lists_next_then_prev_and_pages_meet(client, alice, auth):
    ids = [make_post(alice, f"post {i}").id for i in range(5)]
    first = client.get("/api/v1/timelines/home?limit=2", headers=auth)
    assert [s["id"] for s in first.get_json()] == [str(ids[4]), str(ids[3])]
    links = first.headers["Link"]
    assert links.index('rel="next"') < links.index('rel="prev"')
    assert f"max_id={ids[3]}" in links.split(",")[0] and f"min_id={ids[4]}" in links.split(",")[1]
    older = client.get(f"/api/v1/timelines/home?limit=2&max_id={ids[3]}", headers=auth).get_json()
    assert [s["id"] for s in older] == [str(ids[2]), str(ids[1])]
    newer = client.get(f"/api/v1/timelines/home?limit=2&min_id={ids[1]}", headers=auth).get_json()
    assert [s["id"] for s in newer] == [str(ids[3]), str(ids[2])]
    last = client.get(f"/api/v1/timelines/home?limit=2&max_id={ids[1]}", headers=auth)
    assert [s["id"] for s in last.get_json()] == [str(ids[0])] and 'rel="next"' not in last.headers["Link"]


def test_bad_paging_values_are_a_clear_422(client, alice, auth):
    response = client.get("/api/v1/timelines/home?max_id=abc", headers=auth)
    assert response.status_code == 422 and "max_id" in response.get_json()["error"]


def test_follow_counts_and_relationships(client, alice, bob, auth):
    response = client.post(f"/api/v1/accounts/{bob.id}/follow", headers=auth)
    assert response.get_json()["following"] is True
    social.follow_user(bob, "alice")
    for query in (f"id={bob.id}", f"id[]={bob.id}&id[]=999"):
        (rel,) = client.get(f"/api/v1/accounts/relationships?{query}", headers=auth).get_json()
        assert rel == rel | {"id": str(bob.id), "following": True, "followed_by": True}
    account = client.get(f"/api/v1/accounts/{bob.id}", headers=auth).get_json()
    assert (account["followers_count"], account["following_count"]) == (1, 1)
    client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=auth)
    client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=auth)  # twice changes nothing more
    assert client.get(f"/api/v1/accounts/{bob.id}", headers=auth).get_json()["followers_count"] == 0
    followers = client.get(f"/api/v1/accounts/{alice.id}/followers", headers=auth).get_json()
    assert [a["username"] for a in followers] == ["bob"]


def test_tags_follow_and_show_in_home(client, alice, bob, auth):
    assert (
        client.post("/api/v1/tags/Apollo/follow", headers=auth).get_json()
        == client.get("/api/v1/tags/apollo", headers=auth).get_json()
    )
    assert [t["name"] for t in client.get("/api/v1/followed_tags", headers=auth).get_json()] == ["apollo"]
    make_post(bob, "Deployed #apollo")
    home = client.get("/api/v1/timelines/home", headers=auth).get_json()
    assert [s["text"] for s in home] == ["Deployed #apollo"]
    assert client.post("/api/v1/tags/never-used/unfollow", headers=auth).get_json()["following"] is False
    assert client.post("/api/v1/tags/!!/follow", headers=auth).status_code == 422


def test_notifications_filter_by_type_and_are_not_marked_seen(client, alice, bob, auth):
    post = make_post(alice, "hello")
    make_post(bob, "@alice hi")
    client_bob = make_token(bob)
    client.post(f"/api/v1/statuses/{post.id}/favourite", headers=client_bob)
    all_types = client.get("/api/v1/notifications", headers=auth).get_json()
    assert [n["type"] for n in all_types] == ["favourite", "mention"]
    only = client.get("/api/v1/notifications?types[]=mention", headers=auth).get_json()
    assert [n["type"] for n in only] == ["mention"] and only[0]["status"]["text"] == "@alice hi"
    one = client.get(f"/api/v1/notifications/{only[0]['id']}", headers=auth).get_json()
    assert one["id"] == only[0]["id"]
    assert client.get(f"/api/v1/notifications/{only[0]['id']}", headers=client_bob).status_code == 404
    assert alice.notifications_seen_id == 0


def test_context_lists_ancestors_and_descendants(client, alice, bob, auth):
    root = make_post(alice, "root")
    middle = make_post(bob, "middle", in_reply_to=root.id)
    leaf = make_post(alice, "leaf", in_reply_to=middle.id)
    side = make_post(bob, "side", in_reply_to=root.id)
    context = client.get(f"/api/v1/statuses/{middle.id}/context", headers=auth).get_json()
    assert [s["id"] for s in context["ancestors"]] == [str(root.id)]
    assert [s["id"] for s in context["descendants"]] == [str(leaf.id)]
    whole = client.get(f"/api/v1/statuses/{root.id}/context", headers=auth).get_json()
    assert [s["id"] for s in whole["descendants"]] == [str(middle.id), str(leaf.id), str(side.id)]
    assert whole["descendants"][1]["mentions"][0]["username"] == "bob"


def test_search_v2_finds_posts_people_and_tags(app, client, alice, auth):
    import search

    make_user("bob.builder", display_name="Bob Builder")
    make_post(alice, "Kubernetes upgrade done #platform")
    search.drain()
    found = client.get("/api/v2/search?q=kubernetes", headers=auth).get_json()
    assert [s["text"] for s in found["statuses"]] == ["Kubernetes upgrade done #platform"]
    people = client.get("/api/v2/search?q=builder&type=accounts", headers=auth).get_json()
    assert [a["username"] for a in people["accounts"]] == ["bob.builder"] and people["statuses"] == []
    tags = client.get("/api/v2/search?q=%23platform&type=hashtags", headers=auth).get_json()
    assert [t["name"] for t in tags["hashtags"]] == ["platform"]
    assert client.get("/api/v2/search?q=x&type=nonsense", headers=auth).status_code == 422


@pytest.mark.settings(API_RATE_LIMIT="3 per minute")
def test_api_requests_are_rate_limited_per_token_with_headers(app, alice):
    headers = make_token(alice)
    client = app.test_client()
    responses = [client.get("/api/v1/timelines/public", headers=headers) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "3"
    assert responses[2].headers["X-RateLimit-Remaining"] == "0"
    assert int(responses[3].headers["X-RateLimit-Reset"]) > 0
    assert 0 < int(responses[3].headers["Retry-After"]) <= 60 and "Retry-After" not in responses[0].headers
    assert responses[3].get_json()["error"]
    # Another token has its own allowance.
    other = make_token(alice)
    assert client.get("/api/v1/timelines/public", headers=other).status_code == 200


@pytest.mark.settings(API_RATE_LIMIT="10 per minute; 3 per hour")
def test_every_limit_of_the_api_rate_limit_holds(app, alice):
    headers = make_token(alice)
    client = app.test_client()
    responses = [client.get("/api/v1/timelines/public", headers=headers) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    # The shortest window is told while it allows; the one that refused, once one does.
    assert responses[0].headers["X-RateLimit-Limit"] == "10"
    refused = responses[3].headers
    assert refused["X-RateLimit-Limit"] == "3" and refused["X-RateLimit-Remaining"] == "0"
    assert 60 < int(refused["Retry-After"]) <= 3600


def test_an_api_rate_limit_that_is_no_limit_stops_the_start(config):
    from microblog import create_app

    config.API_RATE_LIMIT = "as many as you like"
    with pytest.raises(ValueError, match="MICROBLOG_API_RATE_LIMIT"):
        create_app(config)


@pytest.mark.settings(API_RATE_LIMIT="5 per minute")
def test_one_allowance_per_token_covers_every_endpoint(app, alice):
    headers = make_token(alice)
    client = app.test_client()
    paths = [
        "/api/v1/timelines/public",
        "/api/v1/timelines/home",
        "/api/v1/accounts/verify_credentials",
        "/api/v1/notifications",
        "/api/v1/instance",
        "/api/v1/timelines/tag/apollo",
    ]
    assert [client.get(path, headers=headers).status_code for path in paths] == [200] * 5 + [429]
    # A write on yet another endpoint is refused too, and nothing is written.
    refused = client.post("/api/v1/statuses", data={"status": "one more"}, headers=headers)
    assert refused.status_code == 429
    assert client.get("/api/v1/instance").status_code == 200  # anonymous: the address's own allowance


@pytest.mark.settings(API_RATE_LIMIT="20 per minute")
def test_made_up_tokens_count_against_the_address(app):
    client = app.test_client()
    statuses = [
        client.get(
            "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer guess-{i}"}
        ).status_code
        for i in range(30)
    ]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    # ... and a made-up token cannot open a fresh allowance for the address's other requests.
    registered = client.post(
        "/api/v1/apps",
        data={"client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        headers={"Authorization": "Bearer another-guess"},
    )
    assert registered.status_code == 429
    assert client.get("/api/v1/instance").status_code == 429


def test_four_hundred_guessed_tokens_meet_a_429_under_the_default_limit(client):
    statuses = {
        client.get("/api/v1/timelines/home", headers={"Authorization": f"Bearer guess-{i}"}).status_code
        for i in range(400)
    }
    assert statuses == {401, 429}


def test_a_home_page_costs_one_feed_query_whatever_its_size(
    client, alice, bob, auth, count_queries, monkeypatch
):
    from microblog.services import kept_homes

    # PostgreSQL: which post ids are settled is asked at most every SETTLE_EVERY (50 ms), by whichever
    # read comes then; on a slow machine that was one of the pages counted here, not the first request.
    monkeypatch.setattr(kept_homes, "SETTLE_EVERY", 3600.0)
    social.follow_user(alice, "bob")
    for i in range(15):
        make_post(bob, f"update {i} #apollo @alice")
    client.get("/api/v1/timelines/home?limit=1", headers=auth)  # the token's last use is recorded once
    db.session.expunge_all()  # as in a new request's session: the reader is not loaded
    with count_queries() as small:
        client.get("/api/v1/timelines/home?limit=2", headers=auth)
    db.session.expunge_all()
    with count_queries() as large:
        assert len(client.get("/api/v1/timelines/home?limit=15", headers=auth).get_json()) == 15
    # The page alone: the token is remembered (services.grants), and its user needs no load.
    assert small.count == large.count == 1


def test_a_wrong_method_says_which_are_allowed(client):
    response = client.put("/api/v1/timelines/home")
    assert response.status_code == 405 and response.get_json()["error"]
    assert "GET" in response.headers["Allow"]


def test_nodeinfo_names_microblog_and_mastodon_s_client_api(client, alice):
    # megalodon's detector() reads it to tell what kind of server it talks to.
    links = client.get("/.well-known/nodeinfo")
    assert links.status_code == 200
    (link,) = links.get_json()["links"]
    assert link["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.0"
    info = client.get(link["href"].removeprefix("http://localhost")).get_json()
    assert info["version"] == "2.0" and info["software"]["name"] == "microblog"
    assert info["metadata"]["upstream"] == {"name": "mastodon", "version": "4.3.0"}
    assert info["usage"]["users"]["total"] == 1 and info["openRegistrations"] is False
