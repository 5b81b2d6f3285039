"""A team's questions: the team accepts, its members' names stay inside, a team token stays in its team."""

from __future__ import annotations

from sqlalchemy import select

from microblog.database import db
from microblog.services import questions, tokens
from models import InboxItem, Notification, Post

from .factories import make_community, make_post, make_user


def _notes() -> list[tuple[int, int]]:
    rows = db.session.execute(
        select(Notification.user_id, Notification.actor_id).where(Notification.kind == "answer_accepted")
    )
    return sorted(tuple(row) for row in rows)


def test_a_member_accepting_for_the_team_is_named_as_the_team(support, alice, bob):
    carol = make_user("carol")
    question = make_post(support, "Which printer driver works for you? #question", posted_by=bob)
    answer = make_post(carol, "@it-support the generic one", in_reply_to=question.id)
    questions.accept_answer(alice, answer.id)
    # carol hears it from @it-support, not from alice; bob, who asked for the team, hears it too.
    assert _notes() == sorted([(carol.id, support.id), (bob.id, support.id)])


def test_the_member_who_wrote_a_team_s_answer_hears_it_was_accepted(support, bob):
    carol = make_user("carol")
    question = make_post(carol, "@it-support where are the VPN settings? #question")
    answer = make_post(support, "@carol under Settings → Network", in_reply_to=question.id, posted_by=bob)
    questions.accept_answer(carol, answer.id)
    assert _notes() == [(bob.id, carol.id)]


def test_a_team_token_accepts_for_its_team_only(client, support, alice, bob):
    _, value = tokens.issue_team_token(None, support, bob, "read write")
    headers = {"Authorization": f"Bearer {value}"}
    carol = make_user("carol")
    board = make_community(bob, "board", private=True, members=(carol,))
    own = make_post(bob, "Is the new badge reader in? #question")  # bob's own, not the team's
    own_reply = make_post(carol, "@bob yes", in_reply_to=own.id)
    private = make_post(carol, "@board who books the room? #question")
    private_reply = make_post(bob, "@carol I do", in_reply_to=private.id)
    assert board.locked
    assert client.post(f"/api/v1/statuses/{own_reply.id}/accept", headers=headers).status_code == 403
    assert client.post(f"/api/v1/statuses/{private_reply.id}/accept", headers=headers).status_code == 404
    db.session.expire_all()
    assert db.session.get(Post, own.id).accepted_answer_id is None
    assert db.session.get(Post, private.id).accepted_answer_id is None
    team_question = make_post(support, "Anyone using the old VPN client? #question", posted_by=bob)
    answer = make_post(carol, "@it-support me", in_reply_to=team_question.id)
    response = client.post(f"/api/v1/statuses/{answer.id}/accept", headers=headers)
    assert response.status_code == 200 and response.json["question"]["accepted_answer_id"] == str(answer.id)
    assert client.post(f"/api/v1/statuses/{team_question.id}/unaccept", headers=headers).status_code == 200
    assert _notes() == sorted([(carol.id, support.id), (bob.id, support.id)])  # bob asked for the team


def test_a_team_token_s_user_stream_hears_the_inbox_and_an_asker_hears_the_state(
    app, client, support, alice, bob
):
    """Over /api/v1/streaming/user: the team token gets inbox.update, the asker inbox.state only."""
    from microblog.services import inbox

    from .factories import make_token
    from .test_visibility_streams import _open, _read_until

    app.config["STREAM_HEARTBEAT"] = 0.01
    carol = make_user("carol")
    _, value = tokens.issue_team_token(None, support, bob, "read write")
    team_stream = _open(client, "/api/v1/streaming/user", {"Authorization": f"Bearer {value}"})
    asker_stream = _open(client, "/api/v1/streaming/user", make_token(carol))
    try:
        asked = make_post(carol, "@it-support the projector in room 4?")
        item = db.session.scalar(select(InboxItem.id))
        inbox.assign(bob, item)
        team_text = _read_until(team_stream[1], '"state":"assigned"')
        assert "event: inbox.update" in team_text and f'"id":"{asked.id}"' in team_text
        asker_text = _read_until(asker_stream[1], '"state":"assigned"')
        assert "event: inbox.state" in asker_text and '"state":"assigned"' in asker_text
        assert "bob" not in asker_text.split("event: inbox.state", 1)[1]  # who has it stays inside the team
    finally:
        team_stream[0].close()
        asker_stream[0].close()


