"""A post's home event, published once, reaches exactly the connected people whose home timeline holds it.

Each process decides among its own clients from what it knows of them
(realtime.relations): whom and which tags they follow, kept current as that
changes.  Here every decision is compared with the query that says whose
home timeline holds the post (timelines.home_audience, the home timeline's
own sources, privacy included), after each change that could move it.
"""

from __future__ import annotations

import pytest

import realtime
import search
from microblog.database import db
from microblog.services import communities, editing, lists, posts, social, timelines, visibility
from models import User

from . import home_world
from .factories import login, make_post
from .server import flask_cli, server_env


@pytest.fixture
def world(app):
    return home_world.build()


@pytest.fixture
def clients(app, world):
    people, _ops, _guild = world
    connected = {}
    for name in people:
        http = app.test_client()
        login(http, name)
        connected[name] = realtime.socketio.test_client(app, flask_test_client=http)
        assert connected[name].is_connected()
    yield connected
    for sio in connected.values():
        if sio.is_connected():
            sio.disconnect()


def _heard(clients) -> dict[str, set[tuple[str, str]]]:
    """Return, per person, the (event, post id) their `user` stream got since the last call."""
    heard: dict[str, set[tuple[str, str]]] = {}
    for name, sio in clients.items():
        for event in sio.get_received():
            data = event["args"][0]
            if event["name"] in ("update", "status.update", "delete") and data.get("stream") == ["user"]:
                assert "home" not in data  # the facts stay in the server
                payload = data["payload"]
                heard.setdefault(name, set()).add((event["name"], str(payload["id"])))
    return heard


def _holders(world, post_id: int) -> set[str]:
    """Return who the query says holds the post in their home timeline (and may see it)."""
    people, _ops, _guild = world
    names = {user.id: name for name, user in people.items()}
    holders = timelines.home_audience(post_id, visibility.audience(post_id))
    return {names[uid] for uid in holders if uid in names}


def _check(world, clients, event: str, post_id: int, holders: set[str]) -> None:
    heard = _heard(clients)
    got = {name for name, events in heard.items() if (event, str(post_id)) in events}
    assert got == holders, f"{event} of {post_id}"


def _posts_of_every_kind(world, clients) -> None:
    """Post, like, edit and delete posts of every kind, checking each event against the query."""
    people, ops, guild = world
    alice = people["alice"]
    texts = [
        "Plain status",
        "Release notes #apollo",
        "Asking @nora and @frank",
        "@ops the zebra plan #apollo @nora",  # private: its members only, mentioned or not
        "@guild weekly sync",
        "Saved-search bait: kiwi",
    ]
    made = []
    for text in texts:
        post = make_post(alice, text)
        holders = _holders(world, post.id)
        # The query agrees with the home timelines themselves: the new post tops exactly these.
        tops = {name: [p.id for p in timelines.home_timeline(u).posts[:1]] for name, u in people.items()}
        assert holders == {name for name, top in tops.items() if top == [post.id]}
        _check(world, clients, "update", post.id, holders)
        made.append(post)
    for post in made:
        holders = _holders(world, post.id)
        posts.like_post(alice, post.id)  # the author is a member of each community she posts in
        _check(world, clients, "status.update", post.id, holders)
        editing.edit_post(alice, post.id, db.session.get_one(type(post), post.id).text + " (edited)")
        _check(world, clients, "status.update", post.id, _holders(world, post.id))
    for post in made:
        holders = _holders(world, post.id)
        posts.delete_post(alice, post.id)
        _check(world, clients, "delete", post.id, holders)


