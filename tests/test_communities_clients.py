"""The communities contract (DESIGN.md "Communities") with Mastodon.py against a real server process.

A community is a group account: locked when private, joined by following it, its
join requests are follow requests; a post addressing its @handle is posted into
it.  The communities are made by IT with the CLI, as in production.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError

from .server import client_site, flask_cli, running_server
from .test_api_clients import Collector, _listening, mastodon_for

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """gunicorn + gevent (production mode) on SQLite; alice runs @secret (private) and @apollo (public)."""
    env = client_site(tmp_path_factory.mktemp("communities-clients"), "alice", "bob", "carol")
    created = flask_cli(
        env, "communities", "create", "secret", "--name", "Secret project", "--owner", "alice", "--private"
    )
    assert "Created the private community @secret" in created
    flask_cli(env, "communities", "create", "apollo", "--name", "Apollo", "--owner", "alice")
    listing = flask_cli(env, "communities", "list")
    assert "@secret" in listing and "private" in listing and "@apollo" in listing
    with running_server(env, gunicorn=True) as url:
        yield url


def _wait_for(predicate, timeout: float = 10) -> bool:
    """Return once predicate() is true (the search index follows posts about a second later)."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)
    return predicate()


def _refusal(call) -> tuple[int, str]:
    with pytest.raises(MastodonAPIError) as error:
        call()
    return error.value.args[1], str(error.value)


def test_a_private_community_with_mastodon_py(server):
    alice, bob, carol = (mastodon_for(server, name) for name in ("alice", "bob", "carol"))

    # The Account of a community: a group, locked when private.
    secret, apollo = alice.account_lookup("secret"), alice.account_lookup("apollo")
    assert (secret.group, secret.locked, apollo.group, apollo.locked) == (True, True, True, False)
    assert carol.account(secret.id).display_name == "Secret project"

    # Posting with @handle lands in the community: private, whatever the client's default.
    post = alice.status_post("@secret budget numbers are in #plans")
    assert post.visibility == "private" and "secret" in [m.acct for m in post.mentions]
    marker = alice.status_post("Public numbers are in #plans")  # what search will find for everyone

    # A colleague follows the private community: a join request, told to its admin.
    admin_stream = Collector()
    handle = alice.stream_user(admin_stream, run_async=True)
    try:
        assert _listening(admin_stream)
        relationship = bob.account_follow(secret.id)
        assert (relationship.following, relationship.requested) == (False, True)
        assert admin_stream.wait_for([("notification", "follow_request")]), admin_stream.events
    finally:
        handle.close()
    assert bob.account_relationships(secret.id)[0].requested is True
    with pytest.raises(MastodonNotFoundError):
        bob.status(post.id)  # not yet a member
    (note,) = alice.notifications(types=["follow_request"])
    assert note.account.acct == "bob" and note.status is None

    # The admin authorizes it through the follow requests screen's calls.
    assert [a.acct for a in alice.follow_requests()] == ["bob"]
    member_stream = Collector()
    handle = bob.stream_user(member_stream, run_async=True)
    try:
        assert _listening(member_stream)
        alice.follow_request_authorize(bob.account_lookup("bob").id)
        assert member_stream.wait_for([("notification", "join_accepted")]), member_stream.events
    finally:
        handle.close()
    assert alice.follow_requests() == []
    (accepted,) = bob.notifications(types=["join_accepted"])  # Mastodon.py takes a type it does not know
    assert accepted.type == "join_accepted" and accepted.account.acct == "secret" and accepted.account.group
    assert bob.account_relationships(secret.id)[0].following is True

    # The member now reads the private post everywhere it belongs.
    assert bob.status(post.id).visibility == "private"
    assert post.id in [s.id for s in bob.account_statuses(secret.id)]
    assert post.id in [s.id for s in bob.timeline_home()]
    assert _wait_for(lambda: post.id in [s.id for s in bob.search_v2("budget").statuses])

    # A non-member: not found, and nowhere in the public and hashtag timelines or search.
    with pytest.raises(MastodonNotFoundError):
        carol.status(post.id)
    with pytest.raises(MastodonNotFoundError):
        carol.status_context(post.id)
    assert post.id not in [s.id for s in carol.timeline_public(limit=40)]
    assert marker.id in [s.id for s in carol.timeline_hashtag("plans")]
    assert post.id not in [s.id for s in carol.timeline_hashtag("plans")]
    assert carol.account_statuses(secret.id) == []
    assert _wait_for(lambda: marker.id in [s.id for s in carol.search_v2("numbers").statuses])
    assert post.id not in [s.id for s in carol.search_v2("numbers").statuses]
    assert post.id not in [s.id for s in carol.search_v2("budget").statuses]

    # A member's own post and reply stay private in the community.
    own = bob.status_post("@secret thanks for letting me in", visibility="public")
    assert own.visibility == "private"
    reply = bob.status_post("looks right to me", in_reply_to_id=post.id, visibility="private")
    assert reply.visibility == "private" and "secret" in [m.acct for m in reply.mentions]


def test_posts_that_may_not_go_into_a_community_are_422s_with_the_reason(server):
    alice, bob, carol = (mastodon_for(server, name) for name in ("alice", "bob", "carol"))
    inside = alice.status_post("@secret roadmap draft")
    status, message = _refusal(lambda: carol.status_post("@secret let me post"))
    assert status == 422 and "Join @secret to post in it." in message
    status, message = _refusal(lambda: alice.status_post("@secret and @apollo at once"))
    assert status == 422 and "one community only" in message
    status, message = _refusal(lambda: alice.status_post("@apollo moving this", in_reply_to_id=inside.id))
    assert status == 422 and "A reply stays where its post is" in message
    status, message = _refusal(lambda: bob.status_post("just for my team", visibility="private"))
    assert status == 422 and "Only a post in a private community is private" in message
    status, message = _refusal(lambda: bob.status_post("@alice psst", visibility="direct"))
    assert status == 422 and "Direct messages are not supported" in message


def test_joining_a_public_community_and_leaving(server):
    alice, carol = mastodon_for(server, "alice"), mastodon_for(server, "carol")
    apollo = carol.account_lookup("apollo")
    joined = carol.account_follow(apollo.id)
    assert (joined.following, joined.requested) == (True, False)
    assert "carol" in [a.acct for a in alice.account_followers(apollo.id)]
    post = carol.status_post("@apollo hello team")
    assert post.visibility == "public"
    assert carol.account_unfollow(apollo.id).following is False
    status, message = _refusal(lambda: alice.account_unfollow(apollo.id))
    assert status == 422 and "Appoint another admin of @apollo first" in message


def test_a_request_can_be_rejected_or_taken_back(server):
    alice, carol = mastodon_for(server, "alice"), mastodon_for(server, "carol")
    secret = carol.account_lookup("secret")
    carol_id = carol.me().id
    assert carol.account_follow(secret.id).requested is True
    assert carol.account_unfollow(secret.id).requested is False  # taken back
    assert alice.follow_requests() == []
    carol.account_follow(secret.id)
    assert alice.follow_request_reject(carol_id).id == carol_id
    assert carol.account_relationships(secret.id)[0].requested is False
    with pytest.raises(MastodonNotFoundError):
        alice.follow_request_reject(carol_id)
