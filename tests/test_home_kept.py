"""Home timelines served from the ids a process keeps (services.kept_homes) are exactly the query's.

Two applications on one database stand for two processes: one makes each
change, the other (warm from reading everyone's home before it) serves the
first pages after it.  After every change each person's first page, at
several sizes, is compared with what the home query answers, posts whole
(text, counts, marks); a test also checks the kept ids were what served.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import insert, select, text

import search
from microblog import create_app
from microblog.database import db
from microblog.services import (
    accounts,
    communities,
    editing,
    kept_homes,
    lists,
    posts,
    social,
    timelines,
)
from microblog.services.timelines import Cursor
from models import Post, User, utcnow

from . import home_world
from .factories import make_post

SIZES = (1, 5, 20, 40)


@pytest.fixture
def world(app):
    return home_world.build()


@pytest.fixture
def other(app, config) -> Iterator[Flask]:
    """A second application on the same database: another process, with its own kept homes."""
    second = create_app(config)
    yield second
    with second.app_context():
        db.engine.dispose()


@pytest.fixture
def served(monkeypatch) -> list[int]:
    """Record whose first pages the kept ids answered, without the query's walk."""
    answered: list[int] = []
    cold_pages: list[int] = []
    kept_first_page, cold_page_statement = timelines._kept_first_page, timelines._cold_page_statement

    def counting(user_id, cursor):
        before = len(cold_pages)
        page = kept_first_page(user_id, cursor)
        if len(cold_pages) == before:
            answered.append(user_id)
        return page

    def cold(postgresql):
        cold_pages.append(1)
        return cold_page_statement(postgresql)

    monkeypatch.setattr(timelines, "_kept_first_page", counting)
    monkeypatch.setattr(timelines, "_cold_page_statement", cold)
    return answered


def _query(user, limit: int) -> list:
    return timelines._page("home", user.id, user, Cursor(limit=limit)).posts


def _same_as_query(where: Flask, people: dict) -> None:
    """Check every person's first pages, served where given, against the query."""
    with where.app_context():
        for name, user in people.items():
            for size in SIZES:
                kept = timelines.home_timeline(user, Cursor(limit=size)).posts
                expected = _query(user, size)
                assert [p.id for p in kept] == [p.id for p in expected], f"{name}'s {size}"
                assert kept == expected, f"{name}'s {size}: the same posts, shown differently"


def _posts(world) -> list[int]:
    people, ops, guild = world
    alice, nora = people["alice"], people["nora"]
    made = [
        make_post(alice, "Plain status"),
        make_post(alice, "Release notes #apollo"),
        make_post(nora, "Asking @frank and @bob"),
        make_post(alice, "@ops the zebra plan #apollo @nora"),  # private: members only
        make_post(alice, "@guild weekly sync #gemini"),
        make_post(nora, "Saved-search bait: kiwi"),
    ]
    search.drain()  # the saved searches' hits
    return [p.id for p in made]


def test_kept_first_pages_equal_the_query_after_every_change(app, other, world, served):
    people, ops, guild = world
    lists.save_search(people["gina"], "kiwi", in_home=True)
    _posts(world)
    _same_as_query(other, people)  # warm: every home kept there
    alice, bob, carol, nora = (people[n] for n in ("alice", "bob", "carol", "nora"))
    changes = [
        lambda: None,
        lambda: social.follow_user(bob, "alice"),
        lambda: social.follow_user(carol, "nora"),
        lambda: social.follow_tag(carol, "apollo"),
        lambda: social.follow_tag(people["frank"], "gemini"),
        lambda: communities.join(people["frank"], guild),
        lambda: communities.add_member(None, ops, people["gina"]),
        lambda: home_world.exclusive_list(bob, alice),  # bob reads alice in a list, not in home
        lambda: lists.update_list(bob, lists.lists_of(bob)[0].id, exclusive=False),
        lambda: lists.update_list(bob, lists.lists_of(bob)[0].id, exclusive=True),
        lambda: lists.remove_accounts(bob, lists.lists_of(bob)[0].id, [alice.id]),
        lambda: lists.delete_list(bob, lists.lists_of(bob)[0].id),
        lambda: lists.update_list(people["gina"], lists.lists_of(people["gina"])[0].id, in_home=False),
        lambda: lists.update_list(people["gina"], lists.lists_of(people["gina"])[0].id, in_home=True),
        lambda: lists.update_list(people["gina"], lists.lists_of(people["gina"])[0].id, title="zebra"),
        lambda: lists.save_search(nora, "plain", in_home=True),
        lambda: lists.save_search(people["erin"], "bait", in_home=True),
        lambda: lists.unsave_search(people["gina"], lists.lists_of(people["gina"])[0].id),
        lambda: lists.unsave_search(nora, lists.lists_of(nora)[0].id),  # its hits leave her home
        lambda: lists.delete_list(people["erin"], lists.lists_of(people["erin"])[0].id),
        lambda: _edit_newest_of(nora, "Asking @gina now #gemini"),  # into gina's and frank's home
        lambda: _edit_newest_of(nora, "Asking nobody now"),  # and out again
        lambda: posts.like_post(bob, _newest_of(alice)),
        lambda: accounts.update_profile(alice, display_name="Alice A."),
        lambda: posts.delete_post(alice, _newest_of(alice)),
        lambda: social.unfollow_user(bob, "alice"),
        lambda: social.unfollow_tag(carol, "apollo"),
        lambda: communities.leave(people["dave"], ops),  # a member leaves: ops' posts leave her home
        lambda: communities.remove_member(None, ops, people["gina"]),
        lambda: communities.leave(people["frank"], guild),
    ]
    for number, change in enumerate(changes):
        change()
        search.drain()
        _same_as_query(other, people)  # the change came from elsewhere
        _same_as_query(app, people)  # and here
        _posts(world)  # new posts on top of what is kept
        _same_as_query(other, people)
        assert served, f"change {number}: the kept ids served no page"
        served.clear()


