"""Lists and saved searches as services: both kinds, their rules, their feeds, read marks and privacy."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from microblog.database import db
from microblog.services import list_timelines, lists, social
from microblog.services.errors import NotFound, ValidationError
from microblog.services.timelines import Cursor
from models import ListAccount, ListHit, Post, TimelineList

from .factories import make_community, make_hit, make_post, make_user


def _texts(page) -> list[str]:
    return [p.text for p in page.posts]


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


# -- creating, changing, deleting ---------------------------------------------------------------


def test_a_list_of_accounts_and_a_search_list_are_two_kinds(app, alice):
    team = lists.create_list(alice, "  Team\tApollo ", replies_policy="followed", exclusive=True)
    assert (team.kind, team.title, team.query, team.replies_policy, team.exclusive) == (
        "accounts",
        "Team Apollo",
        "",
        "followed",
        True,
    )
    saved = lists.create_list(alice, "Search:  release  #apollo")
    assert (saved.kind, saved.title, saved.query) == ("search", "release #apollo", "release #apollo")
    assert [lst.id for lst in lists.lists_of(alice)] == [team.id, saved.id]


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "title"),
        ("   ", "title"),
        ("x" * 201, "at most 200"),
        ("evil\u202etitle", "control characters"),
        ("search:", "what to search for"),
        ("search: -draft", "needs a word"),
        ("search: from:", "needs a username"),
        ("search: is:nonsense", "is:question"),
        ("search: " + "w" * 201, "at most 200"),
    ],
)
def test_bad_titles_and_queries_are_refused_and_store_nothing(app, alice, title, message):
    with pytest.raises(ValidationError, match=message):
        lists.create_list(alice, title)
    assert _count(TimelineList) == 0


def test_a_bad_replies_policy_is_refused(app, alice):
    with pytest.raises(ValidationError, match="replies_policy"):
        lists.create_list(alice, "Team", replies_policy="everyone")
    assert _count(TimelineList) == 0


def test_saving_a_search_twice_returns_the_first(app, alice, bob):
    first = lists.save_search(alice, "Apollo  #release")
    again = lists.save_search(alice, "apollo #Release")
    via_client = lists.create_list(alice, "search: APOLLO #release")
    assert first.id == again.id == via_client.id
    assert lists.save_search(bob, "apollo #release").id != first.id  # another person's is their own
    assert _count(TimelineList) == 2


def test_a_person_has_at_most_100_lists(app, alice):
    saved = lists.save_search(alice, "apollo")
    for n in range(lists.LISTS_MAX - 1):
        lists.create_list(alice, f"List {n}")
    with pytest.raises(ValidationError, match="100 lists"):
        lists.create_list(alice, "One too many")
    with pytest.raises(ValidationError, match="100 lists"):
        lists.save_search(alice, "gemini")
    assert lists.save_search(alice, "apollo").id == saved.id  # saving it again takes no room
    lists.delete_list(alice, saved.id)
    lists.save_search(alice, "gemini")
    assert _count(TimelineList) == lists.LISTS_MAX


def test_only_the_owner_has_a_list_any_other_id_is_not_found(app, alice, bob):
    mine = lists.create_list(alice, "Mine")
    for reader, list_id in [(bob, mine.id), (alice, "x"), (alice, "-1"), (alice, "0"), (alice, "9" * 30)]:
        with pytest.raises(NotFound):
            lists.access_list(reader, list_id)
    with pytest.raises(NotFound):
        lists.update_list(bob, mine.id, title="Stolen")
    with pytest.raises(NotFound):
        lists.delete_list(bob, mine.id)
    with pytest.raises(NotFound):
        list_timelines.list_timeline(bob, lists.access_list(bob, mine.id))
    assert lists.access_list(alice, str(mine.id)).title == "Mine"


def test_updating_a_list_and_a_saved_search(app, alice):
    team = lists.create_list(alice, "Team")
    lists.update_list(alice, team.id, title="Crew", replies_policy="none", exclusive=True)
    assert (team.title, team.replies_policy, team.exclusive) == ("Crew", "none", True)
    with pytest.raises(ValidationError, match="cannot become a saved search"):
        lists.update_list(alice, team.id, title="search: apollo")
    with pytest.raises(ValidationError, match="Only a saved search"):
        lists.update_list(alice, team.id, title="Renamed", in_home=True)
    db.session.commit()  # as the next action would: a refused change left nothing behind
    assert db.session.scalar(select(TimelineList.title).where(TimelineList.id == team.id)) == "Crew"

    saved = lists.save_search(alice, "apollo")
    make_hit(saved, make_post(alice, "apollo is up"))
    lists.update_list(alice, saved.id, in_home=True, notify=True)
    assert (saved.in_home, saved.notify, _count(ListHit)) == (True, True, 1)
    lists.update_list(alice, saved.id, title="search: gemini #launch")
    db.session.refresh(saved)
    assert (saved.title, saved.query, saved.kind) == ("gemini #launch", "gemini #launch", "search")
    assert _count(ListHit) == 0  # the old query's hits are not the new one's
    assert saved.last_read_id == db.session.scalar(select(func.max(Post.id)))
    other = lists.save_search(alice, "apollo")
    with pytest.raises(ValidationError, match="already follow"):
        lists.update_list(alice, other.id, title="Gemini #LAUNCH")
    with pytest.raises(ValidationError):
        lists.update_list(alice, other.id, title="")
    db.session.refresh(other)
    assert other.query == "apollo"


def test_deleting_and_unsaving(app, alice, bob):
    social.follow_user(alice, "bob")
    team = lists.create_list(alice, "Team")
    lists.add_accounts(alice, team.id, [bob.id])
    saved = lists.save_search(alice, "apollo")
    make_hit(saved, make_post(bob, "apollo"))
    with pytest.raises(ValidationError, match="not a saved search"):
        lists.unsave_search(alice, team.id)
    lists.unsave_search(alice, saved.id)
    lists.delete_list(alice, team.id)
    assert (_count(TimelineList), _count(ListAccount), _count(ListHit)) == (0, 0, 0)
    assert _count(Post) == 1


# -- accounts on a list ----------------------------------------------------------------------------


def test_accounts_must_be_followed_to_be_put_on_a_list(app, alice, bob):
    carol = make_user("carol")
    team = lists.create_list(alice, "Team")
    with pytest.raises(ValidationError, match="Follow @bob"):
        lists.add_accounts(alice, team.id, [bob.id])
    social.follow_user(alice, "bob")
    lists.add_accounts(alice, team.id, [str(bob.id), bob.id, alice.id])  # oneself needs no follow
    lists.add_accounts(alice, team.id, [bob.id])  # already on it: stays once
    with pytest.raises(ValidationError, match="Follow @carol"):
        lists.add_accounts(alice, team.id, [carol.id, bob.id])
    for bad in (["999"], ["x"], [str(2**40)], []):
        with pytest.raises((NotFound, ValidationError)):
            lists.add_accounts(alice, team.id, bad)
    with pytest.raises(ValidationError, match="At most 100"):
        lists.add_accounts(alice, team.id, [str(n) for n in range(1, 102)])
    assert [u.username for u in lists.list_members(alice, team.id)] == ["bob", "alice"]
    assert [lst.id for lst in lists.lists_with_account(alice, bob.id)] == [team.id]
    lists.remove_accounts(alice, team.id, [bob.id, carol.id])  # carol was not on it: nothing to do
    assert [u.username for u in lists.list_members(alice, team.id)] == ["alice"]


def test_a_saved_search_takes_no_accounts(app, alice, bob):
    social.follow_user(alice, "bob")
    saved = lists.save_search(alice, "apollo")
    with pytest.raises(ValidationError, match="holds no accounts"):
        lists.add_accounts(alice, saved.id, [bob.id])
    assert lists.list_members(alice, saved.id) == []


def test_unfollowing_or_leaving_takes_the_account_off_the_owner_s_lists(app, alice, bob):
    carol = make_user("carol")
    secret = make_community(carol, "secret", private=True, members=(alice,))
    social.follow_user(alice, "bob")
    social.follow_user(carol, "bob")
    team, carols = lists.create_list(alice, "Team"), lists.create_list(carol, "Carol's")
    lists.add_accounts(alice, team.id, [bob.id, secret.id])
    lists.add_accounts(carol, carols.id, [bob.id])
    social.unfollow_user(alice, "bob")
    social.unfollow_user(alice, "secret")
    assert lists.list_members(alice, team.id) == []
    assert [u.username for u in lists.list_members(carol, carols.id)] == ["bob"]


def test_list_members_are_paged_by_account_id(app, alice):
    team = lists.create_list(alice, "Team")
    people = [make_user(f"p{n}") for n in range(5)]
    for person in people:
        social.follow_user(alice, person.username)
    lists.add_accounts(alice, team.id, [p.id for p in people])
    first = lists.list_members(alice, team.id, Cursor(limit=2))
    assert [u.id for u in first] == [people[4].id, people[3].id]
    rest = lists.list_members(alice, team.id, Cursor(max_id=first[-1].id, limit=10))
    assert [u.id for u in rest] == [people[2].id, people[1].id, people[0].id]
    above = lists.list_members(alice, team.id, Cursor(min_id=people[1].id, limit=2))
    assert [u.id for u in above] == [people[3].id, people[2].id]


def test_a_private_community_on_a_list_is_listed_to_its_members_only(app, alice):
    carol = make_user("carol")
    secret = make_community(carol, "secret", private=True, members=(alice,))
    hidden = make_community(carol, "hidden", private=True)
    team = lists.create_list(alice, "Team")
    lists.add_accounts(alice, team.id, [secret.id])
    make_post(carol, "@hidden members only")
    # A row the services would never leave (leaving takes it off): the read rules still hold.
    db.session.add(ListAccount(list_id=team.id, account_id=hidden.id))
    db.session.commit()
    assert [u.username for u in lists.list_members(alice, team.id)] == ["secret"]
    assert _texts(list_timelines.list_timeline(alice, team)) == []


def test_a_deleted_lists_id_is_never_given_to_another_list(app, alice, bob):
    from microblog.services import lists

    first = lists.save_search(alice, "budget")
    lists.delete_list(alice, first.id)
    second = lists.save_search(bob, "zebra")
    assert second.id != first.id  # a stream still open on the old id hears nothing of bob's


def test_a_saved_searchs_own_query_sent_back_as_its_title_changes_nothing(app, alice):
    from microblog.services import lists

    saved = lists.create_list(alice, "search:search: walrus")
    assert saved.query == "search: walrus"
    lists.update_list(alice, saved.id, title="search: walrus", replies_policy="followed")
    assert saved.query == "search: walrus"
