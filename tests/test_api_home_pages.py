"""Home pages answered again from their JSON (api.timelines): the same bytes only for the same posts and URL.

After each change that a page shows, what a warm process answers is compared
with what a process that kept nothing builds; and a page that did not change
is shown not to be built again, so the comparison is of the kept bytes.
"""

from __future__ import annotations

import pytest

from microblog.api import timelines as api_timelines
from microblog.database import db
from microblog.services import accounts, bookmarks, communities, editing, posts, social

from .factories import make_community, make_post, make_token, make_user

HOME = "/api/v1/timelines/home"


@pytest.fixture
def built(monkeypatch):
    """Count the pages whose JSON was built (not answered from what was kept)."""
    calls: list[int] = []
    build = api_timelines.statuses_page

    def counting(page):
        calls.append(len(page.posts))
        return build(page)

    monkeypatch.setattr(api_timelines, "statuses_page", counting)
    return calls


def _fresh(app, client, path, headers):
    """Return what a process keeping no pages and no entities answers."""
    app.extensions.pop("microblog.api.home_pages", None)
    app.extensions.pop("microblog.entities", None)
    return client.get(path, headers=headers)


def _same_as_fresh(app, client, path, headers):
    warm = client.get(path, headers=headers)
    fresh = _fresh(app, client, path, headers)
    assert warm.status_code == fresh.status_code == 200
    assert warm.get_data() == fresh.get_data()
    assert warm.headers.get("Link") == fresh.headers.get("Link")
    client.get(path, headers=headers)  # kept again, for the next change
    return warm


def test_an_unchanged_page_is_answered_from_its_kept_json(client, alice, bob, built):
    social.follow_user(alice, "bob")
    for i in range(3):
        make_post(bob, f"Status {i}")
    auth = make_token(alice)
    first = client.get(HOME, headers=auth)
    again = client.get(HOME, headers=auth)
    assert len(built) == 1  # the second was not built
    assert again.get_data() == first.get_data() and len(again.get_json()) == 3
    assert again.mimetype == "application/json"


def _like_by_someone_else(alice, bob, carol, post_id):
    posts.like_post(carol, post_id)


def _like_by_the_reader(alice, bob, carol, post_id):
    posts.like_post(alice, post_id)


def _bookmark_by_the_reader(alice, bob, carol, post_id):
    bookmarks.bookmark_post(alice, post_id)


def _edit(alice, bob, carol, post_id):
    editing.edit_post(bob, post_id, "Status, edited #apollo")


def _rename_the_author(alice, bob, carol, post_id):
    accounts.update_profile(bob, display_name="Bob B. Berg")


def _reply(alice, bob, carol, post_id):
    make_post(carol, "A reply", in_reply_to=post_id)


def _delete(alice, bob, carol, post_id):
    posts.delete_post(bob, post_id)


def _new_post(alice, bob, carol, post_id):
    make_post(bob, "Newer")


CHANGES = [
    _like_by_someone_else,
    _like_by_the_reader,
    _bookmark_by_the_reader,
    _edit,
    _rename_the_author,
    _reply,
    _delete,
    _new_post,
]


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_a_page_shows_is_answered_as_a_fresh_process_builds_it(app, client, alice, bob, change):
    carol = make_user("carol")
    social.follow_user(alice, "bob")
    for i in range(3):
        make_post(bob, f"Status {i}")
    shown = make_post(bob, "Status shown #apollo")
    post_id = shown.id
    auth = make_token(alice)
    before = _same_as_fresh(app, client, HOME, auth)
    change(alice, bob, carol, post_id)
    db.session.expire_all()
    after = _same_as_fresh(app, client, HOME, auth)
    assert after.get_data() != before.get_data()


def test_each_reader_and_each_url_has_its_own_page(client, alice, bob):
    carol = make_user("carol")
    social.follow_user(alice, "bob")
    social.follow_user(carol, "bob")
    post_id = make_post(bob, "Seen by both").id
    make_post(bob, "Older? no, newer")
    posts.like_post(alice, post_id)
    alice_auth, carol_auth = make_token(alice), make_token(carol)
    mine = client.get(HOME, headers=alice_auth).get_json()
    theirs = client.get(HOME, headers=carol_auth).get_json()
    assert [s["favourited"] for s in mine] == [False, True]
    assert [s["favourited"] for s in theirs] == [False, False]  # not alice's kept page
    # Another limit: another page, and its Link.
    one = client.get(HOME + "?limit=1", headers=alice_auth)
    assert len(one.get_json()) == 1 and "limit=1" in one.headers["Link"]
    whole = client.get(HOME, headers=alice_auth)
    assert len(whole.get_json()) == 2 and "limit" not in whole.headers["Link"]
    # The same posts, asked with another URL: its parameters carry over into Link.
    same = client.get(HOME + "?limit=20", headers=alice_auth)
    assert same.get_data() == whole.get_data() and "limit=20" in same.headers["Link"]


def test_a_private_post_leaves_the_kept_page_when_its_reader_leaves_the_community(client, alice, bob, built):
    # The page's posts are read and checked as always; kept JSON never stands in for a post one may not see.
    leaders = make_community(alice, "leaders", private=True, members=(bob,))
    social.follow_user(bob, "alice")
    make_post(alice, "Public news")
    make_post(alice, "@leaders budget")
    auth = make_token(bob)
    assert len(client.get(HOME, headers=auth).get_json()) == 2
    assert len(client.get(HOME, headers=auth).get_json()) == 2
    assert len(built) == 1  # kept
    communities.remove_member(alice, leaders, bob)
    db.session.expire_all()
    assert [s["content"] for s in client.get(HOME, headers=auth).get_json()] == ["<p>Public news</p>"]


def test_a_page_too_large_to_keep_is_built_each_time(client, alice, bob, built, monkeypatch):
    # Posts measure 140 characters but a link counts as 23 whatever its length: pages have no size.
    social.follow_user(alice, "bob")
    make_post(bob, "Read https://intranet.example/" + "a" * 3000)
    auth = make_token(alice)
    monkeypatch.setattr(api_timelines, "KEPT_PAGE_BYTES", 2000)
    first = client.get(HOME, headers=auth)
    assert len(first.get_data()) > 2000
    assert client.get(HOME, headers=auth).get_data() == first.get_data()
    assert len(built) == 2  # built again: nothing was kept
