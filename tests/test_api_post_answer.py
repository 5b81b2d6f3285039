"""POST /api/v1/statuses answers with the post as announced, which is the post as its writer reads it next."""

from __future__ import annotations

import pytest

from microblog.services import posts, tokens
from tests.factories import make_community, make_post, make_team, make_token, make_user
from tests.test_media import picture, upload


def _posted_and_read(client, auth, **form):
    answer = client.post("/api/v1/statuses", data=form, headers=auth)
    assert answer.status_code == 200, answer.json
    read = client.get(f"/api/v1/statuses/{answer.json['id']}", headers=auth)
    assert read.status_code == 200
    return answer.json, read.json


@pytest.mark.parametrize(
    "text",
    [
        "Plain status",
        "@bob @it-support #kontor Flytter vi på fredag? #spørsmål",
        "@engineering Inside a public community",
        "@secret-room Inside a private community, members only",
    ],
)
def test_the_answer_is_the_status_as_read_back(app, client, alice, bob, text):
    make_team("it-support", members=(bob,))
    make_community(bob, "engineering", members=(alice,))
    make_community(bob, "secret-room", private=True, members=(alice,))
    auth = make_token(alice)
    answer, read = _posted_and_read(client, auth, status=text)
    assert answer == read
    assert answer["content"] and answer["account"]["username"] == "alice"


def test_a_reply_with_images_answers_as_read_back(app, client, alice, bob):
    parent = make_post(bob, "Slides, anyone? #møte")
    auth = make_token(alice)
    media_id = upload(client, auth, picture(), description="The first slide").json["id"]
    answer, read = _posted_and_read(
        client,
        auth,
        status="@bob Here they are",
        in_reply_to_id=str(parent.id),
        **{"media_ids[]": [media_id]},
    )
    assert answer == read
    assert answer["in_reply_to_id"] == str(parent.id)
    assert [m["description"] for m in answer["media_attachments"]] == ["The first slide"]


def test_a_team_s_post_answers_as_the_team_reads_it(app, client, alice):
    team = make_team("hr", members=(alice,))
    _, value = tokens.issue_team_token(None, team, alice, "read write")
    answer, read = _posted_and_read(
        client, {"Authorization": f"Bearer {value}"}, status="Office closed Friday"
    )
    assert answer == read
    assert answer["account"]["username"] == "hr"


def test_a_retry_answers_with_the_first_post_as_it_is_now(app, client, alice):
    carol = make_user("carol")
    auth = {**make_token(alice), "Idempotency-Key": "deploy-41"}
    first = client.post("/api/v1/statuses", data={"status": "Deploy 41 done"}, headers=auth).json
    client.post(f"/api/v1/statuses/{first['id']}/favourite", headers=make_token(carol))
    again = client.post("/api/v1/statuses", data={"status": "Deploy 41 done"}, headers=auth)
    assert again.status_code == 200
    assert again.json["id"] == first["id"]
    assert again.json["favourites_count"] == 1  # read afresh, not the first request's answer


def test_a_retry_of_a_post_this_session_still_holds_is_read_afresh(app, client, alice):
    carol = make_user("carol")
    first = posts.post_status(alice, "Deploy 42 done", idempotency_key="deploy-42")  # kept in the session
    client.post(f"/api/v1/statuses/{first.id}/favourite", headers=make_token(carol))
    auth = {**make_token(alice), "Idempotency-Key": "deploy-42"}
    again = client.post("/api/v1/statuses", data={"status": "Deploy 42 done"}, headers=auth)
    assert again.status_code == 200
    assert again.json["id"] == str(first.id)
    assert again.json["favourites_count"] == 1
