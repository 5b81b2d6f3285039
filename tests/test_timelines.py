"""Feeds: who sees what, keyset pagination, and a constant number of queries per page."""

import pytest

from microblog.services import kept_homes, social, timelines
from microblog.services.errors import ValidationError
from microblog.services.timelines import Cursor

from .factories import make_post, make_user


def _texts(page) -> list[str]:
    return [p.text for p in page.posts]


@pytest.fixture
def company(app, alice, bob):
    """alice follows bob and #apollo; carol is a stranger who sometimes mentions alice."""
    carol = make_user("carol")
    social.follow_user(alice, "bob")
    social.follow_tag(alice, "apollo")
    make_post(carol, "carol alone")
    make_post(bob, "bob 1")
    make_post(carol, "carol on #Apollo")
    make_post(alice, "alice own")
    make_post(carol, "hey @alice")
    make_post(carol, "carol #gemini")
    return carol


def test_home_has_own_followed_people_tags_and_mentions(app, alice, company):
    page = timelines.home_timeline(alice)
    assert _texts(page) == ["hey @alice", "alice own", "carol on #Apollo", "bob 1"]


def test_other_feeds(app, alice, bob, company):
    assert _texts(timelines.public_timeline(alice))[:2] == ["carol #gemini", "hey @alice"]
    assert len(timelines.public_timeline(alice).posts) == 6
    assert _texts(timelines.user_timeline(alice, bob)) == ["bob 1"]
    assert _texts(timelines.tag_timeline(alice, social.access_tag("apollo"))) == ["carol on #Apollo"]
    assert _texts(timelines.mentions_timeline(alice)) == ["hey @alice"]
    assert _texts(timelines.home_timeline(company)) == _texts(timelines.user_timeline(company, company))


def test_unfollowing_removes_posts_from_home(app, alice, company):
    social.unfollow_user(alice, "bob")
    social.unfollow_tag(alice, "apollo")
    assert _texts(timelines.home_timeline(alice)) == ["hey @alice", "alice own"]


def test_keyset_pagination_walks_every_post_once(app, alice, bob):
    social.follow_user(alice, "bob")
    made = [make_post(bob if i % 2 else alice, f"post {i}").id for i in range(25)]
    seen, cursor = [], Cursor(limit=10)
    while True:
        page = timelines.home_timeline(alice, cursor)
        seen += [p.id for p in page.posts]
        if page.next_max_id is None:
            break
        cursor = Cursor(max_id=page.next_max_id, limit=10)
    assert seen == sorted(made, reverse=True)


def test_since_id_and_min_id(app, alice):
    ids = [make_post(alice, f"p{i}").id for i in range(6)]
    newest = timelines.home_timeline(alice, Cursor(since_id=ids[1], limit=2))
    assert [p.id for p in newest.posts] == [ids[5], ids[4]]  # newest two above since_id
    following = timelines.home_timeline(alice, Cursor(min_id=ids[1], limit=2))
    assert [p.id for p in following.posts] == [ids[3], ids[2]]  # the page right after min_id
    between = timelines.public_timeline(alice, Cursor(max_id=ids[4], since_id=ids[1]))
    assert [p.id for p in between.posts] == [ids[3], ids[2]]


def test_cursor_parse_clamps_and_refuses_nonsense():
    assert Cursor.parse({"limit": "1000"}).limit == 40
    assert Cursor.parse({"limit": "0"}).limit == 1
    assert Cursor.parse({}).limit == 20
    assert Cursor.parse({"max_id": "17"}).max_id == 17
    for bad in ({"max_id": "x"}, {"since_id": "-1"}, {"limit": "1e3"}):
        with pytest.raises(ValidationError):
            Cursor.parse(bad)


def test_a_page_costs_the_same_few_queries_whatever_its_size(app, alice, bob, count_queries):
    social.follow_user(alice, "bob")
    social.follow_tag(alice, "apollo")
    for i in range(40):
        make_post(bob if i % 2 else make_user(f"u{i}"), f"#apollo #t{i % 5} post {i}")
    _ = alice.id  # load the (expired) user outside the count
    kept_homes.before_read()  # PostgreSQL: a process's first read of its home pages asks the sequence once
    for limit in (5, 40, 40):  # the query's page, then the kept ids' (services.kept_homes)
        with count_queries() as counter:
            page = timelines.home_timeline(alice, Cursor(limit=limit))
        assert len(page.posts) == limit
        assert page.posts[0].author.username and page.posts[0].tags
        reads = [s for s in counter.statements if "plan_cache_mode" not in s]  # PostgreSQL: generic_plan()
        assert len(reads) == 1, counter.statements  # posts, authors, tags and likes together


def test_conversation_is_one_thread_oldest_first(app, alice, bob):
    root = make_post(alice, "root")
    r1 = make_post(bob, "r1", in_reply_to=root.id)
    make_post(alice, "elsewhere")
    r2 = make_post(alice, "r2", in_reply_to=r1.id)
    page = timelines.conversation(bob, r2)
    assert [p.id for p in page.posts] == [root.id, r1.id, r2.id]


def test_home_has_joined_communities_posts_newest_first_in_pages(app, alice, bob):
    """Posts of each joined community (a top-N per community on PostgreSQL) merge into home pages."""
    from .factories import make_community

    carol = make_user("carol")
    make_community(carol, "apollo-team", members=(alice,))
    make_community(carol, "secret", private=True, members=(alice,))
    make_community(carol, "elsewhere", private=True)
    make_community(carol, "open-elsewhere")
    for n in range(3):
        make_post(carol, f"@apollo-team a{n}")
        make_post(carol, f"@secret s{n}")
        make_post(carol, f"@elsewhere e{n}")
        make_post(carol, f"@open-elsewhere o{n}")
    texts = _texts(timelines.home_timeline(alice))
    assert texts == [
        "@secret s2",
        "@apollo-team a2",
        "@secret s1",
        "@apollo-team a1",
        "@secret s0",
        "@apollo-team a0",
    ]
    first = timelines.home_timeline(alice, Cursor(limit=2))
    assert _texts(first) == texts[:2]
    second = timelines.home_timeline(alice, Cursor(max_id=first.next_max_id, limit=3))
    assert _texts(second) == texts[2:5]
    newer = timelines.home_timeline(alice, Cursor(min_id=second.posts[-1].id, limit=2))
    assert sorted(p.id for p in newer.posts) == sorted(p.id for p in second.posts[:2][::-1])
    assert _texts(timelines.home_timeline(bob)) == []  # not a member of any: none of it
