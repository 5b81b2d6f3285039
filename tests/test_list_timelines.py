"""The feeds of lists and saved searches, their unread counts and read marks: who sees what, paging, cost."""

from __future__ import annotations

import pytest

from microblog.services import list_timelines, lists, saved_searches, social, timelines
from microblog.services.errors import NotFound, ValidationError
from microblog.services.timelines import Cursor

from .factories import make_community, make_hit, make_post, make_user


def _texts(page) -> list[str]:
    return [p.text for p in page.posts]


def _walk(read, limit: int) -> list[int]:
    """Return the ids of every page of a feed, following next_max_id."""
    seen, cursor = [], Cursor(limit=limit)
    while True:
        page = read(cursor)
        seen += [p.id for p in page.posts]
        if page.next_max_id is None:
            return seen
        cursor = Cursor(max_id=page.next_max_id, limit=limit)


@pytest.fixture
def world(app, alice, bob):
    """alice follows bob, carol and dave; carol runs a private community #secret with alice in it."""
    carol, dave = make_user("carol"), make_user("dave")
    for name in ("bob", "carol", "dave"):
        social.follow_user(alice, name)
    secret = make_community(carol, "secret", private=True, members=(alice,))
    return carol, dave, secret


# -- a list of accounts --------------------------------------------------------------------------


def test_a_list_shows_its_accounts_posts_and_its_communities(app, alice, bob, world):
    carol, dave, secret = world
    team = lists.create_list(alice, "Team")
    lists.add_accounts(alice, team.id, [bob.id, secret.id])
    make_post(bob, "bob 1")
    make_post(dave, "dave: not on the list")
    make_post(carol, "@secret inside")
    make_post(alice, "alice: not on the list")
    make_post(bob, "bob 2")
    assert _texts(list_timelines.list_timeline(alice, team)) == ["bob 2", "@secret inside", "bob 1"]


@pytest.mark.parametrize(
    ("policy", "shown"),
    [
        ("list", ["to self", "to alice", "to carol (on the list)", "top"]),
        ("followed", ["to self", "to alice", "to dave (followed)", "to carol (on the list)", "top"]),
        ("none", ["to self", "to alice", "top"]),
    ],
)
def test_replies_are_shown_by_the_list_s_replies_policy(app, alice, bob, world, policy, shown):
    carol, dave, _secret = world
    stranger = make_user("erin")
    team = lists.create_list(alice, "Team", replies_policy=policy)
    lists.add_accounts(alice, team.id, [bob.id, carol.id])
    top = make_post(bob, "top")
    to_carol = make_post(carol, "carol says")
    to_dave = make_post(dave, "dave says")
    to_alice = make_post(alice, "alice says")
    to_stranger = make_post(stranger, "erin says")
    make_post(bob, "to carol (on the list)", in_reply_to=to_carol.id)
    make_post(bob, "to dave (followed)", in_reply_to=to_dave.id)
    make_post(bob, "to stranger", in_reply_to=to_stranger.id)
    make_post(bob, "to alice", in_reply_to=to_alice.id)
    make_post(bob, "to self", in_reply_to=top.id)
    texts = [t for t in _texts(list_timelines.list_timeline(alice, team)) if t != "carol says"]
    assert texts == shown


def test_a_list_never_shows_a_post_its_owner_may_not_see(app, alice, bob, world):
    carol, _dave, secret = world
    team = lists.create_list(alice, "Team")
    lists.add_accounts(alice, team.id, [carol.id])
    make_post(carol, "@secret for members")
    make_post(carol, "in public")
    assert _texts(list_timelines.list_timeline(alice, team)) == ["in public", "@secret for members"]
    social.unfollow_user(alice, "secret")  # alice leaves: its posts are gone from her list
    assert _texts(list_timelines.list_timeline(alice, team)) == ["in public"]