def _newest_of(author) -> int:
    return timelines.user_timeline(author, author, Cursor(limit=1)).posts[0].id


def _edit_newest_of(author, text: str) -> None:
    post_id = _newest_of(author)
    editing.edit_post(author, post_id, text)


def test_a_deleted_newest_post_whose_id_comes_back_is_not_taken_for_the_old_one(
    app, other, world, served, database_url
):
    people, _ops, _guild = world
    alice, bob, nora = people["alice"], people["bob"], people["nora"]
    social.follow_user(bob, "alice")
    make_post(alice, "For bob")
    newest = make_post(alice, "Also for bob")
    _same_as_query(other, {"bob": bob})
    posts.delete_post(alice, newest.id)
    reused = make_post(nora, "Not for bob")  # SQLite hands out the deleted id again
    make_post(nora, "Nor this")
    if database_url.startswith("sqlite"):  # the case this test is about: PostgreSQL never reuses an id
        assert reused.id == newest.id
    _same_as_query(other, {"bob": bob})
    with other.app_context():
        assert [p.text for p in timelines.home_timeline(bob).posts] == ["For bob"]


def test_a_saved_search_hit_recorded_after_a_read_joins_the_kept_home(
    app, other, world, served, database_url
):
    people, _ops, _guild = world
    gina, nora = people["gina"], people["nora"]
    lists.save_search(gina, "kiwi", in_home=True)
    bait = make_post(nora, "Fresh kiwi in the canteen")
    _same_as_query(other, {"gina": gina})  # kept before the percolator matched it
    with other.app_context():
        assert bait.id not in [p.id for p in timelines.home_timeline(gina).posts]
    search.drain()  # the hit: an older post joins gina's home
    _same_as_query(other, {"gina": gina})
    with other.app_context():
        assert [p.id for p in timelines.home_timeline(gina).posts] == [bait.id]
    assert served


def test_a_deleted_kept_post_sends_the_page_to_the_query(app, other, world, served):
    people, _ops, _guild = world
    alice, bob, nora = people["alice"], people["bob"], people["nora"]
    social.follow_user(bob, "alice")
    oldest, middle, newest = (make_post(alice, f"Note {n}") for n in range(3))
    make_post(nora, "Elsewhere")  # the newest post is not bob's: the watermark stays
    _same_as_query(other, {"bob": bob})
    posts.delete_post(alice, middle.id)
    with other.app_context():
        page = timelines.home_timeline(bob, Cursor(limit=2)).posts
    assert [p.id for p in page] == [newest.id, oldest.id]
    _same_as_query(other, {"bob": bob})


def test_an_empty_kept_home_gets_the_posts_written_since(app, other, world, served):
    people, _ops, _guild = world
    carol, nora = people["carol"], people["nora"]
    social.follow_user(carol, "nora")
    _same_as_query(other, {"carol": carol})  # kept: empty
    served.clear()
    first = make_post(nora, "First words")
    with other.app_context():
        assert [p.id for p in timelines.home_timeline(carol).posts] == [first.id]
        assert [p.id for p in timelines.home_timeline(carol).posts] == [first.id]
    assert served == [carol.id, carol.id]


def test_more_posts_than_a_small_kept_page_leave_it_incomplete(app, other, world, served):
    people, _ops, _guild = world
    carol, nora = people["carol"], people["nora"]
    social.follow_user(carol, "nora")
    with other.app_context():
        assert timelines.home_timeline(carol, Cursor(limit=1)).posts == []  # kept: empty, all of it
    written = [make_post(nora, f"Update {n}").id for n in range(3)]
    with other.app_context():
        assert [p.id for p in timelines.home_timeline(carol, Cursor(limit=1)).posts] == written[-1:]
        assert [p.id for p in timelines.home_timeline(carol, Cursor(limit=5)).posts] == written[::-1]
    _same_as_query(other, {"carol": carol})


def test_a_hidden_kept_post_sends_the_page_to_the_query(app, other, world, served):
    people, ops, _guild = world
    alice, dave = people["alice"], people["dave"]
    make_post(alice, "@ops members only")
    _same_as_query(other, {"dave": dave})
    communities.leave(dave, ops)
    with other.app_context():
        texts = [p.text for p in timelines.home_timeline(dave).posts]
    assert "@ops members only" not in texts


