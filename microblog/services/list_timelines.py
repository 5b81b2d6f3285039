"""The feeds of lists: a list of accounts, a saved search, and all of a person's saved searches together.

Built as services.timelines builds every feed: one statement per page, keyset
paginated, the posts with their authors and tags, each shape of statement
built once.  Every page is filtered by who may see each post now
(visibility.post_is_visible, in timelines.page_ids): a hit in a private
community its owner has left is no longer shown, however old.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.orm import aliased

from microblog.database import db, is_postgresql, read_rows
from models import Follow, ListAccount, ListHit, Post, TimelineList, User
from models.timeline_list import SEARCH

from .timelines import Cursor, Page, feed_statement, page_ids, rows_to_posts

Shape = tuple[bool, bool, bool]

# Bound parameters, beside those of every feed (viewer, max_id, lower_id, limit).
_SUBJECT = bindparam("subject", type_=BigInteger)  # the list; for all saved searches, their owner
_OWNER = bindparam("owner", type_=Integer)  # whose list it is
_LIMIT = bindparam("limit", type_=Integer, literal_execute=True)


def _replies_shown(policy: str) -> ColumnElement[bool]:
    """Return which posts of a list's accounts it shows, by its replies_policy, as Mastodon does.

    Posts that reply to no one, replies to oneself and replies to the list's
    owner always; other replies: to anyone the owner follows (`followed`), to
    the list's accounts (`list`), or none (`none`).
    """
    parent = aliased(Post, name="replied")
    allowed = [parent.author_id == Post.author_id, parent.author_id == _OWNER]
    if policy == "followed":
        allowed.append(parent.author_id.in_(select(Follow.followee_id).where(Follow.follower_id == _OWNER)))
    elif policy == "list":
        allowed.append(
            parent.author_id.in_(select(ListAccount.account_id).where(ListAccount.list_id == _SUBJECT))
        )
    return or_(Post.in_reply_to_id.is_(None), exists().where(parent.id == Post.in_reply_to_id, or_(*allowed)))


def _merged(branches: list[Select], shape: Shape) -> Select:
    """Select one page of the ids of several branches' pages, newest first (min_id: the page just above)."""
    merged = union(*branches).subquery("merged")  # UNION: each id once
    order = merged.c.id.asc() if shape[2] else merged.c.id.desc()
    return select(merged.c.id).order_by(order).limit(_LIMIT)


def _accounts_ids(postgresql: bool, shape: Shape, policy: str) -> Select:
    """Select the ids of a list of accounts: their posts (replies by its policy) and its communities' posts.

    SQLite walks the id index once with an OR of index probes, as for home; on
    PostgreSQL each account is a top-N of its own (LATERAL, on posts(author_id, id)
    and posts(community_id, id)), merged: an `IN (...)` there walked the newest
    posts of everyone until a page was found.
    """
    members = select(ListAccount.account_id).where(ListAccount.list_id == _SUBJECT)
    replies = _replies_shown(policy)
    if not postgresql:
        # `+ 0` keeps SQLite off posts(author_id) and posts(community_id) (its documented way to
        # disqualify an index): through them it sorted every post of the list's accounts, each page.
        author, community = Post.author_id + literal_column("0"), Post.community_id + literal_column("0")
        by_member = and_(author.in_(members), replies)
        return page_ids(Post.id, [or_(by_member, community.in_(members))], shape)
    on_list = (
        select(ListAccount.account_id.label("id")).where(ListAccount.list_id == _SUBJECT).subquery("on_list")
    )
    written = page_ids(Post.id, [Post.author_id == on_list.c.id, replies], shape).lateral("written")
    posted_in = page_ids(Post.id, [Post.community_id == on_list.c.id], shape).lateral("posted_in")
    return _merged(
        [
            select(written.c.id).select_from(on_list.join(written, true())),
            select(posted_in.c.id).select_from(on_list.join(posted_in, true())),
        ],
        shape,
    )


def _search_ids(postgresql: bool, shape: Shape, policy: str) -> Select:
    """Select the ids of a saved search's hits (list_hits' primary key, list_id then post_id)."""
    return page_ids(ListHit.post_id, [ListHit.list_id == _SUBJECT], shape)


def _signals_ids(postgresql: bool, shape: Shape, policy: str) -> Select:
    """Select the ids of the hits of all of a person's saved searches, each post once.

    On PostgreSQL, one top-N per saved search (LATERAL) merged, as for a list of accounts.
    Only saved searches have hits, so their kind is not asked: SQLite, without statistics,
    would read every saved search through lists(kind, id) rather than the person's few.
    """
    searches = select(TimelineList.id).where(TimelineList.user_id == _SUBJECT)
    if not postgresql:
        return page_ids(ListHit.post_id, [ListHit.list_id.in_(searches)], shape).distinct()
    mine = searches.subquery("mine")
    hits = page_ids(ListHit.post_id, [ListHit.list_id == mine.c.id], shape).lateral("search_hits")
    newest = select(hits.c.id).select_from(mine.join(hits, true())).subquery("newest")
    order = newest.c.id.asc() if shape[2] else newest.c.id.desc()
    return select(newest.c.id).distinct().order_by(order).limit(_LIMIT)


_FEED_IDS = {"accounts": _accounts_ids, "search": _search_ids, "signals": _signals_ids}


@cache
def _statement(feed: str, policy: str, postgresql: bool, shape: Shape) -> Select:
    return feed_statement(_FEED_IDS[feed](postgresql, shape, policy))


def _page(feed: str, policy: str, subject: int, owner_id: int, viewer: User, cursor: Cursor | None) -> Page:
    cursor = cursor or Cursor()
    stmt = _statement(feed, policy, is_postgresql(db.engine), cursor.shape)
    params = {"subject": subject, "owner": owner_id, "viewer": viewer.id, **cursor.params()}
    return Page(rows_to_posts(read_rows(stmt, params)), cursor)


def list_timeline(viewer: User, lst: TimelineList, cursor: Cursor | None = None) -> Page:
    """Return a page of a list (from lists.access_list): its accounts' posts, or a saved search's hits."""
    if lst.kind == SEARCH:
        return _page("search", "", lst.id, lst.user_id, viewer, cursor)
    return _page("accounts", lst.replies_policy, lst.id, lst.user_id, viewer, cursor)


def signals_timeline(viewer: User, cursor: Cursor | None = None) -> Page:
    """Return a page of the hits of all of the viewer's saved searches, newest first, each post once."""
    return _page("signals", "", viewer.id, viewer.id, viewer, cursor)
