"""Statuses kept once built (microblog.entities.status): never older than the values they are built from.

Each test changes one value a Status is built from and compares what a warm
process serves with what an empty one builds: a value left out of the key
would serve the old entity.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import pytest

from microblog import entities
from microblog.entities import AcceptedAnswer, Author, CommunityRef, FeedPost, MediaView

WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
IMAGE = MediaView(7, "a" * 32, "jpg", 800, 600, 400, 300, "A whiteboard", 0.0, 0.5, "LEHV6nWB2yk8")


def _author(**changes: object) -> Author:
    author = Author(3, "kari", "Kari Nordmann", True, "Runs #apollo", WHEN, 10, 4, 5)
    for name, value in changes.items():
        setattr(author, name, value)
    return author


def _post() -> FeedPost:
    return FeedPost(
        id=42,
        text="Ready? #apollo @ola",
        html='Ready? <a href="/tags/apollo">#apollo</a>',
        created_at=WHEN,
        in_reply_to_id=41,
        conversation_id=40,
        like_count=2,
        reply_count=1,
        author=_author(),
        tags=("apollo",),
        liked=False,
        mentions=((5, "ola"),),
        visibility="public",
        community=CommunityRef(9, "apollo-team", "Apollo", False),
        reply_to=(5, "ola"),
        is_question=True,
        accepted_answer=AcceptedAnswer(43, "Yes", 5, "ola", "Ola"),
        posted_by=None,
        bookmarked=False,
        pinned=False,
        pinned_in_community=False,
        edited_at=None,
        media=(IMAGE,),
    )


# Another value for each field a Status shows.
POST_CHANGES: dict[str, object] = {
    "id": 44,
    "text": "Ready! #apollo @ola",
    "html": 'Ready! <a href="/tags/apollo">#apollo</a>',
    "created_at": WHEN + timedelta(seconds=1),
    "in_reply_to_id": None,
    "conversation_id": None,
    "like_count": 3,
    "reply_count": 2,
    "tags": ("apollo", "gemini"),
    "liked": True,
    "mentions": (),
    "visibility": "private",
    "community": CommunityRef(10, "gemini-team", "Gemini", True),
    "reply_to": (6, "per"),
    "is_question": False,
    "accepted_answer": None,
    "bookmarked": True,
    "pinned": True,
    "edited_at": WHEN + timedelta(minutes=5),
    "media": (replace(IMAGE, description="The plan"),),
}
AUTHOR_CHANGES: dict[str, object] = {
    "id": 4,
    "username": "kari.n",
    "display_name": "Kari N.",
    "is_active": False,
    "bio": "Runs #gemini",
    "created_at": WHEN - timedelta(days=1),
    "posts_count": 11,
    "followers_count": 5,
    "following_count": 6,
    "kind": "team",
    "locked": True,
}
# What a Status does not show: who wrote a team's post, whether it is pinned in its community.
UNSHOWN = {"posted_by", "pinned_in_community", "author"}


def _built_afresh(app, post: FeedPost) -> dict:
    """Return the Status an empty process builds."""
    kept = app.extensions.pop("microblog.entities", None)
    try:
        return entities.status(post)
    finally:
        if kept is not None:
            app.extensions["microblog.entities"] = kept


def test_every_value_a_status_shows_is_covered():
    assert set(POST_CHANGES) | UNSHOWN == {f.name for f in fields(FeedPost)}
    assert set(AUTHOR_CHANGES) == {f.name for f in fields(Author)}


@pytest.mark.parametrize("name", sorted(POST_CHANGES))
def test_a_changed_post_is_built_again(app, name):
    with app.test_request_context("/"):
        first = entities.status(_post())
        changed = replace(_post(), **{name: POST_CHANGES[name]})
        served = entities.status(changed)
        assert served == _built_afresh(app, changed)
        assert served != first, f"changing {name} changes nothing a client sees"


@pytest.mark.parametrize("name", sorted(AUTHOR_CHANGES))
def test_a_changed_author_is_built_again(app, name):
    with app.test_request_context("/"):
        first = entities.status(_post())
        changed = replace(_post(), author=_author(**{name: AUTHOR_CHANGES[name]}))
        served = entities.status(changed)
        assert served == _built_afresh(app, changed)
        assert served["account"] != first["account"]


def test_each_reader_gets_their_own_marks_on_a_shared_status(app):
    with app.test_request_context("/"):
        mine = entities.status(replace(_post(), liked=True, bookmarked=True))
        theirs = entities.status(_post())
        assert (mine["favourited"], mine["bookmarked"]) == (True, True)
        assert (theirs["favourited"], theirs["bookmarked"]) == (False, False)
        assert entities.status(replace(_post(), liked=True, bookmarked=True)) == mine


def test_links_follow_the_address_the_site_is_reached_at(app):
    urls = set()
    for base in ("http://localhost/", "https://localhost/"):
        with app.test_request_context("/", base_url=base):
            served = entities.status(_post())
            assert served == _built_afresh(app, _post())
            assert served["url"] == f"{base}posts/42"
            assert served["account"]["url"].startswith(base)
            urls.add(served["url"])
    assert len(urls) == 2


def test_a_process_keeps_a_bounded_number(app, monkeypatch):
    monkeypatch.setattr(entities, "RENDERED_LIMIT", 5)
    app.extensions.pop("microblog.entities", None)
    with app.test_request_context("/"):
        for post_id in range(1, 12):
            entities.status(replace(_post(), id=post_id))
        kept = app.extensions["microblog.entities"]
        assert len(kept) == 5
        assert entities.status(replace(_post(), id=3)) == _built_afresh(app, replace(_post(), id=3))
