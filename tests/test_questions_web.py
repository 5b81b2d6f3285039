"""Questions and team accounts in the web UI: posting as a team, markers, accepting, unanswered views."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from microblog.database import db
from microblog.services import questions
from models import Notification, Post

from .factories import login, make_community, make_post, make_team, make_user

ANSWER_BLOCK = re.compile(r'<aside class="accepted-answer" data-accepted-answer="(\d+)".*?</aside>', re.S)


def _html(response) -> str:
    return response.get_data(as_text=True)


def _posts() -> list[Post]:
    db.session.rollback()  # see what the requests committed
    return list(db.session.scalars(select(Post).order_by(Post.id)))


@pytest.fixture
def support(app, alice, bob):
    """@it-support, run by bob (member); alice is not on it."""
    return make_team("it-support", members=(bob,), name="IT support")


# -- the composer ------------------------------------------------------------


def test_the_composer_offers_post_as_only_to_team_members(client, support, alice, bob):
    login(client, "alice")
    page = _html(client.get("/"))
    assert 'name="question"' in page and "This is a question" in page
    assert 'name="post_as"' not in page  # alice is on no team
    client.post("/logout")
    login(client, "bob")
    for path in ("/", "/public", "/tags/vpn", f"/posts/{make_post(alice, 'hi #vpn').id}"):
        page = _html(client.get(path))
        assert 'name="post_as"' in page and '<option value="it-support"' in page, path


def test_posting_as_a_team_through_the_form_records_the_real_author(client, support, bob):
    login(client, "bob")
    response = client.post("/posts", data={"text": "The VPN is back", "post_as": "it-support", "next": "/"})
    assert response.status_code == 302
    [post] = _posts()
    assert (post.author_id, post.posted_by_id) == (support.id, bob.id)
    # Not in bob's home (he does not follow the team): the page he comes back to says where it went.
    assert "Posted as @it-support: it is on the team&#39;s page." in _html(client.get("/"))
    client.post("/posts", data={"text": "my own", "next": "/"})
    assert "Posted as" not in _html(client.get("/"))


def test_a_non_member_cannot_post_as_a_team(client, support, alice):
    login(client, "alice")
    response = client.post("/posts", data={"text": "I am IT now", "post_as": "it-support"})
    assert response.status_code == 403  # the refusal beside the composer, the text kept
    assert "Only members of @it-support can act for it." in _html(response)
    assert ">I am IT now</textarea>" in _html(response)
    thread = make_post(alice, "a thread")
    reply = client.post(
        "/posts", data={"text": "I am IT here too", "post_as": "it-support", "in_reply_to": thread.id}
    )
    assert reply.status_code == 403 and "Only members of @it-support can act for it." in _html(reply)
    assert ">I am IT here too</textarea>" in _html(reply)
    unknown = client.post("/posts", data={"text": "Who am I", "post_as": "nobody"})
    assert unknown.status_code == 404  # beside the composer too, the text kept
    assert "There is no team account called @nobody here." in _html(unknown)
    assert ">Who am I</textarea>" in _html(unknown)
    assert _posts() == [thread]


def test_a_reply_to_a_post_deleted_meanwhile_keeps_the_typed_text(client, alice, bob):
    post = make_post(bob, "lunch at noon?")
    login(client, "alice")
    from microblog.services import posts

    posts.delete_post(bob, post.id)
    response = client.post("/posts", data={"text": "@bob yes, see you there", "in_reply_to": post.id})
    assert response.status_code == 404  # not found, yet the form is back with the text
    page = _html(response)
    assert "That post does not exist or was deleted." in page
    assert ">@bob yes, see you there</textarea>" in page
    assert f'name="in_reply_to" type="hidden" value="{post.id}"' not in page  # sent again: a post of its own
    assert _posts() == []


def test_the_question_toggle_and_the_question_tag_both_mark_a_question(alice_client):
    alice_client.post("/posts", data={"text": "Why is staging down?", "question": "y"})
    alice_client.post("/posts", data={"text": "Anyone know the wifi password? #question"})
    alice_client.post("/posts", data={"text": "Just a statement"})
    assert [p.is_question for p in _posts()] == [True, True, False]
    page = _html(alice_client.get("/")).split("data-posts>", 1)[1]  # after the live <template>
    assert page.count("data-question-open>") == 2 and "data-question-open hidden" not in page


# -- questions in feeds and the thread ----------------------------------------


def _answered(alice, bob):
    """A question by alice in #apollo and @apollo, answered by bob's accepted reply."""
    make_community(alice, "apollo", name="Apollo", members=(bob,))
    question = make_post(alice, "@apollo #apollo why is staging down? #question")
    answer = make_post(bob, "@alice the database was full", in_reply_to=question.id)
    questions.accept_answer(alice, answer.id)
    return question, answer


