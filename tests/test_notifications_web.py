"""The notifications page: reading changes nothing; a POST from the page marks what it showed as seen."""

from __future__ import annotations

import re

from microblog.database import db
from microblog.services import notifications, social
from models import User

from .factories import login, make_post


def _badge(client) -> int:
    return client.get("/notifications/unread").get_json()["count"]


def test_opening_the_page_shows_the_new_ones_and_changes_nothing(client, alice, bob):
    make_post(bob, "@alice lunch?")
    social.follow_user(bob, "alice")
    login(client, "alice")
    for _ in range(2):  # a prefetch, a reload, a crawler: reading twice is reading
        page = client.get("/notifications")
        assert page.status_code == 200
        assert page.data.decode().count('class="notification unread"') == 2
    assert _badge(client) == 2
    assert db.session.get(User, alice.id).notifications_seen_id == 0


def test_the_pages_post_marks_what_it_showed_as_seen(client, alice, bob):
    make_post(bob, "@alice first")
    login(client, "alice")
    page = client.get("/notifications").data.decode()
    shown = int(re.search(r'name="up_to" value="(\d+)"', page).group(1))
    make_post(bob, "@alice arrived after the page was shown")
    answer = client.post("/notifications/seen", data={"up_to": shown}, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.get_json() == {"seen_id": str(shown), "unread": 1}
    assert _badge(client) == 1  # what came later is still new
    assert client.post("/notifications/seen", data={"up_to": 10**12}).status_code == 302  # the button
    assert _badge(client) == 0
    assert 'name="up_to"' not in client.get("/notifications").data.decode()  # nothing left to mark


def test_the_mark_never_moves_back_nor_onto_someone_elses_notifications(client, alice, bob, admin):
    make_post(bob, "@alice one")
    make_post(bob, "@root for the admin")
    login(client, "alice")
    mine = notifications.list_notifications(alice)
    client.post("/notifications/seen", data={"up_to": mine[0].id})
    theirs = notifications.list_notifications(admin)[0].id
    assert theirs > mine[0].id
    client.post("/notifications/seen", data={"up_to": theirs})  # past alice's newest: clamps to it
    assert db.session.get(User, alice.id).notifications_seen_id == mine[0].id
    client.post("/notifications/seen", data={"up_to": 1})
    assert db.session.get(User, alice.id).notifications_seen_id == mine[0].id


def test_a_bad_mark_is_refused_and_changes_nothing(client, alice, bob):
    make_post(bob, "@alice hello")
    login(client, "alice")
    for bad in ("yesterday", "-5", "1e9", "9" * 40, "１", "+5", " 5", "5_0", ""):
        response = client.post("/notifications/seen", data={"up_to": bad})
        assert response.status_code == 422, bad
    assert _badge(client) == 1


def test_marking_needs_a_login(client):
    response = client.post("/notifications/seen", data={"up_to": 1})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
