"""Saved searches match new posts exactly as the search page finds them, on both backends.

Every operator of the search syntax is saved, a corpus is posted, and each
saved search's hits (recorded by the percolator as new posts are drained) must be
the ids the search page returns for its owner.  Also: visibility, the single
recording of a post drained twice, streams and notifications of new hits, and
the bounded cost of 1,000 saved searches.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

import search
from microblog.database import db
from microblog.services import visibility
from models import ListHit, Notification, PercolationOutbox, Post, SearchOutbox, TimelineList, User, utcnow
from models.timeline_list import SEARCH
from search import PageRequest, parse_query
from search.percolator import PostgresAnalysis, PythonAnalysis, parse_tsquery

from .factories import make_community, make_post, make_user
from .test_search import backend_name, config, database_url, language  # noqa: F401 (fixtures)

QUERIES = [
    "release",
    "releasing notes",
    "Apollo",
    '"release notes"',
    '"notes release"',
    "sommerfest",
    "rapport",
    "økonomirapporten",
    "regn",
    "#apollo",
    "#apollo release",
    "#gemini #apollo",
    "from:kari",
    "from:kari release",
    "from:kari from:ola",
    "@kari",
    "@ola wiki",
    "is:question",
    "is:unanswered",
    "is:question -is:unanswered",
    "release -draft",
    'apollo -"release notes"',
    "#apollo -staging",
    "after:2026-10-10 release",
    "before:2026-10-10 release",
    "after:2026-10-03 before:2026-10-22 apollo",
    "after:2026-10-22 before:2026-10-03 apollo",
    "the",
    "go/no-go",
    "café",
    "cafe",
    "kafé",
    "from:nobody",
    "#nosuchtag",
    "lunsj fredag",
]


def save(owner: User, query: str) -> int:
    """Save a search for its owner, as lists.save_search records one."""
    saved = TimelineList(user_id=owner.id, kind=SEARCH, title=query, query=query)
    db.session.add(saved)
    db.session.commit()
    search.saved_searches_changed()
    return saved.id


def hits(list_id: int) -> list[int]:
    return sorted(db.session.scalars(select(ListHit.post_id).where(ListHit.list_id == list_id)))


def found(owner: User, query: str) -> list[int]:
    """Return every post the search page finds for this owner."""
    page = search.search_posts(
        parse_query(query, newest_first=True), PageRequest(limit=100), reader=visibility.search_reader(owner)
    )
    return sorted(page.ids)


def dated(post_id: int, day: int) -> None:
    db.session.execute(
        update(Post).where(Post.id == post_id).values(created_at=datetime(2026, 10, day, 12, tzinfo=UTC))
    )
    db.session.commit()


@pytest.fixture
def people(app):
    return {name: make_user(name) for name in ("kari", "ola", "per", "owner")}


def corpus(people) -> list[int]:
    """Post what the saved searches look for: English and Norwegian, tags, names, questions, dates."""
    kari, ola, per = people["kari"], people["ola"], people["per"]
    made = [
        (make_post(kari, "Released Apollo 2.1 to staging #apollo"), 1),
        (make_post(ola, "The release notes for Apollo are in the wiki, @kari"), 5),
        (make_post(ola, "Notes: release of #gemini is next week #apollo"), 12),
        (make_post(per, "Lunsj på kaféen fredag, og sommerfesten er i august"), 20),
        (make_post(kari, "Økonomirapporten er klar, regningen også"), 21),
        (make_post(kari, "Draft release plan for Gemini #gemini, go/no-go tomorrow"), 25),
        (make_post(per, "Who knows where the release notes are? #question"), 26),
        (make_post(ola, "@kari is there a café near the office?", question=True), 27),
        (make_post(per, "Det regner i dag"), 28),
    ]
    answered = make_post(kari, "@per In the wiki, under Apollo", in_reply_to=made[6][0].id)
    from microblog.services import questions

    questions.accept_answer(per, answered.id)
    made.append((answered, 26))
    for post, day in made:
        dated(post.id, day)
    return [post.id for post, _ in made]


@pytest.mark.slow
def test_every_saved_search_finds_what_the_search_page_finds(app, people):
    owner = people["owner"]
    saved = {query: save(owner, query) for query in QUERIES}
    made = corpus(people)
    search.drain()
    for query, list_id in saved.items():
        assert hits(list_id) == found(owner, query), query
    # The corpus exercises the operators: most searches find something, some find nothing.
    assert hits(saved['"release notes"']) == [made[1], made[6]]
    assert hits(saved["#apollo -staging"]) == [made[2]]
    assert hits(saved["is:question -is:unanswered"]) == [made[6]]
    assert hits(saved["is:unanswered"]) == [made[7]]
    assert hits(saved["the"]) == hits(saved["from:nobody"]) == []
    assert sum(1 for list_id in saved.values() if hits(list_id)) >= 25


@pytest.mark.slow
@pytest.mark.parametrize("language", ["english", "norwegian"])
def test_saved_searches_agree_with_one_language_backends(app, people):
    owner = people["owner"]
    saved = {query: save(owner, query) for query in QUERIES}
    corpus(people)
    search.drain()
    analysis = search.backend().analysis()
    postgres = app.config["SEARCH_BACKEND"] == "postgres"
    assert isinstance(analysis, PostgresAnalysis if postgres else PythonAnalysis)
    for query, list_id in saved.items():
        assert hits(list_id) == found(owner, query), query


def test_only_posts_written_after_saving_match_once_each(app, people):
    kari, owner = people["kari"], people["owner"]
    before = make_post(kari, "Apollo before the search was saved").id
    search.drain()
    list_id = save(owner, "apollo")
    after = make_post(kari, "Apollo after it").id
    search.index_post(after, new_post=True)  # the same post queued twice (two processes, or a retry)
    db.session.commit()
    search.drain()
    search.index_post(after)  # a later change to it: indexed again, not matched again
    db.session.commit()
    search.drain()
    assert hits(list_id) == [after] and before not in hits(list_id)


def test_a_private_post_matches_only_its_members_searches(app, people):
    kari, ola, per = people["kari"], people["ola"], people["per"]
    make_community(kari, "secret", private=True, members=(ola,))
    by_member, by_outsider = save(ola, "budget"), save(per, "budget")
    secret = make_post(kari, "@secret the budget is cut").id
    public = make_post(kari, "The budget is public now").id
    search.drain()
    assert hits(by_member) == found(ola, "budget") == [secret, public]
    assert hits(by_outsider) == found(per, "budget") == [public]


def test_a_new_hit_streams_to_its_list_home_and_notifies_once(app, people, client):
    from flask_socketio import SocketIOTestClient

    import realtime

    kari, owner = people["kari"], people["owner"]
    list_id = save(owner, "#apollo")
    db.session.execute(
        update(TimelineList).where(TimelineList.id == list_id).values(in_home=True, notify=True)
    )
    db.session.commit()
    from .factories import login

    login(client, "owner")
    socket = SocketIOTestClient(app, realtime.socketio, flask_test_client=client)
    assert socket.emit("subscribe", {"stream": "list", "list": str(list_id)}, callback=True) == {"ok": True}
    socket.get_received()
    post_id = make_post(kari, "Apollo is green #apollo").id
    assert not [e for e in socket.get_received() if e["args"][0]["stream"] == ["list", str(list_id)]]
    search.drain()
    received = socket.get_received()
    on_list = [e for e in received if e["args"][0]["stream"] == ["list", str(list_id)]]
    assert [(e["name"], e["args"][0]["payload"]["id"], e["args"][0]["id"]) for e in on_list] == [
        ("update", str(post_id), str(post_id))
    ]
    home = [e for e in received if e["name"] == "update" and e["args"][0]["stream"] == ["user"]]
    assert [e["args"][0]["payload"]["id"] for e in home] == [str(post_id)]
    notes = db.session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert [(n.kind, n.post_id, n.actor_id) for n in notes] == [("status", post_id, kari.id)]
    search.index_post(post_id, new_post=True)
    db.session.commit()
    search.drain()
    assert not [e for e in socket.get_received() if e["name"] == "update"]
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


def test_nobody_else_subscribes_to_a_list_stream(app, people, client):
    from flask_socketio import SocketIOTestClient

    import realtime

    list_id = save(people["owner"], "apollo")
    from .factories import login

    login(client, "kari")
    socket = SocketIOTestClient(app, realtime.socketio, flask_test_client=client)
    for asked in (str(list_id), list_id, "999", "1e3", "", None, True, ["1"], "٣"):
        answer = socket.emit("subscribe", {"stream": "list", "list": asked}, callback=True)
        assert "error" in answer, asked
    make_post(people["ola"], "Apollo news")
    search.drain()
    assert not [
        e for e in socket.get_received() if e["name"] == "update" and e["args"][0]["stream"][0] == "list"
    ]


def test_a_rebuild_leaves_new_posts_to_the_serving_processes_to_match(app, people):
    owner, kari = people["owner"], people["kari"]
    list_id = save(owner, "apollo")
    new = make_post(kari, "Apollo during the rebuild").id
    search.rebuild()  # a child process of a server: its matches would reach no client of the server
    assert hits(list_id) == []
    # The new post waits in the outbox of matching (search.percolation), apart from the index's.
    assert db.session.scalar(select(func.count()).select_from(PercolationOutbox)) == 1
    assert search.drain() == 1 and hits(list_id) == [new]


@pytest.mark.slow
def test_a_thousand_saved_searches_cost_a_bounded_number_of_statements(app, people, count_queries):
    owner, kari = people["owner"], people["kari"]
    db.session.add_all(
        TimelineList(user_id=owner.id, kind=SEARCH, title=q, query=q)
        for q in (
            f"word{i} #tag{i % 50} from:kari" if i % 3 else f'"phrase {i}" is:question' for i in range(1000)
        )
    )
    matching = save(owner, "apollo from:kari")
    make_post(kari, "Apollo is go #tag7")
    search.drain()  # the first drain loads and compiles the searches
    post_id = make_post(kari, "Apollo word7 again #tag7 word10").id
    with count_queries() as counter:
        search.drain()
    assert post_id in hits(matching)
    assert db.session.scalar(select(func.count()).select_from(ListHit).where(ListHit.post_id == post_id)) == 2
    # outbox (2), index (whoosh: documents; postgres: + its upsert), documents, searches changed?,
    # lists, audience, hits, view, outbox
    assert counter.count <= (12 if app.config["SEARCH_BACKEND"] == "postgres" else 11), counter.statements
    assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0


def test_a_search_saved_or_changed_in_another_process_is_picked_up(app, people):
    """Changed behind this process's back (no saved_searches_changed()): seen once it looks again."""
    owner, kari = people["owner"], people["kari"]
    app.extensions["search"].percolator.recheck = 0  # it looks each second: here, at every drain
    first = save(owner, "apollo")
    make_post(kari, "apollo one")
    search.drain()
    # As services.lists changes a query: with the moment it changed, which every process looks at.
    db.session.execute(
        update(TimelineList).where(TimelineList.id == first).values(query="gemini", changed_at=utcnow())
    )
    db.session.commit()
    two = make_post(kari, "apollo two").id
    three = make_post(kari, "gemini three").id
    search.drain()
    assert two not in hits(first) and three in hits(first)