def test_home_events_reach_exactly_whose_home_holds_the_post_after_every_change(app, world, clients):
    people, ops, guild = world
    lists.save_search(people["gina"], "kiwi", in_home=True)
    _heard(clients)
    changes = [
        lambda: None,  # as the world was built
        lambda: social.follow_user(people["bob"], "alice"),
        lambda: social.follow_tag(people["carol"], "apollo"),
        lambda: communities.join(people["frank"], guild),
        lambda: communities.add_member(None, ops, people["gina"]),
        # bob reads alice in a list, not in home
        lambda: home_world.exclusive_list(people["bob"], people["alice"]),
        lambda: lists.update_list(people["bob"], lists.lists_of(people["bob"])[0].id, exclusive=False),
        lambda: social.unfollow_user(people["bob"], "alice"),
        lambda: social.unfollow_tag(people["carol"], "apollo"),
        lambda: communities.leave(people["dave"], ops),  # a member leaves: ops' posts no longer reach her
        lambda: communities.remove_member(None, ops, people["gina"]),
        lambda: communities.leave(people["frank"], guild),
    ]
    for change in changes:
        change()
        _heard(clients)  # what the change itself sent (notifications, counts)
        _posts_of_every_kind(world, clients)
        search.drain()  # the saved search's hits, so edits and deletes find their owner


def test_what_a_process_knows_of_a_person_lasts_as_long_as_their_clients(app, world):
    people, _ops, _guild = world
    before = realtime.home_people()
    first, second = (
        realtime.socketio.test_client(app, flask_test_client=_logged_in(app, "bob")) for _ in "12"
    )
    assert realtime.home_people() == before + 1  # two clients, one person
    first.disconnect()
    assert realtime.home_people() == before + 1
    second.disconnect()
    assert realtime.home_people() == before
    listener = realtime.listen([realtime.user_room(people["carol"].id), "public"])
    assert realtime.home_people() == before + 1
    realtime.stop_listening(listener)
    assert realtime.home_people() == before


def test_a_follow_made_while_connected_brings_the_next_post_live(app, world, clients):
    people, _ops, _guild = world
    _heard(clients)
    social.follow_user(people["frank"], "bob")
    post = make_post(people["bob"], "Frank listens now")
    assert ("update", str(post.id)) in _heard(clients).get("frank", set())
    social.unfollow_user(people["frank"], "bob")
    post = make_post(people["bob"], "Frank left")
    assert ("update", str(post.id)) not in _heard(clients).get("frank", set())


def test_a_member_removed_while_connected_hears_no_private_post(app, world, clients):
    people, ops, _guild = world
    assert db.session.get(User, people["dave"].id)
    communities.remove_member(None, ops, people["dave"])
    _heard(clients)
    post = make_post(people["alice"], "@ops after dave left")
    assert post.visibility == "private"
    heard = _heard(clients)
    assert ("update", str(post.id)) not in heard.get("dave", set())
    assert ("update", str(post.id)) in heard.get("alice", set())


def test_a_member_added_at_the_command_line_hears_the_next_private_post_without_redis(app, world, clients):
    # `make run` has no Redis: the command line marks a file the site looks at before it picks.
    people, _ops, _guild = world
    before = make_post(people["alice"], "@ops before frank joins")
    assert ("update", str(before.id)) not in _heard(clients).get("frank", set())
    # The command line, as IT runs it against this site's database and data directory.
    env = server_env(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATA_DIR"], 0)
    flask_cli(env, "communities", "add", "ops", "frank")
    db.session.rollback()  # the test's session: end its snapshot, as a new request would
    after = make_post(people["alice"], "@ops after frank joined")
    assert after.visibility == "private"
    assert ("update", str(after.id)) in _heard(clients).get("frank", set())


def _logged_in(app, name: str):
    http = app.test_client()
    login(http, name)
    return http


def test_facts_that_do_not_say_who_may_see_the_post_reach_no_one():
    assert realtime.HomeFacts.from_message({"author": 1, "tags": ["apollo"]}) is None
    assert realtime.HomeFacts.from_message({"author": 1, "members": None}) == realtime.HomeFacts(author=1)
    private = realtime.HomeFacts.from_message({"author": 1, "community": 9, "members": [1, 2]})
    assert private is not None and private.members == frozenset({1, 2})