def test_the_accepted_answer_shows_under_the_question_in_every_feed_and_the_thread(client, alice, bob):
    question, answer = _answered(alice, bob)
    login(client, "bob")
    for path in ("/", "/public", "/tags/apollo", "/@apollo", "/@alice", f"/posts/{question.id}"):
        page = _html(client.get(path))
        block = ANSWER_BLOCK.search(page)
        assert block and block.group(1) == str(answer.id), path
        assert "the database was full" in block.group(0) and "Bob Berg" in block.group(0), path
        assert f'href="/posts/{answer.id}#post-{answer.id}"' in block.group(0), path
        assert "✓ Answered" in page, path


def test_accept_and_unaccept_from_the_thread_page(client, alice, bob):
    question = make_post(alice, "Which printer works? #question")
    answer = make_post(bob, "@alice the one on floor 2", in_reply_to=question.id)
    other = make_post(bob, "@alice or floor 3", in_reply_to=question.id)
    login(client, "alice")
    thread = _html(client.get(f"/posts/{question.id}"))
    assert thread.count("data-accept>") == 2 and f"/posts/{answer.id}/accept" in thread
    assert "data-unaccept" not in thread
    response = client.post(f"/posts/{answer.id}/accept", follow_redirects=True)
    assert response.status_code == 200 and "Answer accepted." in _html(response)
    db.session.rollback()
    assert db.session.get(Post, question.id).accepted_answer_id == answer.id
    thread = _html(client.get(f"/posts/{question.id}"))
    assert "data-accepted-answer-mark" in thread and f"/posts/{other.id}/accept" in thread
    assert f"/posts/{answer.id}/accept" not in thread and f"/posts/{question.id}/unaccept" in thread
    client.post(f"/posts/{other.id}/accept")  # replaces the choice
    db.session.rollback()
    assert db.session.get(Post, question.id).accepted_answer_id == other.id
    client.post(f"/posts/{question.id}/unaccept")
    db.session.rollback()
    assert db.session.get(Post, question.id).accepted_answer_id is None


def test_only_the_asker_or_a_community_admin_may_accept(client, alice, bob):
    carol = make_user("carol")
    make_community(carol, "apollo", members=(alice, bob))  # carol administers it
    question = make_post(alice, "@apollo where are the specs? #question")
    answer = make_post(bob, "@alice in the wiki", in_reply_to=question.id)
    login(client, "bob")
    assert "data-accept>" not in _html(client.get(f"/posts/{question.id}"))
    assert client.post(f"/posts/{answer.id}/accept").status_code == 403
    assert client.post(f"/posts/{question.id}/unaccept").status_code == 403
    client.post("/logout")
    login(client, "carol")
    assert "data-accept>" in _html(client.get(f"/posts/{question.id}"))
    assert client.post(f"/posts/{answer.id}/accept").status_code == 302
    db.session.rollback()
    assert db.session.get(Post, question.id).accepted_answer_id == answer.id


def test_only_the_team_and_admins_see_who_wrote_a_team_post(client, support, alice, bob, admin):
    post = make_post(support, "Planned downtime tonight", posted_by=bob)
    for name, shown in (("bob", True), ("root", True), ("alice", False)):
        login(client, name)
        for path in ("/public", f"/posts/{post.id}", "/@it-support"):
            page = _html(client.get(path))
            assert "✓ Official" in page, (name, path)
            assert ('by <a href="/@bob">@bob</a> for @it-support' in page) is shown, (name, path)
        client.post("/logout")


