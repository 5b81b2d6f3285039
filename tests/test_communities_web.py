"""Communities in the web UI: directory, creation, the community page, joining, what admins do."""

import re

import pytest
from sqlalchemy import func, select

from microblog.database import db
from microblog.services import accounts, communities
from models import Community, CommunityAdmin, Follow, FollowRequest, Notification, Post, User

from .factories import login, make_community, make_post, make_user


def _count(model) -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(func.count()).select_from(model))


def _member(user: User, community: User) -> bool:
    db.session.rollback()
    return db.session.get(Follow, (user.id, community.id)) is not None


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_the_directory_lists_searches_and_pages_communities(client, alice, bob):
    make_community(alice, "apollo", name="Apollo", members=(bob,))
    make_community(alice, "leaders", name="Leaders", private=True)
    communities.set_official(None, communities.access_community("apollo"), True)
    communities.set_archived(None, communities.access_community("leaders"), True)
    login(client, "bob")
    page = _html(client.get("/communities"))
    assert "Apollo" in page and "@apollo" in page and "The apollo team" in page and "2 members" in page
    assert "Official" in page and "Private" in page and "Archived" in page and "Public" in page
    assert 'href="/communities/new"' in page  # everyone may create by default
    assert "Your communities" in page
    found = _html(client.get("/communities?q=lead"))
    assert "Leaders" in found and '<span class="handle">@apollo</span>' not in found
    assert "No community matches" in _html(client.get("/communities?q=nothing-like-it"))
    assert 'href="/communities"' in _html(client.get("/"))  # the site navigation links to it


def test_the_directory_pages_with_an_after_cursor(client, alice):
    for i in range(communities.LIST_LIMIT + 1):
        make_community(alice, f"team{i:02d}")
    login(client, "alice")
    first = _html(client.get("/communities"))
    handle = '<span class="handle">@{}</span>'.format
    assert handle("team00") in first and handle("team40") not in first and "after=team39" in first
    second = _html(client.get("/communities?after=team39"))
    assert handle("team40") in second and handle("team00") not in second


@pytest.mark.settings(COMMUNITY_CREATION="admins")
def test_only_administrators_create_communities_when_so_configured(client, admin, alice):
    login(client, "alice")
    assert 'href="/communities/new"' not in _html(client.get("/communities"))
    response = client.post("/communities/new", data={"handle": "apollo", "name": "Apollo"})
    assert response.status_code == 403 and _count(Community) == 0
    client.post("/logout")
    login(client, "root")
    assert 'href="/communities/new"' in _html(client.get("/communities"))


def test_creating_a_private_community(client, alice):
    login(client, "alice")
    assert client.get("/communities/new").status_code == 200
    response = client.post(
        "/communities/new",
        data={"handle": "Leaders", "name": "Leaders", "description": "Managers", "visibility": "private"},
    )
    assert response.status_code == 302 and response.location == "/@leaders"
    leaders = communities.access_community("leaders")
    assert leaders.locked and leaders.display_name == "Leaders" and leaders.bio == "Managers"
    assert communities.is_admin(alice, leaders) and communities.is_member(alice, leaders)
    page = _html(client.get("/@leaders"))
    assert "Leaders" in page and "Private" in page and "You are an admin" in page
    assert 'value="@leaders "' not in page and ">@leaders </textarea>" in page  # the composer addresses it


def test_creation_errors_stand_beside_their_fields_and_keep_the_text(client, alice, bob):
    login(client, "alice")
    response = client.post("/communities/new", data={"handle": "bob", "name": "Bob's", "description": "kept"})
    assert response.status_code == 409
    assert "That handle is taken: people, communities and teams share one namespace." in _html(response)
    assert 'value="Bob&#39;s"' in _html(response) and "kept</textarea>" in _html(response)
    response = client.post("/communities/new", data={"handle": "x", "name": "Apollo"})
    assert response.status_code == 422 and "2-30 characters" in _html(response)
    response = client.post("/communities/new", data={"handle": "apollo", "name": "  "})
    assert response.status_code == 422 and "Give the community a name" in _html(response)
    response = client.post("/communities/new", data={"handle": "apollo", "name": "A", "visibility": "secret"})
    assert response.status_code == 422 and "Not a valid choice" in _html(response)
    assert _count(Community) == 0


def test_joining_and_leaving_a_public_community(client, alice, bob):
    apollo = make_community(alice, "apollo")
    make_post(alice, "@apollo kickoff at ten")
    login(client, "bob")
    page = _html(client.get("/@apollo"))
    assert "kickoff at ten" in page and 'action="/@apollo/join"' in page and ">Join</button>" in page
    assert "composer-text" not in page  # non-members read, members post
    response = client.post("/@apollo/join", data={"next": "/@apollo"})
    assert response.status_code == 302 and response.location == "/@apollo" and _member(bob, apollo)
    page = _html(client.get("/@apollo"))
    assert ">Leave</button>" in page and "composer-text" in page and "You are a member" in page
    response = client.post("/posts", data={"text": "@apollo hello team", "next": "/@apollo"})
    assert response.status_code == 302
    assert db.session.scalar(select(Post.community_id).where(Post.text == "@apollo hello team")) == apollo.id
    client.post("/@apollo/leave")
    assert not _member(bob, apollo)