def test_tsquery_text_is_read_as_terms_at_their_offsets():
    assert parse_tsquery("'releas' & 'note'") == ((0, frozenset({"releas"})), (0, frozenset({"note"})))
    assert parse_tsquery("'releas' <-> 'note' <2> 'wiki'") == (
        (0, frozenset({"releas"})),
        (1, frozenset({"note"})),
        (3, frozenset({"wiki"})),
    )
    assert parse_tsquery("'o''neil'") == ((0, frozenset({"o'neil"})),)
    assert parse_tsquery("") is None
    assert parse_tsquery("!'x'") is None  # not what plainto/phraseto make: matches nothing


def test_matches_of_a_search_shown_in_home_are_in_home(app, people):
    from microblog.services import timelines

    kari, owner = people["kari"], people["owner"]
    shown, hidden = save(owner, "apollo"), save(owner, "gemini")
    db.session.execute(update(TimelineList).where(TimelineList.id == shown).values(in_home=True))
    db.session.commit()
    apollo = make_post(kari, "Apollo ships").id
    gemini = make_post(kari, "Gemini slips").id
    search.drain()
    assert hits(shown) == [apollo] and hits(hidden) == [gemini]
    home = [p.id for p in timelines.home_timeline(owner).posts]
    assert apollo in home and gemini not in home
    seen_by = visibility.audience(apollo)
    assert owner.id in timelines.home_audience(apollo, seen_by)
    assert owner.id not in timelines.home_audience(gemini, visibility.audience(gemini))


def test_an_accounts_list_streams_its_accounts_posts_to_its_owner(app, people, client):
    from flask_socketio import SocketIOTestClient

    import realtime
    from models import ListAccount

    from .factories import login

    kari, ola, owner = people["kari"], people["ola"], people["owner"]
    team = TimelineList(user_id=owner.id, kind="accounts", title="Team")
    db.session.add(team)
    db.session.flush()
    db.session.add(ListAccount(list_id=team.id, account_id=kari.id))
    db.session.commit()
    login(client, "owner")
    socket = SocketIOTestClient(app, realtime.socketio, flask_test_client=client)
    assert socket.emit("subscribe", {"stream": "list", "list": team.id}, callback=True) == {"ok": True}
    socket.get_received()
    on_list = make_post(kari, "From someone on the list").id
    make_post(ola, "From someone who is not")
    from microblog.services import posts

    posts.delete_post(kari, on_list)
    events = [
        (e["name"], e["args"][0]["payload"])
        for e in socket.get_received()
        if e["args"][0]["stream"][0] == "list"
    ]
    assert [name for name, _ in events] == ["update", "delete"]
    assert events[0][1]["id"] == str(on_list) and events[1][1] == {"id": str(on_list)}