def test_the_by_line_costs_one_query_a_page(client, support, bob, count_queries):
    for i in range(5):
        make_post(support, f"Notice {i}", posted_by=bob)
    login(client, "bob")
    client.get("/public")
    with count_queries() as few:
        client.get("/public")
    for i in range(5):
        make_post(support, f"More {i}", posted_by=bob)
    with count_queries() as many:
        client.get("/public")
    assert many.count == few.count


# -- unanswered views ----------------------------------------------------------


def test_unanswered_views_list_only_open_questions_the_reader_may_see(client, alice, bob):
    make_user("carol")
    make_community(alice, "apollo", members=(bob,))
    make_community(alice, "secret", private=True, members=(bob,))
    open_q = make_post(alice, "@apollo #apollo how do I deploy? #question")
    answered, _ = _answered_in(alice, bob, "#apollo what is the build command? #question")
    hidden = make_post(alice, "@secret who has the key? #question")
    make_post(alice, "#apollo not a question")
    login(client, "carol")
    page = _html(client.get("/questions"))
    assert f'id="post-{open_q.id}"' in page
    assert f'id="post-{answered.id}"' not in page and f'id="post-{hidden.id}"' not in page
    assert "not a question" not in page
    assert f'id="post-{open_q.id}"' in _html(client.get("/tags/apollo/questions"))
    assert f'id="post-{open_q.id}"' in _html(client.get("/communities/apollo/questions"))
    assert f'id="post-{hidden.id}"' not in _html(client.get("/communities/secret/questions"))
    assert client.get("/communities/nobody/questions").status_code == 404
    client.post("/logout")
    login(client, "bob")  # a member of the private community sees its question
    assert f'id="post-{hidden.id}"' in _html(client.get("/communities/secret/questions"))
    assert f'id="post-{hidden.id}"' in _html(client.get("/questions"))


def _answered_in(asker, answerer, text):
    question = make_post(asker, text)
    answer = make_post(answerer, "@alice this", in_reply_to=question.id)
    questions.accept_answer(asker, answer.id)
    return question, answer


def test_unanswered_views_page_with_older_posts_and_are_linked(alice_client, alice):
    make_community(alice, "apollo")
    made = [make_post(alice, f"@apollo #apollo question {i} #question") for i in range(21)]
    first = _html(alice_client.get("/questions"))
    assert f'id="post-{made[0].id}"' not in first and f"max_id={made[1].id}" in first
    older = _html(alice_client.get(f"/questions?max_id={made[1].id}"))
    assert f'id="post-{made[0].id}"' in older
    assert f"/tags/apollo/questions?max_id={made[1].id}" in _html(alice_client.get("/tags/apollo/questions"))
    assert 'href="/questions"' in _html(alice_client.get("/"))
    assert 'href="/tags/apollo/questions"' in _html(alice_client.get("/tags/apollo"))
    assert 'href="/communities/apollo/questions"' in _html(alice_client.get("/@apollo"))


# -- notifications ---------------------------------------------------------------


def test_answer_accepted_notifications_on_the_page(client, alice, bob):
    carol = make_user("carol")
    make_community(carol, "apollo", members=(alice, bob))
    question = make_post(alice, "@apollo who owns the budget? #question")
    answer = make_post(bob, "@alice finance does", in_reply_to=question.id)
    login(client, "carol")  # a community admin accepts for the asker
    client.post(f"/posts/{answer.id}/accept")
    db.session.rollback()
    kinds = db.session.execute(
        select(Notification.user_id, Notification.post_id).where(Notification.kind == "answer_accepted")
    ).all()
    assert sorted(kinds) == sorted([(alice.id, answer.id), (bob.id, answer.id)])
    client.post("/logout")
    login(client, "bob")
    page = _html(client.get("/notifications"))
    assert re.search(r"<strong>@carol</strong></a>\s+accepted your answer", page)
    client.post("/logout")
    login(client, "alice")
    assert "accepted an answer to your question" in _html(client.get("/notifications"))