def test_a_private_community_shows_non_members_neither_posts_nor_members(client, alice, bob):
    make_user("carol", display_name="Carol Secret-Member")
    carol = db.session.scalar(select(User).where(User.username == "carol"))
    make_community(alice, "leaders", private=True, members=(carol,))
    make_post(alice, "@leaders the reorg is confidential")
    login(client, "bob")
    response = client.get("/@leaders")
    page = _html(response)
    assert response.status_code == 200
    assert "This community is private: its posts are for its members only." in page
    assert "confidential" not in page
    assert "Carol Secret-Member" not in page and "/@carol" not in page
    assert ">Request to join</button>" in page
    assert "confidential" not in _html(client.get("/@leaders?fragment=1&min_id=0"))
    assert client.get("/@leaders/followers").status_code == 403  # the member list too
    for path in ("/", "/public", "/@alice", "/search?q=reorg"):
        assert "confidential" not in _html(client.get(path)), path


def test_a_join_request_is_notified_accepted_and_the_post_names_its_community(client, app, alice, bob):
    leaders = make_community(alice, "leaders", private=True)
    make_post(alice, "@leaders budget draft")
    login(client, "bob")
    client.post("/@leaders/join")
    assert not _member(bob, leaders) and _count(FollowRequest) == 1
    page = _html(client.get("/@leaders"))
    assert ">Cancel request</button>" in page and "You asked to join" in page
    client.post("/logout")

    login(client, "alice")
    notes = _html(client.get("/notifications"))
    assert "@bob" in notes and "asks to join" in notes and 'href="/@leaders/manage#requests"' in notes
    assert 'Manage <span class="badge-count">1</span>' in _html(client.get("/@leaders"))
    manage = _html(client.get("/@leaders/manage"))
    assert 'action="/@leaders/requests/bob/accept"' in manage
    response = client.post("/@leaders/requests/bob/accept", data={"next": "/@leaders/manage"})
    assert response.status_code == 302 and _member(bob, leaders) and _count(FollowRequest) == 0
    client.post("/logout")

    login(client, "bob")
    assert "You are now a member of" in _html(client.get("/notifications"))
    home = _html(client.get("/"))
    assert "budget draft" in home and 'class="in-community"' in home and 'href="/@leaders"' in home
    assert "Private community" in home  # the lock beside its name
    # Its own page (and the posts live.js fetches to catch up) does not name it on every post.
    for path in ("/@leaders", "/@leaders?fragment=1"):
        shown = re.sub(
            r"<template data-post-template>.*?</template>", "", _html(client.get(path)), flags=re.S
        )
        assert "budget draft" in shown and 'class="in-community"' not in shown, path
    assert "Carol" not in home
    assert "Bob Berg" in _html(client.get("/@leaders/followers"))


def test_refusing_and_cancelling_requests(client, alice, bob):
    leaders = make_community(alice, "leaders", private=True)
    login(client, "bob")
    client.post("/@leaders/join")
    client.post("/@leaders/leave")  # cancel
    assert _count(FollowRequest) == 0
    client.post("/@leaders/join")
    client.post("/logout")
    login(client, "alice")
    assert client.post("/@leaders/requests/bob/refuse").status_code == 302
    assert _count(FollowRequest) == 0 and not _member(bob, leaders)
    assert client.post("/@leaders/requests/bob/accept").status_code == 404  # no request left


def test_admins_add_remove_and_appoint_members(client, alice, bob):
    apollo = make_community(alice, "apollo", private=True)
    make_user("carol")
    login(client, "alice")
    response = client.post("/@apollo/members", data={"username": "bob", "next": "/@apollo/manage"})
    assert response.status_code == 302 and _member(bob, apollo)
    response = client.post("/@apollo/members", data={"username": "nobody-here"})
    assert response.status_code == 404 and "nobody-here" in _html(response)
    response = client.post("/@apollo/members", data={"username": "apollo"})
    assert response.status_code == 422 and "cannot be a member" in _html(response)
    assert client.post("/@apollo/members/bob/make-admin").status_code == 302
    assert _count(CommunityAdmin) == 2
    assert client.post("/@apollo/members/bob/unmake-admin").status_code == 302
    assert _count(CommunityAdmin) == 1
    response = client.post("/@apollo/members/carol/make-admin")
    assert response.status_code == 422 and "not a member" in _html(response)
    assert client.post("/@apollo/members/bob/remove").status_code == 302 and not _member(bob, apollo)


