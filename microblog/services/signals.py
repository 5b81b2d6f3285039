"""Delivering what saved searches match ("incoming signals"): recorded once, streamed, notified.

The search indexer matches every newly written post against the saved searches
(search.percolator) and hands the matches here, in its transaction.  A match
counts only if the search's owner may see the post (a private community's post
reaches its members' searches only) and is still active.  Each is recorded as a
list hit exactly once (a post indexed twice, by two processes or after a
failure, adds nothing the second time), and only what this call recorded is
streamed and notified, after the commit:

- to the saved search's `list` stream (Socket.IO, SSE), where the web page's
  Signals view and stock Mastodon clients hear it;
- to its owner's home (`user` stream) when the search shows in home;
- as a notification (Mastodon's "status") when the search notifies.

A client that was away catches up from the hits (services.lists' feeds, and the
`list` stream's Last-Event-ID).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Insert, Integer, Row, Select, Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

import realtime
from microblog import entities
from microblog.database import db, is_postgresql, on_commit, read_rows
from microblog.entities import FeedPost
from models import ListAccount, ListHit, TimelineList, User
from search import PostDocument, SavedSearch

from . import kept_homes, notifications, timelines
from .visibility import Audience, audience

# Mastodon's notification type for "someone posted": a match of a search that notifies.
SIGNAL_NOTIFICATION = "status"


def deliver(matches: Sequence[tuple[SavedSearch, PostDocument]]) -> None:
    """Record the matches their owners may see, once each; stream and notify the new ones after the commit."""
    by_post: dict[int, list[int]] = {}
    for saved, doc in matches:
        by_post.setdefault(doc.id, []).append(saved.list_id)
    rows = db.session.execute(
        select(TimelineList.id, TimelineList.user_id, TimelineList.in_home, TimelineList.notify)
        .join(User, User.id == TimelineList.user_id)
        .where(TimelineList.id.in_({lid for ids in by_post.values() for lid in ids}), User.is_active)
    ).all()
    lists = {row.id: row for row in rows}
    wanted: list[dict[str, int]] = []
    for post_id, list_ids in by_post.items():
        seen_by = audience(post_id)
        wanted += [
            {"list_id": lid, "post_id": post_id}
            for lid in list_ids
            if lid in lists and seen_by.admits(lists[lid].user_id)
        ]
    recorded = _record(wanted)
    kept_homes.moved({lists[list_id].user_id for list_id, _post in recorded if lists[list_id].in_home})
    views: dict[int, tuple[FeedPost, dict[str, Any]] | None] = {}
    for list_id, post_id in recorded:
        if post_id not in views:
            view = timelines.announced_view(post_id)
            views[post_id] = (view, entities.status(view)) if view is not None else None
        shown = views[post_id]
        if shown is not None:
            _announce(shown[0], shown[1], lists[list_id])


def _record(hits: list[dict[str, int]]) -> list[tuple[int, int]]:
    """Insert the hits not recorded yet, in one statement; return those this call inserted."""
    if not hits:
        return []
    return [(list_id, post_id) for list_id, post_id in db.session.execute(_insert_hits(), hits)]


@cache
def _insert_hits_for(postgresql: bool) -> Insert:
    insert = postgresql_insert if postgresql else sqlite_insert
    hits = ListHit.__table__
    assert isinstance(hits, Table)
    return (
        insert(hits)
        .on_conflict_do_nothing(index_elements=["list_id", "post_id"])
        .returning(hits.c.list_id, hits.c.post_id)
    )


def _insert_hits() -> Insert:
    """Return the insert of hits that skips those recorded already and returns the rest (one statement)."""
    return _insert_hits_for(is_postgresql(db.engine))


def _announce(view: FeedPost, payload: dict[str, Any], saved: Row[Any]) -> None:
    """Stream one new hit to its list (and home), raise its owner's Signals badge, and notify if asked to."""
    list_id, owner_id = saved.id, saved.user_id
    streams = [realtime.list_stream(list_id)]
    if saved.in_home:
        streams.append(realtime.user_stream([owner_id]))
    if saved.notify:
        author = db.session.get_one(User, view.author.id)
        notifications.notify(SIGNAL_NOTIFICATION, author, [owner_id], view.id, view=view)

    badge = {"post_id": str(view.id), "list_id": str(list_id)}

    def send() -> None:
        for stream in streams:
            realtime.publish(stream, "update", payload, event_id=str(view.id))
        realtime.publish(realtime.signals_stream(owner_id), "signals", badge)

    on_commit(send)


@cache
def _lists_with_account() -> Select:
    return (
        select(TimelineList.id, TimelineList.user_id)
        .join(ListAccount, ListAccount.list_id == TimelineList.id)
        .where(ListAccount.account_id == bindparam("account", type_=Integer))
    )


def account_list_streams(author_id: int, seen_by: Audience) -> list[realtime.Stream]:
    """Return the `list` streams of accounts lists with this author on them, whose owners may see the post."""
    rows = read_rows(_lists_with_account(), {"account": author_id})
    return [realtime.list_stream(list_id) for list_id, owner_id in rows if seen_by.admits(owner_id)]


def home_owners(post_id: int) -> list[int]:
    """Return the owners of the saved searches a post matched that show their hits in home."""
    return list(
        db.session.scalars(
            select(TimelineList.user_id)
            .join(ListHit, ListHit.list_id == TimelineList.id)
            .where(ListHit.post_id == post_id, TimelineList.in_home)
        )
    )


def hits_since(list_id: int, after_post_id: int, limit: int = 200) -> list[int]:
    """Return the ids of a list's hits after a post id, oldest first (what a reconnecting stream missed)."""
    return list(
        db.session.scalars(
            select(ListHit.post_id)
            .where(ListHit.list_id == list_id, ListHit.post_id > after_post_id)
            .order_by(ListHit.post_id)
            .limit(limit)
        )
    )


def list_owner(list_id: int) -> int | None:
    """Return whose list this is (None: there is no such list): who may hear its stream."""
    return db.session.scalar(select(TimelineList.user_id).where(TimelineList.id == list_id))