def test_later_pages_use_the_query(app, world, served):
    people, _ops, _guild = world
    alice = people["alice"]
    for number in range(5):
        make_post(alice, f"Status {number}")
    first = timelines.home_timeline(alice, Cursor(limit=2))  # nothing kept yet: the query, kept
    assert timelines.home_timeline(alice, Cursor(limit=2)).posts == first.posts  # from the kept ids
    older = timelines.home_timeline(alice, Cursor(max_id=first.posts[-1].id, limit=2))
    assert [p.text for p in first.posts + older.posts] == [f"Status {n}" for n in (4, 3, 2, 1)]
    assert served == [alice.id]


def test_a_process_keeps_a_bounded_number_of_homes(app, world, monkeypatch):
    people, _ops, _guild = world
    monkeypatch.setattr(kept_homes, "KEPT_READERS", 3)
    app.extensions.pop("microblog.kept_homes", None)
    for user in people.values():
        timelines.home_timeline(user)
    assert len(app.extensions["microblog.kept_homes"]) == 3


def test_following_raises_the_home_version(app, world):
    people, _ops, _guild = world
    bob = people["bob"]

    def version() -> int:
        return db.session.scalar(select(User.home_version).where(User.id == bob.id))

    before = version()
    social.follow_user(bob, "alice")
    social.follow_tag(bob, "apollo")
    assert version() == before + 2


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("later_post", [True, False], ids=["a later post committed first", "alone"])
def test_a_post_whose_transaction_is_slow_joins_the_kept_home(
    app, other, world, served, monkeypatch, later_post
):
    """PostgreSQL hands ids out in one order and commits them in another: a kept home still gets both."""
    monkeypatch.setattr(kept_homes, "SETTLE_EVERY", 0)  # every read asks which ids are settled
    people, _ops, _guild = world
    alice, bob = people["alice"], people["bob"]
    social.follow_user(bob, "alice")
    make_post(alice, "Morning")
    _same_as_query(other, {"bob": bob})  # kept
    with db.engine.connect() as slow:
        slow.execute(
            insert(Post).values(author_id=alice.id, text="Slow", html="<p>Slow</p>", created_at=utcnow())
        )  # its id handed out, its transaction still in progress
        shown = ["Morning"]
        if later_post:
            make_post(alice, "Later")
            shown = ["Later", "Morning"]
        served.clear()
        with other.app_context():  # read while the slow post's transaction is in progress
            for _read in range(3):  # and again, once the process has seen the slow post's id handed out
                assert [p.text for p in timelines.home_timeline(bob).posts] == shown
        slow.commit()
    with other.app_context():
        page = timelines.home_timeline(bob).posts
    assert [p.text for p in page] == ["Later", "Slow", "Morning"][0 if later_post else 1 :]
    assert served == [bob.id] * 4  # every page from the kept ids
    _same_as_query(other, {"bob": bob})


def _settled(conn) -> int | None:
    return conn.scalar(text("SELECT settled FROM settled_post_id()"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_no_id_is_settled_while_a_post_s_transaction_is_in_progress(app, alice):
    """What settles a kept home's watermark on PostgreSQL (services.kept_homes.Settling) rests on this."""
    default = db.session.scalar(
        text(
            "SELECT column_default FROM information_schema.columns"
            " WHERE table_name = 'posts' AND column_name = 'id'"
        )
    )
    assert default == "next_post_id()"
    make_post(alice, "First")
    with db.engine.connect() as writing, db.engine.connect() as asking:
        handed = _settled(asking)
        assert handed is not None
        asking.rollback()
        new_id = writing.scalar(text(f"SELECT {default}"))  # a post's id, its transaction in progress
        assert new_id > handed
        assert _settled(asking) is None
        asking.rollback()
        writing.rollback()
        assert _settled(asking) == new_id  # handed out, and ended
        asking.rollback()
        make_post(alice, "Second")  # a writer waits for no reader: the lock was the expression's only
        # Nothing is settled where a read's snapshot may be older than the answer, or by a transaction
        # that wrote (it may hold the lock itself).
        asking.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        assert _settled(asking) is None
        asking.rollback()
        asking.execute(text("UPDATE users SET bio = bio WHERE id = :id"), {"id": alice.id})
        assert _settled(asking) is None
        asking.rollback()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_posts_given_their_own_ids_take_them_past_every_id_handed_out(app, alice):
    """A bulk import (`demo seed`) numbers its posts after last_post_id(): never at or below a watermark."""
    with db.engine.connect() as conn:
        conn.scalar(text("SELECT next_post_id()"))  # handed out, never written: the sequence is ahead
        conn.rollback()
        handed = conn.scalar(text("SELECT handed FROM settled_post_id()"))
    make_post(alice, "Written")
    assert kept_homes.last_post_id() > handed
    assert kept_homes.last_post_id() == db.session.scalar(text("SELECT max(id) FROM posts"))
    db.session.rollback()
    with db.engine.connect() as conn:
        conn.scalar(text("SELECT next_post_id()"))
        conn.rollback()
    assert kept_homes.last_post_id() == db.session.scalar(text("SELECT max(id) FROM posts")) + 1
