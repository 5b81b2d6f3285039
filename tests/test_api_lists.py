"""Lists and saved searches through Mastodon's lists API: status codes, stored state, paging, privacy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from microblog.database import db
from microblog.services import lists, social
from models import ListAccount, TimelineList

from .factories import make_community, make_hit, make_post, make_token, make_user


@pytest.fixture
def auth(alice):
    return make_token(alice)


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_create_show_update_and_delete_a_list_of_accounts(client, alice, auth):
    created = client.post(
        "/api/v1/lists", data={"title": "Team", "replies_policy": "followed", "exclusive": "1"}, headers=auth
    )
    assert created.status_code == 200, created.get_json()
    body = created.get_json()
    assert body == {
        "id": body["id"],
        "title": "Team",
        "replies_policy": "followed",
        "exclusive": True,
        "saved_search": None,
    }
    assert client.get(f"/api/v1/lists/{body['id']}", headers=auth).get_json() == body
    updated = client.put(
        f"/api/v1/lists/{body['id']}", json={"title": "Crew", "exclusive": False}, headers=auth
    )
    assert updated.status_code == 200
    assert (updated.get_json()["title"], updated.get_json()["exclusive"]) == ("Crew", False)
    assert updated.get_json()["replies_policy"] == "followed"  # what was not sent stays
    assert [x["title"] for x in client.get("/api/v1/lists", headers=auth).get_json()] == ["Crew"]
    deleted = client.delete(f"/api/v1/lists/{body['id']}", headers=auth)
    assert (deleted.status_code, deleted.get_json()) == (200, {})
    assert _count(TimelineList) == 0
    assert client.get(f"/api/v1/lists/{body['id']}", headers=auth).status_code == 404


def test_a_search_title_makes_a_saved_search_with_its_query_as_title(client, alice, bob, auth):
    created = client.post("/api/v1/lists", json={"title": "search: release #apollo"}, headers=auth).get_json()
    assert created["title"] == "release #apollo"
    assert created["saved_search"] == {
        "query": "release #apollo",
        "unread_count": 0,
        "last_read_id": "0",
        "in_home": False,
        "notify": False,
    }
    again = client.post("/api/v1/lists", data={"title": "search: Release #apollo"}, headers=auth).get_json()
    assert again["id"] == created["id"]  # the same search once
    saved = db.session.get(TimelineList, int(created["id"]))
    for n in range(2):
        make_hit(saved, make_post(bob, f"release {n} #apollo"))
    listed = client.get("/api/v1/lists", headers=auth).get_json()
    assert [x["saved_search"]["unread_count"] for x in listed] == [2]
    changed = client.put(
        f"/api/v1/lists/{created['id']}",
        data={"title": "gemini", "in_home": "true", "notify": "1"},
        headers=auth,
    ).get_json()
    assert (changed["title"], changed["saved_search"]["in_home"], changed["saved_search"]["notify"]) == (
        "gemini",
        True,
        True,
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": {"x": 1}},
        {"title": ["a"]},
        {"title": "x" * 201},
        {"title": "search: "},
        {"title": "search: -draft"},
        {"title": "Team", "replies_policy": "all"},
        {"title": "Team", "exclusive": "maybe"},
        {"title": "Team", "exclusive": {"x": 1}},
    ],
)
def test_bad_input_is_a_422_that_stores_nothing(client, alice, auth, body):
    response = client.post("/api/v1/lists", json=body, headers=auth)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]
    assert _count(TimelineList) == 0


def test_others_lists_and_bad_ids_are_not_found(client, alice, bob, auth):
    bobs = lists.create_list(bob, "Bob's")
    make_post(bob, "bob")
    for list_id in (str(bobs.id), "x", "0", "-1", "9" * 30, "%EF%BC%91"):
        for method, path in [
            ("GET", f"/api/v1/lists/{list_id}"),
            ("PUT", f"/api/v1/lists/{list_id}"),
            ("DELETE", f"/api/v1/lists/{list_id}"),
            ("GET", f"/api/v1/lists/{list_id}/accounts"),
            ("POST", f"/api/v1/lists/{list_id}/accounts"),
            ("DELETE", f"/api/v1/lists/{list_id}/accounts"),
            ("GET", f"/api/v1/timelines/list/{list_id}"),
        ]:
            response = client.open(
                path, method=method, data={"title": "Mine", "account_ids[]": "1"}, headers=auth
            )
            assert response.status_code == 404, (method, path, response.get_json())
    db.session.refresh(bobs)
    assert bobs.title == "Bob's"


def test_scopes_are_read_lists_and_write_lists(client, alice):
    reader, writer = make_token(alice, "read:lists"), make_token(alice, "write:lists")
    assert client.post("/api/v1/lists", data={"title": "T"}, headers=reader).status_code == 403
    assert client.post("/api/v1/lists", data={"title": "T"}, headers=writer).status_code == 200
    assert client.get("/api/v1/lists", headers=writer).status_code == 403
    assert client.get("/api/v1/lists", headers=reader).status_code == 200
    statuses = make_token(alice, "read:statuses")
    assert client.get("/api/v1/lists", headers=statuses).status_code == 403
    assert client.get("/api/v1/lists").status_code == 401


def test_accounts_are_added_and_removed_as_form_json_or_query(client, alice, bob, auth):
    carol, dave = make_user("carol"), make_user("dave")
    for name in ("bob", "carol"):
        social.follow_user(alice, name)
    team = client.post("/api/v1/lists", data={"title": "Team"}, headers=auth).get_json()["id"]
    url = f"/api/v1/lists/{team}/accounts"
    refused = client.post(url, data={"account_ids[]": [str(bob.id), str(dave.id)]}, headers=auth)
    assert refused.status_code == 422 and "Follow @dave" in refused.get_json()["error"]
    assert _count(ListAccount) == 0
    assert client.post(url, data={"account_ids[]": [str(bob.id)]}, headers=auth).get_json() == {}
    assert client.post(url, json={"account_ids": [carol.id]}, headers=auth).status_code == 200
    members = client.get(url, headers=auth).get_json()
    assert [a["username"] for a in members] == ["carol", "bob"]
    lists_of_bob = client.get(f"/api/v1/accounts/{bob.id}/lists", headers=auth).get_json()
    assert [x["id"] for x in lists_of_bob] == [team]
    assert client.get(f"/api/v1/accounts/{dave.id}/lists", headers=auth).get_json() == []
    assert client.get("/api/v1/accounts/99999/lists", headers=auth).status_code == 404
    removed = client.delete(url, data={"account_ids[]": str(bob.id)}, headers=auth)  # a form body on DELETE
    assert (removed.status_code, removed.get_json()) == (200, {})
    assert client.delete(f"{url}?account_ids[]={carol.id}", headers=auth).status_code == 200
    assert _count(ListAccount) == 0
    for bad in (
        {"account_ids": [{"x": 1}]},
        {"account_ids": []},
        {"account_ids": "x"},
        {"account_ids": True},
    ):
        assert client.post(url, json=bad, headers=auth).status_code in (404, 422), bad
    assert (
        client.post(url, data="[1]", headers=auth | {"Content-Type": "application/json"}).status_code == 422
    )
    saved = client.post("/api/v1/lists", data={"title": "search: apollo"}, headers=auth).get_json()["id"]
    no_accounts = client.post(f"/api/v1/lists/{saved}/accounts", data={"account_ids[]": bob.id}, headers=auth)
    assert no_accounts.status_code == 422
    assert client.get(f"/api/v1/lists/{saved}/accounts", headers=auth).get_json() == []


def test_list_accounts_are_paged_by_the_link_header_and_limit_0_is_all(client, alice, auth):
    people = [make_user(f"p{n}") for n in range(5)]
    for person in people:
        social.follow_user(alice, person.username)
    team = lists.create_list(alice, "Team")
    lists.add_accounts(alice, team.id, [p.id for p in people])
    first = client.get(f"/api/v1/lists/{team.id}/accounts?limit=2", headers=auth)
    assert [a["id"] for a in first.get_json()] == [str(people[4].id), str(people[3].id)]
    assert f"max_id={people[3].id}" in first.headers["Link"].split(",")[0]
    everyone = client.get(f"/api/v1/lists/{team.id}/accounts?limit=0", headers=auth)
    assert len(everyone.get_json()) == 5 and "Link" not in everyone.headers
    assert len(client.get(f"/api/v1/lists/{team.id}/accounts", headers=auth).get_json()) == 5  # 40 by default
    assert client.get(f"/api/v1/lists/{team.id}/accounts?max_id=x", headers=auth).status_code == 422


def test_a_list_timeline_pages_like_every_timeline(client, alice, bob, auth):
    saved = lists.save_search(alice, "apollo")
    ids = []
    for n in range(5):
        post = make_post(bob, f"apollo {n}")
        make_hit(saved, post)
        ids.append(post.id)
    first = client.get(f"/api/v1/timelines/list/{saved.id}?limit=2", headers=auth)
    assert [s["id"] for s in first.get_json()] == [str(ids[4]), str(ids[3])]
    links = first.headers["Link"]
    assert links.index('rel="next"') < links.index('rel="prev"')
    assert f"max_id={ids[3]}" in links.split(",")[0] and f"min_id={ids[4]}" in links.split(",")[1]
    assert f"/api/v1/timelines/list/{saved.id}" in links
    older = client.get(f"/api/v1/timelines/list/{saved.id}?limit=2&max_id={ids[3]}", headers=auth).get_json()
    assert [s["id"] for s in older] == [str(ids[2]), str(ids[1])]
    newer = client.get(f"/api/v1/timelines/list/{saved.id}?limit=2&min_id={ids[1]}", headers=auth).get_json()
    assert [s["id"] for s in newer] == [str(ids[3]), str(ids[2])]
    bad = client.get(f"/api/v1/timelines/list/{saved.id}?max_id=abc", headers=auth)
    assert bad.status_code == 422 and "max_id" in bad.get_json()["error"]


def test_a_list_timeline_shows_a_private_community_s_posts_to_members_only(client, alice, bob, auth):
    carol = make_user("carol")
    make_community(carol, "secret", private=True, members=(alice,))
    social.follow_user(alice, "carol")
    team = lists.create_list(alice, "Team")
    lists.add_accounts(alice, team.id, [carol.id])
    saved = lists.save_search(alice, "roadmap")
    inside = make_post(carol, "@secret roadmap")
    make_hit(saved, inside)
    for list_id in (team.id, saved.id):
        shown = client.get(f"/api/v1/timelines/list/{list_id}", headers=auth).get_json()
        assert [s["id"] for s in shown] == [str(inside.id)]
    social.unfollow_user(alice, "secret")
    for list_id in (team.id, saved.id):
        assert client.get(f"/api/v1/timelines/list/{list_id}", headers=auth).get_json() == []
    listed = client.get("/api/v1/lists", headers=auth).get_json()
    assert [x["saved_search"]["unread_count"] for x in listed if x["saved_search"]] == [0]
