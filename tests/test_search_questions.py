"""is:question and is:unanswered, on both backends (Whoosh and PostgreSQL), with the rest of the syntax."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

import search
from microblog.database import db
from microblog.services import questions, visibility
from models import Post
from search import parse_query

from . import test_search as both_backends
from .factories import anyone, make_community, make_user

# The fixtures that run each test on both backends, and the helpers that post on a day and search.
backend_name = both_backends.backend_name
database_url = both_backends.database_url
config = both_backends.config
language = both_backends.language
post, ids = both_backends.post, both_backends.ids


def ask(author, text, day=1, **kwargs):
    """Ask a question through the posting service (the composer's toggle), dated 2026-10-<day>."""
    return post(author, text, day, question=True, **kwargs)


def accept(question, answer):
    """Set (None: clear) a question's accepted answer in the table and queue the question for the index.

    What services.questions does, down to the columns and the outbox row: search needs no more.
    """
    db.session.execute(
        update(Post)
        .where(Post.id == question)
        .values(accepted_answer_id=answer, answer_accepted_at=answer and datetime.now(UTC))
    )
    search.index_post(question)
    db.session.commit()


@pytest.fixture
def asked(app):
    """Two questions, a reply to one of them and a post that is not a question, over a week."""
    kari, ola = make_user("kari"), make_user("ola")
    vpn = ask(kari, "How do I reset the VPN token? #it @ola", day=1)
    plan = ask(ola, "Where is the Apollo release plan?", day=5)
    reply = post(kari, "The Apollo release plan is in the wiki", day=6, in_reply_to=plan)
    down = post(ola, "VPN is down again #it", day=7)
    search.drain()
    return {"vpn": vpn, "plan": plan, "reply": reply, "down": down}


def test_is_question_finds_questions_and_combines_with_the_rest_of_the_syntax(asked):
    vpn, plan, reply, down = asked.values()
    assert ids("is:question") == [plan, vpn]  # nothing to rank by: newest first
    assert ids("IS:Question") == [plan, vpn]
    assert ids("vpn is:question") == [vpn]
    assert ids("#it is:question") == [vpn]
    assert ids('"release plan" is:question') == [plan]
    assert ids("apollo release is:question", newest_first=True) == [plan]
    assert ids("is:question from:kari") == [vpn]
    assert ids("is:question @ola") == [vpn]
    assert ids("is:question after:2026-10-02") == [plan]
    assert ids("is:question -vpn") == [plan]
    assert ids("#it -is:question") == [down]  # -is:question leaves the questions out
    assert ids("apollo -is:question") == [reply]
    assert ids("-is:question") == []  # only an exclusion: nothing to search for
    first = search.search_posts(parse_query("is:question"), search.PageRequest(limit=1), reader=anyone())
    assert first.ids == [plan]
    assert ids("is:question", cursor=first.next_cursor, limit=1) == [vpn]


def test_is_unanswered_follows_accepting_and_unaccepting_an_answer(asked, backend_name):
    vpn, plan, reply, _down = asked.values()
    assert ids("is:unanswered") == [plan, vpn]
    assert ids("apollo is:unanswered") == [plan]
    accept(plan, reply)
    if backend_name == "postgres":  # read from the posts' columns: found as it is now, drained or not
        assert ids("is:unanswered") == [vpn]
    search.drain()
    assert ids("is:unanswered") == [vpn]
    assert ids("apollo is:unanswered") == []
    assert ids("#it is:unanswered") == [vpn]
    assert ids("is:question") == [plan, vpn]  # still a question, found once
    assert ids("is:question -is:unanswered") == [plan]  # the answered ones
    assert ids("apollo is:question") == [plan]
    accept(plan, None)
    search.drain()
    assert ids("is:unanswered") == [plan, vpn]
    assert ids("is:question -is:unanswered") == []


def test_a_private_community_s_question_is_found_by_its_members_only(app):
    kari, ola, per = make_user("kari"), make_user("ola"), make_user("per")
    make_community(kari, "leaders", private=True, members=(ola,))
    secret = ask(ola, "@leaders when is the offsite?")
    public = ask(per, "When is the summer party?")
    search.drain()

    def found(viewer, raw):
        return search.search_posts(parse_query(raw), reader=visibility.search_reader(viewer)).ids

    for raw in ("is:question", "is:unanswered", "when is:unanswered"):
        assert sorted(found(kari, raw)) == [secret, public]
        assert sorted(found(ola, raw)) == [secret, public]
        assert found(per, raw) == [public]
        assert found(None, raw) == [public]
    assert found(per, "offsite is:question") == [] and found(ola, "offsite is:question") == [secret]


@pytest.mark.parametrize("backend_name", ["whoosh"])  # the index stores its schema
def test_an_index_from_before_questions_is_noticed_and_rebuilt(app, config):
    from whoosh import index
    from whoosh.fields import UnknownFieldError

    from search.whoosh_schema import schema

    kari = make_user("kari")
    question = ask(kari, "Who owns the printer?")
    old = schema(app.config["SEARCH_LANGUAGE"])  # the same language: only the field is missing
    old.remove("flags")  # what the index of the version before questions held
    folder = config.DATA_DIR / "search"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    index.create_in(str(folder), old)
    search.backend()._index = None  # as a process started after the upgrade opens it
    assert "another version" in (search.status() or "")
    assert search.backend().prepare() is True  # serving processes rebuild on start-up
    meanwhile = search.search_posts(parse_query("is:question"), reader=anyone())
    assert meanwhile.ids == [] and meanwhile.notes == ()  # the old index finds no questions, and works
    with pytest.raises(UnknownFieldError):  # nor can it take a post: the outbox keeps it for the rebuild
        search.drain()
    db.session.rollback()
    assert search.rebuild() == 1
    assert search.backend().prepare() is False
    assert ids("is:question") == [question]
    assert ids("printer is:unanswered") == [question]


def test_accepting_through_the_service_reaches_is_unanswered(app):
    kari, ola = make_user("kari"), make_user("ola")
    tagged = post(kari, "Which printer takes A3? #question")  # the tag marks a question too
    server_room = ask(kari, "Who has the key to the server room?")
    answer = post(ola, "Per has it", in_reply_to=server_room)
    search.drain()
    assert ids("is:unanswered") == [server_room, tagged]
    questions.accept_answer(kari, answer)
    search.drain()
    assert ids("is:unanswered") == [tagged]
    assert ids("is:question -is:unanswered") == [server_room]
    questions.unaccept_answer(kari, server_room)
    search.drain()
    assert ids("is:unanswered") == [server_room, tagged]