def test_an_exclusive_list_s_accounts_are_left_out_of_home(app, alice, bob, world):
    """As in Mastodon: following them brings nothing to home; a followed #tag or a mention still does."""
    carol, dave, _secret = world
    erin = make_user("erin")
    community = make_community(carol, "open", members=(alice, erin))
    social.follow_tag(alice, "apollo")
    team = lists.create_list(alice, "Team")
    lists.add_accounts(alice, team.id, [bob.id, community.id])
    make_post(bob, "bob")
    make_post(erin, "@open inside")
    make_post(bob, "bob on #apollo")
    make_post(bob, "@alice a word")
    make_post(dave, "dave")
    make_post(alice, "alice")
    everything = ["alice", "dave", "@alice a word", "bob on #apollo", "@open inside", "bob"]
    assert _texts(timelines.home_timeline(alice)) == everything
    lists.update_list(alice, team.id, exclusive=True)
    assert _texts(timelines.home_timeline(alice)) == ["alice", "dave", "@alice a word", "bob on #apollo"]
    assert _texts(list_timelines.list_timeline(alice, team)) == [
        "@alice a word",
        "bob on #apollo",
        "@open inside",
        "bob",
    ]
    assert "bob" in _texts(timelines.home_timeline(bob))  # only alice's home
    lists.remove_accounts(alice, team.id, [bob.id])
    assert _texts(timelines.home_timeline(alice)) == [
        "alice",
        "dave",
        "@alice a word",
        "bob on #apollo",
        "bob",
    ]


# -- a saved search, and all of them ---------------------------------------------------------------


def test_a_saved_search_shows_its_hits_newest_first(app, alice, bob):
    saved = lists.save_search(alice, "apollo")
    other = lists.save_search(alice, "gemini")
    posts = [make_post(bob, f"apollo {n}") for n in range(3)]
    gemini = make_post(bob, "gemini and apollo")
    for post in posts:
        make_hit(saved, post)
    make_hit(saved, gemini)
    make_hit(other, gemini)
    make_post(bob, "apollo, but the percolator never matched it")
    assert _texts(list_timelines.list_timeline(alice, saved)) == [
        "gemini and apollo",
        "apollo 2",
        "apollo 1",
        "apollo 0",
    ]
    assert _texts(list_timelines.list_timeline(alice, other)) == ["gemini and apollo"]
    signals = list_timelines.signals_timeline(alice)
    assert _texts(signals) == ["gemini and apollo", "apollo 2", "apollo 1", "apollo 0"]  # each once
    assert list_timelines.signals_timeline(bob).posts == []


def test_saved_search_hits_in_a_community_one_left_are_gone_from_every_feed_and_count(app, alice, bob, world):
    carol, _dave, _secret = world
    saved = lists.save_search(alice, "roadmap")
    inside = make_post(carol, "@secret roadmap draft")
    outside = make_post(carol, "public roadmap")
    make_hit(saved, inside)
    make_hit(saved, outside)
    assert _texts(list_timelines.list_timeline(alice, saved)) == ["public roadmap", "@secret roadmap draft"]
    assert saved_searches.unread_counts(alice) == {saved.id: 2}
    social.unfollow_user(alice, "secret")
    assert _texts(list_timelines.list_timeline(alice, saved)) == ["public roadmap"]
    assert _texts(list_timelines.signals_timeline(alice)) == ["public roadmap"]
    assert saved_searches.unread_counts(alice) == {saved.id: 1}


@pytest.mark.parametrize("feed", ["accounts", "search", "signals"])
def test_every_list_feed_pages_by_keyset(app, alice, bob, feed):
    social.follow_user(alice, "bob")
    team = lists.create_list(alice, "Team")
    lists.add_accounts(alice, team.id, [bob.id])
    saved = lists.save_search(alice, "apollo")
    also = lists.save_search(alice, "gemini")
    made = []
    for n in range(7):
        post = make_post(bob, f"apollo gemini {n}")
        make_hit(saved, post)
        make_hit(also, post)
        made.append(post.id)
    if feed == "signals":
        read = lambda cursor: list_timelines.signals_timeline(alice, cursor)  # noqa: E731
    else:
        lst = team if feed == "accounts" else saved
        read = lambda cursor: list_timelines.list_timeline(alice, lst, cursor)  # noqa: E731
    assert _walk(read, 3) == sorted(made, reverse=True)
    assert [p.id for p in read(Cursor(since_id=made[1], limit=2)).posts] == [made[6], made[5]]
    assert [p.id for p in read(Cursor(min_id=made[1], limit=2)).posts] == [made[3], made[2]]
    assert [p.id for p in read(Cursor(max_id=made[5], since_id=made[2])).posts] == [made[4], made[3]]


