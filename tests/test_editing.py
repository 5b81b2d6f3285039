"""Editing posts: the post rule, history for whoever may see the post, mentions, search, streams, the web."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import realtime
import search
from microblog.database import db
from microblog.services import editing, social
from microblog.services.errors import NotFound, PermissionDenied
from models import Notification, Post, PostEdit

from .factories import login, make_community, make_post, make_team, make_token, make_user
from .test_realtime import events
from .test_search import ids


def _versions(post_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(PostEdit).where(PostEdit.post_id == post_id))


def test_an_author_fixes_a_typo_and_every_version_stays_readable(client, alice, bob):
    post = make_post(alice, "Standup moved to 10:30 in the big rooom #apollo")
    auth = make_token(alice)
    unedited = client.get(f"/api/v1/statuses/{post.id}/history", headers=make_token(bob)).get_json()
    assert len(unedited) == 1 and "rooom" in unedited[0]["content"]
    answer = client.put(
        f"/api/v1/statuses/{post.id}",
        data={"status": "Standup moved to 10:30 in the big room #apollo"},
        headers=auth,
    )
    assert answer.status_code == 200, answer.data
    status = answer.get_json()
    assert "big room" in status["content"] and status["text"].endswith("big room #apollo")
    assert status["edited_at"] is not None and status["edited_at"] >= status["created_at"]
    history = client.get(f"/api/v1/statuses/{post.id}/history", headers=make_token(bob)).get_json()
    assert ["rooom" in v["content"] for v in history] == [True, False]  # oldest first, the last is now
    assert (
        history[0]["created_at"] == status["created_at"] and history[1]["created_at"] == status["edited_at"]
    )
    assert history[0]["account"]["username"] == "alice"
    source = client.get(f"/api/v1/statuses/{post.id}/source", headers=auth).get_json()
    assert source == {
        "id": str(post.id),
        "text": "Standup moved to 10:30 in the big room #apollo",
        "spoiler_text": "",
    }
    # The same text again is no new version.
    client.put(f"/api/v1/statuses/{post.id}", json={"status": status["text"]}, headers=auth)
    assert _versions(post.id) == 2
    # Everyone reads the new text: timelines, the post page, its cached HTML.
    seen = client.get(f"/api/v1/statuses/{post.id}", headers=make_token(bob)).get_json()
    assert "big room" in seen["content"] and seen["edited_at"] == status["edited_at"]
    assert db.session.get(Post, post.id).html.count("big room") == 1


@pytest.mark.parametrize(
    "text", ["x" * 141, "   ", "bad \x07 bell"], ids=["too long", "empty", "control character"]
)
def test_an_edit_that_breaks_the_post_rule_changes_nothing(client, alice, text):
    post = make_post(alice, "Original text")
    answer = client.put(f"/api/v1/statuses/{post.id}", json={"status": text}, headers=make_token(alice))
    assert answer.status_code == 422
    db.session.expire_all()
    assert db.session.get(Post, post.id).text == "Original text" and _versions(post.id) == 0
    assert db.session.get(Post, post.id).edited_at is None


def test_only_the_author_edits_and_only_its_author_reads_the_source(client, alice, bob, admin):
    post = make_post(alice, "Mine")
    for who in (bob, admin):
        answer = client.put(
            f"/api/v1/statuses/{post.id}", json={"status": "Hijacked"}, headers=make_token(who)
        )
        assert answer.status_code == 403
        assert client.get(f"/api/v1/statuses/{post.id}/source", headers=make_token(who)).status_code == 404
    assert client.put(f"/api/v1/statuses/{post.id}", json={}, headers=make_token(alice)).status_code == 422
    assert (
        client.put("/api/v1/statuses/abc", json={"status": "x"}, headers=make_token(alice)).status_code == 404
    )
    assert (
        client.put(
            f"/api/v1/statuses/{post.id}", json={"status": "x"}, headers=make_token(alice, "read")
        ).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(Post, post.id).text == "Mine"


def test_a_team_member_edits_the_team_s_post(app, alice, bob):
    desk = make_team("desk", members=(alice,))
    post = make_post(desk, "We are on it", posted_by=alice)
    editing.edit_post(alice, post.id, "We are on it: 10 minutes")
    with pytest.raises(PermissionDenied):
        editing.edit_post(bob, post.id, "Not my team")
    assert db.session.get(Post, post.id).text == "We are on it: 10 minutes"


def test_a_private_post_s_history_is_for_its_members_only(client, alice, bob):
    make_community(alice, "ops", private=True, members=(bob,))
    post = make_post(alice, "@ops the root password is hunter2")
    editing.edit_post(alice, post.id, "@ops the root password is in the vault")
    assert len(client.get(f"/api/v1/statuses/{post.id}/history", headers=make_token(bob)).get_json()) == 2
    carol = make_user("carol")
    for path in (f"/api/v1/statuses/{post.id}/history", f"/api/v1/statuses/{post.id}/source"):
        assert client.get(path, headers=make_token(carol)).status_code == 404
    with pytest.raises(NotFound):
        editing.history(carol, post.id)
    login(client, "carol")
    page = client.get(f"/posts/{post.id}/history")
    assert page.status_code == 404 and "hunter2" not in page.get_data(as_text=True)


def test_a_post_cannot_be_edited_into_another_community(client, alice, bob):
    make_community(alice, "ops", private=True, members=(bob,))
    make_community(alice, "fun")
    public = make_post(alice, "Company-wide news")
    inside = make_post(alice, "@fun board games on Friday")
    auth = make_token(alice)
    for post, text in ((public, "@ops Company-wide news"), (inside, "@ops board games on Friday")):
        answer = client.put(f"/api/v1/statuses/{post.id}", json={"status": text}, headers=auth)
        assert answer.status_code == 422 and "@ops" in answer.get_json()["error"]
    db.session.expire_all()
    assert db.session.get(Post, public.id).community_id is None
    # Within its own community, or dropping the handle: the post stays where it was.
    editing.edit_post(alice, inside.id, "board games on Friday, 17:00")
    assert db.session.get(Post, inside.id).community_id is not None


def test_only_people_newly_mentioned_are_notified(app, alice, bob):
    carol, dave = make_user("carol"), make_user("dave")
    post = make_post(alice, "Thanks @bob for the review")
    editing.edit_post(alice, post.id, "Thanks @bob and @carol for the review")
    editing.edit_post(alice, post.id, "Thanks @bob for the review")  # carol out...
    editing.edit_post(alice, post.id, "Thanks @bob, @carol and @dave for the review")  # ...and back
    told = db.session.execute(
        select(Notification.user_id, func.count())
        .where(Notification.post_id == post.id)
        .group_by(Notification.user_id)
    ).all()
    assert dict(told) == {bob.id: 1, carol.id: 1, dave.id: 1}


def test_a_newly_mentioned_colleague_outside_a_private_community_is_not_told(app, alice, bob):
    make_community(alice, "ops", private=True, members=(bob,))
    post = make_post(alice, "@ops rollout tonight")
    outsider = make_user("carol")
    editing.edit_post(alice, post.id, "@ops rollout tonight, @carol @bob")
    recipients = set(db.session.scalars(select(Notification.user_id).where(Notification.post_id == post.id)))
    assert recipients == {bob.id} and outsider.id not in recipients


def test_search_and_tags_follow_the_edit(client, alice, bob):
    post = make_post(alice, "Deploy window on Tuesday #apollo")
    search.drain()
    editing.edit_post(alice, post.id, "Deploy window on Thursday #zeus")
    search.drain()
    assert ids("Thursday") == [post.id] and ids("Tuesday") == []
    auth = make_token(bob)
    assert [s["id"] for s in client.get("/api/v1/timelines/tag/zeus", headers=auth).get_json()] == [
        str(post.id)
    ]
    assert client.get("/api/v1/timelines/tag/apollo", headers=auth).get_json() == []


def test_status_update_reaches_every_stream_that_carried_the_post(app, alice, bob):
    social.follow_user(bob, "alice")
    post = make_post(alice, "Coffee at 3 #apollo")
    http = app.test_client()
    login(http, "bob")
    sio = realtime.socketio.test_client(app, flask_test_client=http)
    sio.emit("subscribe", {"stream": "hashtag", "tag": "apollo"})
    sio.get_received()
    editing.edit_post(alice, post.id, "Coffee at 4 #zeus")
    updates = events(sio, "status.update")
    assert sorted(tuple(e["stream"]) for e in updates) == [("hashtag", "apollo"), ("user",)]
    assert all("Coffee at 4" in e["payload"]["content"] and e["payload"]["edited_at"] for e in updates)
    sio.disconnect()


def test_edit_from_the_web_and_see_every_version(alice_client, alice, bob):
    post = make_post(alice, "Lunch at 12 in the canteen")
    other = make_post(bob, "Bob's post")
    home = alice_client.get("/").get_data(as_text=True)
    assert f"/posts/{post.id}/edit" in home and f"/posts/{other.id}/edit" not in home
    form = alice_client.get(f"/posts/{post.id}/edit?next=/")
    assert form.status_code == 200 and "Lunch at 12 in the canteen" in form.get_data(as_text=True)
    refused = alice_client.post(f"/posts/{post.id}/edit", data={"text": "x" * 141, "next": "/"})
    assert refused.status_code == 422 and "140" in refused.get_data(as_text=True)
    saved = alice_client.post(
        f"/posts/{post.id}/edit", data={"text": "Lunch at 12:30 in the canteen", "next": "/"}
    )
    assert saved.status_code == 302 and saved.headers["Location"] == "/"
    home = alice_client.get("/").get_data(as_text=True)
    assert "Lunch at 12:30" in home and f'href="/posts/{post.id}/history"' in home
    history = alice_client.get(f"/posts/{post.id}/history").get_data(as_text=True)
    assert history.index("Lunch at 12:30") < history.index("Lunch at 12 in")  # newest first
    assert alice_client.get(f"/posts/{other.id}/edit").status_code == 404
    assert alice_client.post(f"/posts/{other.id}/edit", data={"text": "mine now"}).status_code == 404


def test_the_team_sees_which_member_wrote_each_version_of_its_post(client, alice, bob):
    carol = make_user("carol")
    desk = make_team("desk", members=(alice, carol))
    post = make_post(desk, "Printer fixed", posted_by=alice)
    editing.edit_post(carol, post.id, "Printer fixed on floor 3")
    login(client, "alice")
    page = client.get(f"/posts/{post.id}/history").get_data(as_text=True)
    assert page.count("data-editor") == 2
    assert page.index("by @carol") < page.index("by @alice")  # newest first
    client.post("/logout")
    login(client, "bob")  # not on the team: the versions, not who wrote them
    page = client.get(f"/posts/{post.id}/history").get_data(as_text=True)
    assert "Printer fixed on floor 3" in page and "data-editor" not in page
