"""services.questions: who may accept, accepting replaces, unaccepting, notifications, private questions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from microblog.database import db
from microblog.services import posts, questions, timelines
from microblog.services.errors import NotFound, PermissionDenied, ValidationError
from models import Notification, Post

from .factories import make_community, make_post, make_team, make_user


def _accepted(question: Post) -> int | None:
    db.session.expire_all()
    return db.session.get(Post, question.id).accepted_answer_id


def _notes() -> list[tuple[int, int, int]]:
    rows = db.session.execute(
        select(Notification.user_id, Notification.actor_id, Notification.post_id).where(
            Notification.kind == "answer_accepted"
        )
    )
    return sorted(tuple(row) for row in rows)


def test_accepting_another_reply_replaces_the_choice_and_unaccept_reopens(alice, bob):
    question = make_post(alice, "Which build flag? #question")
    first = make_post(bob, "@alice -O2", in_reply_to=question.id)
    second = make_post(bob, "@alice -O3", in_reply_to=question.id)
    assert questions.accept_answer(alice, first.id).id == question.id
    assert _accepted(question) == first.id
    view = timelines.post_view(question.id, alice)
    assert view.accepted_answer.id == first.id and view.accepted_answer.username == "bob"
    questions.accept_answer(alice, second.id)
    assert _accepted(question) == second.id
    assert timelines.unanswered_questions(alice).posts == []
    questions.unaccept_answer(alice, question.id)
    assert _accepted(question) is None and db.session.get(Post, question.id).answer_accepted_at is None
    assert [p.id for p in timelines.unanswered_questions(alice).posts] == [question.id]


def test_only_a_direct_reply_to_a_question_can_be_accepted(alice, bob):
    statement = make_post(alice, "Not a question")
    reply = make_post(bob, "@alice ok", in_reply_to=statement.id)
    with pytest.raises(ValidationError):
        questions.accept_answer(alice, reply.id)
    with pytest.raises(ValidationError):
        questions.accept_answer(alice, make_post(alice, "Top level? #question").id)


def test_the_asker_and_community_admins_may_accept_no_one_else(alice, bob):
    carol, dave = make_user("carol"), make_user("dave")
    make_community(carol, "apollo", members=(alice, bob, dave))
    question = make_post(alice, "@apollo who owns CI? #question")
    answer = make_post(bob, "@alice the platform team", in_reply_to=question.id)
    question = posts.access_post(alice, question.id)  # with its author, as may_accept reads it
    assert questions.may_accept(alice, question) and questions.may_accept(carol, question)
    assert not questions.may_accept(bob, question) and not questions.may_accept(dave, question)
    for outsider in (bob, dave):
        with pytest.raises(PermissionDenied):
            questions.accept_answer(outsider, answer.id)
        with pytest.raises(PermissionDenied):
            questions.unaccept_answer(outsider, question.id)
    views = timelines.conversation(dave, question).posts
    assert questions.acceptable_questions(carol, views) == {question.id}
    assert questions.acceptable_questions(dave, views) == set()
    assert questions.acceptable_questions(alice, views) == {question.id}


def test_a_teams_question_is_accepted_by_its_members(alice, bob):
    team = make_team("hr", members=(bob,))
    question = make_post(team, "Which date suits the summer party? #question", posted_by=bob)
    answer = make_post(alice, "@hr June 20", in_reply_to=question.id)
    assert questions.acceptable_questions(bob, [timelines.post_view(question.id, bob)]) == {question.id}
    questions.accept_answer(bob, answer.id)
    assert _accepted(question) == answer.id


def test_accepting_notifies_the_answerer_and_the_asker_when_someone_else_accepted(alice, bob):
    carol = make_user("carol")
    make_community(carol, "apollo", members=(alice, bob))
    question = make_post(alice, "@apollo when is the release? #question")
    answer = make_post(bob, "@alice Friday", in_reply_to=question.id)
    questions.accept_answer(alice, answer.id)  # the asker: only the answerer hears of it
    assert _notes() == [(bob.id, alice.id, answer.id)]
    questions.unaccept_answer(alice, question.id)
    questions.accept_answer(carol, answer.id)  # an admin: both hear of it
    assert _notes() == sorted(
        [(bob.id, alice.id, answer.id), (bob.id, carol.id, answer.id), (alice.id, carol.id, answer.id)]
    )


def test_a_private_communitys_question_is_its_members_only(alice, bob):
    carol = make_user("carol")
    make_community(alice, "secret", private=True, members=(bob,))
    question = make_post(alice, "@secret where is the key? #question")
    answer = make_post(bob, "@alice in the drawer", in_reply_to=question.id)
    assert [p.id for p in timelines.unanswered_questions(bob).posts] == [question.id]
    assert timelines.unanswered_questions(carol).posts == []
    with pytest.raises(NotFound):
        questions.accept_answer(carol, answer.id)
    questions.accept_answer(alice, answer.id)
    assert _accepted(question) == answer.id