def test_non_admins_cannot_manage(client, alice, bob):
    make_community(alice, "apollo", members=(bob,))
    login(client, "bob")
    assert client.get("/@apollo/manage").status_code == 403
    paths = ("/@apollo/members/alice/remove", "/@apollo/archive", "/@apollo/official", "/@apollo/take-over")
    for path in paths:
        assert client.post(path).status_code == 403, path
    response = client.post("/@apollo/members", data={"username": "bob"})
    assert response.status_code == 403
    response = client.post("/@apollo/manage", data={"name": "Mine now", "description": ""})
    assert response.status_code == 403
    db.session.rollback()
    assert communities.access_community("apollo").display_name == "Apollo" and _count(CommunityAdmin) == 1


def test_editing_and_archiving(client, alice, bob):
    apollo = make_community(alice, "apollo", members=(bob,))
    login(client, "alice")
    response = client.post("/@apollo/manage", data={"name": "Apollo Program", "description": "To the moon"})
    assert response.status_code == 302
    db.session.rollback()
    assert apollo.display_name == "Apollo Program" and apollo.bio == "To the moon"
    response = client.post("/@apollo/manage", data={"name": "", "description": "kept text"})
    assert response.status_code == 422 and "Give the community a name" in _html(response)
    assert "kept text</textarea>" in _html(response)
    assert client.post("/@apollo/archive").status_code == 302
    page = _html(client.get("/@apollo"))
    assert "archived: it is read-only" in page and "composer-text" not in page
    response = client.post("/posts", data={"text": "@apollo still here?"})
    assert response.status_code == 422 and _count(Post) == 0
    assert client.post("/@apollo/reopen").status_code == 302
    assert communities.details(apollo).archived_at is None


def test_the_last_admin_cannot_leave_and_is_told_why(client, alice, bob):
    apollo = make_community(alice, "apollo", members=(bob,))
    login(client, "alice")
    response = client.post("/@apollo/leave")
    assert response.status_code == 422 and "Appoint another admin" in _html(response)
    assert _member(alice, apollo)
    response = client.post("/@apollo/members/alice/unmake-admin")
    assert response.status_code == 422 and "Appoint another admin" in _html(response)


def test_site_administrators_mark_official_and_take_over_orphans(client, admin, alice):
    apollo = make_community(alice, "apollo")
    login(client, "root")
    manage = _html(client.get("/@apollo/manage"))
    assert "Mark official" in manage and "Take over" not in manage and "Requests to join" not in manage
    assert client.post("/@apollo/official").status_code == 302
    assert communities.details(apollo).is_official
    assert "Official" in _html(client.get("/@apollo"))
    assert client.post("/@apollo/take-over").status_code == 422  # alice runs it
    accounts.set_active(admin, "alice", False)
    assert "Take over" in _html(client.get("/@apollo/manage"))
    assert client.post("/@apollo/take-over").status_code == 302
    assert communities.is_admin(admin, apollo)
    assert client.post("/@apollo/unofficial").status_code == 302
    assert not communities.details(apollo).is_official


def test_site_administrators_hand_an_orphaned_private_community_to_a_member(client, admin, alice, bob):
    leaders = make_community(alice, "leaders", private=True, members=(bob,))
    accounts.set_active(admin, "alice", False)
    login(client, "root")
    manage = _html(client.get("/@leaders/manage"))
    assert "Appoint one of its members" in manage and "@bob" not in manage  # no member list for them
    assert client.post("/@leaders/take-over").status_code == 422
    assert not communities.is_member(admin, leaders)
    assert client.post("/@leaders/take-over", data={"username": "bob"}).status_code == 302
    assert communities.is_admin(bob, leaders) and not communities.is_member(admin, leaders)


def test_unknown_communities_and_actions_are_not_found(client, alice):
    make_community(alice, "apollo")
    login(client, "alice")
    assert client.get("/@nothing").status_code == 404
    assert client.post("/@nothing/join").status_code == 404
    assert client.post("/@alice/join").status_code == 404  # a person is no community
    assert client.post("/@apollo/explode").status_code in (404, 405)
    assert client.post("/@apollo/members/nobody/remove").status_code == 404
    assert _count(Notification) == 0


def test_the_handle_help_and_the_taken_handle_name_teams_too_in_norwegian(client, alice, bob):
    login(client, "alice")
    accounts.update_preferences(alice, locale="nb", timezone="")
    assert "Personer, fellesskap og team deler navn" in _html(client.get("/communities/new"))
    response = client.post("/communities/new", data={"handle": "bob", "name": "Bob"})
    assert response.status_code == 409
    assert "Det @navnet er tatt: personer, fellesskap og team deler navn." in _html(response)
    assert _count(Community) == 0