@pytest.mark.parametrize("feed", ["accounts", "search", "signals"])
def test_a_list_page_is_one_statement_whatever_its_size(app, alice, bob, count_queries, feed):
    social.follow_user(alice, "bob")
    team = lists.create_list(alice, "Team", replies_policy="followed")
    lists.add_accounts(alice, team.id, [bob.id])
    saved = lists.save_search(alice, "apollo")
    for n in range(40):
        post = make_post(bob, f"#apollo #t{n % 5} post {n}")
        make_hit(saved, post)
    lst = team if feed == "accounts" else saved
    _ = (alice.id, lst.kind, lst.replies_policy, lst.user_id)  # load them outside the count
    for limit in (5, 40):
        with count_queries() as counter:
            if feed == "signals":
                page = list_timelines.signals_timeline(alice, Cursor(limit=limit))
            else:
                page = list_timelines.list_timeline(alice, lst, Cursor(limit=limit))
        assert len(page.posts) == limit
        assert page.posts[0].author.username == "bob" and page.posts[0].tags
        assert counter.count == 1, counter.statements


# -- unread counts and read marks -----------------------------------------------------------------


def test_nothing_is_unread_at_first_then_new_hits_are(app, alice, bob):
    old = make_post(bob, "apollo, before the search was saved")
    saved = lists.save_search(alice, "apollo")
    team = lists.create_list(alice, "Team")
    assert saved.last_read_id == old.id
    make_hit(saved, old)  # a late hit of an old post: read already
    assert saved_searches.unread_counts(alice) == {saved.id: 0}
    new = [make_post(bob, f"apollo {n}") for n in range(3)]
    for post in new:
        make_hit(saved, post)
    assert saved_searches.unread_counts(alice) == {saved.id: 3}
    assert team.id not in saved_searches.unread_counts(alice)
    assert saved_searches.unread_counts(bob) == {}


def test_unread_counts_stop_at_the_cap_in_one_statement(app, alice, bob, count_queries, monkeypatch):
    monkeypatch.setattr(saved_searches, "UNREAD_MAX", 2)
    saved, other = lists.save_search(alice, "apollo"), lists.save_search(alice, "gemini")
    for n in range(3):
        make_hit(saved, make_post(bob, f"apollo {n}"))
    make_hit(other, make_post(bob, "gemini"))
    _ = alice.id
    with count_queries() as counter:
        counts = saved_searches.unread_counts(alice)
    assert counts == {saved.id: 2, other.id: 1}
    assert counter.count == 1, counter.statements


def test_mark_read_only_moves_forward_and_never_past_the_newest_post(app, alice, bob):
    saved = lists.save_search(alice, "apollo")
    posts = [make_post(bob, f"apollo {n}") for n in range(4)]
    for post in posts:
        make_hit(saved, post)
    assert lists.access_list(alice, saved.id).last_read_id < posts[0].id
    assert saved_searches.mark_read(alice, saved.id, posts[2].id).last_read_id == posts[2].id
    assert saved_searches.unread_counts(alice) == {saved.id: 1}
    assert saved_searches.mark_read(alice, str(saved.id), str(posts[0].id)).last_read_id == posts[2].id
    assert saved_searches.mark_read(alice, saved.id, 10**12).last_read_id == posts[3].id
    assert saved_searches.unread_counts(alice) == {saved.id: 0}
    for bad in ("x", "-1", None):
        with pytest.raises(ValidationError):
            saved_searches.mark_read(alice, saved.id, bad)
    with pytest.raises(NotFound):
        saved_searches.mark_read(bob, saved.id, posts[3].id)


def test_mark_all_read(app, alice, bob):
    first, second = lists.save_search(alice, "apollo"), lists.save_search(alice, "gemini")
    bobs = lists.save_search(bob, "apollo")
    post = make_post(bob, "apollo gemini")
    for saved in (first, second, bobs):
        make_hit(saved, post)
    saved_searches.mark_all_read(alice)
    assert saved_searches.unread_counts(alice) == {first.id: 0, second.id: 0}
    assert saved_searches.unread_counts(bob) == {bobs.id: 1}