def test_a_member_outside_a_private_community_answers_what_the_team_sees(client, support, alice, bob):
    """The team is in @board, bob is not: he answers the item through the API and gets the reply back."""
    from microblog.services import communities

    from .factories import make_token

    carol = make_user("carol")
    board = make_community(carol, "board", private=True)
    communities.add_member(None, board, support)
    make_post(carol, "@board @it-support the screen in the boardroom flickers")
    item = db.session.scalar(select(InboxItem.id))
    response = client.post(
        f"/api/v1/inbox/{item}/answer", json={"status": "On our way"}, headers=make_token(bob)
    )
    assert response.status_code == 200 and response.json["account"]["username"] == "it-support"
    assert response.json["visibility"] == "private"


def _item(post_id: int) -> InboxItem:
    item = db.session.scalar(select(InboxItem).where(InboxItem.post_id == post_id))
    assert item is not None
    db.session.refresh(item)
    return item


def test_accepting_a_reply_to_the_team_s_question_answers_its_inbox_item(support, alice, bob, monkeypatch):
    """The accepted reply's item is answered at the acceptance and counted; another reply's item waits."""
    from datetime import timedelta

    import realtime
    from microblog.services import inbox

    carol, dave = make_user("carol"), make_user("dave")
    question = make_post(support, "Who still has the old VPN client? #question", posted_by=bob)
    answer = make_post(carol, "@it-support I do, on my laptop", in_reply_to=question.id)
    other = make_post(dave, "@it-support me too", in_reply_to=question.id)
    assert (_item(answer.id).state, _item(other.id).state) == ("open", "open")
    inbox.assign(alice, _item(answer.id).id, bob)  # assigned is waiting too
    waited = _item(answer.id)
    waited.received_at -= timedelta(minutes=10)
    db.session.commit()
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(realtime, "publish", lambda stream, event, payload: sent.append((event, payload)))

    questions.accept_answer(alice, answer.id)

    item = _item(answer.id)
    accepted_at = db.session.get_one(Post, question.id).answer_accepted_at
    assert (item.state, item.answered_at, item.answer_post_id) == ("answered", accepted_at, None)
    assert item.first_answer_seconds == int((accepted_at - item.received_at).total_seconds())
    assert 600 <= item.first_answer_seconds < 660
    assert (item.changed_by_id, item.assignee_id) == (alice.id, bob.id)
    assert _item(other.id).state == "open" and _item(other.id).answered_at is None
    updates = [p for event, p in sent if event == "inbox.update"]
    assert [(p["id"], p["state"]) for p in updates] == [(str(item.id), "answered")]
    assert updates[0]["answered_at"] is not None and updates[0]["answer_status_id"] is None
    assert ("inbox.state", str(item.id)) in [(event, p["id"]) for event, p in sent]  # carol hears it
    week = inbox.figures(support, 7)
    assert (week.received, week.answered, week.median_seconds) == (2, 1, item.first_answer_seconds)
    assert inbox.counts(support)["open"] == 1

    questions.unaccept_answer(alice, question.id)  # taking it back does not reopen the item
    assert (_item(answer.id).state, _item(answer.id).answered_at) == ("answered", accepted_at)

    questions.accept_answer(bob, other.id)  # another choice answers that reply's item too
    assert _item(other.id).state == "answered"
    assert _item(answer.id).first_answer_seconds == item.first_answer_seconds


def test_accepting_leaves_a_closed_item_and_a_person_s_question_alone(support, alice, bob):
    """Only the team's own question, and only a waiting item: a person's accepted reply stays in the inbox."""
    from microblog.services import inbox

    carol, dave = make_user("carol"), make_user("dave")
    make_community(dave, "printers", members=(carol,))
    asked = make_post(dave, "@printers which tray takes A3? #question")
    reply = make_post(carol, "@dave @it-support the bottom one, I think", in_reply_to=asked.id)
    assert _item(reply.id).state == "open"  # it mentions the team
    questions.accept_answer(dave, reply.id)
    assert db.session.get_one(Post, asked.id).accepted_answer_id == reply.id
    assert (_item(reply.id).state, _item(reply.id).answered_at) == ("open", None)

    question = make_post(support, "Anyone on the third floor? #question", posted_by=bob)
    closed = make_post(carol, "@it-support wrong thread, sorry", in_reply_to=question.id)
    inbox.close(bob, _item(closed.id).id, "Not a question")
    questions.accept_answer(alice, closed.id)
    assert (_item(closed.id).state, _item(closed.id).answered_at) == ("closed", None)
