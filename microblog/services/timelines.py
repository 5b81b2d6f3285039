"""One query function per feed: newest first, keyset-paginated, authors and tags loaded with the posts.

A feed page is one SQL statement: the page's post ids come from an index,
bounded by `max_id` (older than), `since_id` (newer than) or `min_id` (the
page right after), and the same statement returns each post with its author,
tag names and whether the viewer liked it.  So a page costs one query,
whatever its size.  Never OFFSET: a live feed would shift under it.

Statements are built once per shape (feed, which cursor bounds, database)
with bound parameters and then reused: building a SQLAlchemy statement costs
more than SQLite takes to run it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    any_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, aliased

from microblog.database import db, generic_plan, id_of, is_postgresql, read_rows
from microblog.entities import AcceptedAnswer, Author, CommunityRef, FeedPost
from microblog.text import parse_id
from models import (
    Bookmark,
    Community,
    Follow,
    Like,
    ListAccount,
    ListHit,
    MediaAttachment,
    Pin,
    Post,
    Tag,
    TagFollow,
    TimelineList,
    User,
    mentions,
    post_tags,
)
from models.base import MAX_ID

from . import kept_homes, media
from .errors import ValidationError
from .visibility import Audience, post_is_visible

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
THREAD_LIMIT = 500

IdColumn = ColumnElement[int] | InstrumentedAttribute[int]


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: max_id and/or since_id, or min_id; and how many posts."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, args: Any = None, **kwargs: object) -> Cursor:
        """Build a cursor from query-string values, refusing nonsense with ValidationError."""
        values = dict(args or {}, **kwargs)

        def number(name: str) -> int | None:
            raw = values.get(name)
            if raw in (None, ""):
                return None
            value = parse_id(raw)
            if value is None:
                raise ValidationError(
                    _(
                        "%(name)s must be a whole number (ASCII digits), at most %(max)s.",
                        name=name,
                        max=MAX_ID,
                    )
                )
            return value

        limit = number("limit")
        return cls(
            max_id=number("max_id"),
            since_id=number("since_id"),
            min_id=number("min_id"),
            limit=DEFAULT_LIMIT if limit is None else max(1, min(limit, MAX_LIMIT)),
        )

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        """Which bounds are set: the part of a statement's shape that the cursor decides."""
        return (self.max_id is not None, self.since_id is not None, self.min_id is not None)

    def params(self) -> dict[str, int]:
        """Return the bound values of this page."""
        lower = max(self.since_id or 0, self.min_id or 0)
        return {"max_id": self.max_id or 0, "lower_id": lower, "limit": self.limit}


@dataclass
class Page:
    """One page of a feed, newest first (a conversation: oldest first)."""

    posts: list[FeedPost]
    cursor: Cursor

    @property
    def next_max_id(self) -> int | None:
        """Return max_id for the next (older) page, or None when this page is the last."""
        return self.posts[-1].id if len(self.posts) >= self.cursor.limit else None


# Bound parameters of every feed statement.
_SUBJECT = bindparam("subject", type_=Integer)  # the user, author or tag the feed is about
_VIEWER = bindparam("viewer", type_=Integer)  # who reads: what they may see, their likes (0: anonymous)
_MAX_ID = bindparam("max_id", type_=BigInteger)
_LOWER_ID = bindparam("lower_id", type_=BigInteger)
_LIMIT = bindparam("limit", type_=Integer, literal_execute=True)


def _ids(
    id_col: IdColumn,
    where: list[ColumnElement[bool]],
    shape: tuple[bool, bool, bool],
    post_id: IdColumn | None = None,
) -> Select:
    """Select one page of the ids of posts the viewer may see, from an index: bounded, ordered, limited.

    The page is ordered and bounded by `id_col`; `post_id`, when it is another column, is
    where the post's id is (selected as `post_id`: a bookmark's id pages, its post is shown).
    """
    has_max, has_since, has_min = shape
    bounds = [*where, post_is_visible(_VIEWER)]
    if has_max:
        bounds.append(id_col < _MAX_ID)
    if has_since or has_min:
        bounds.append(id_col > _LOWER_ID)
    order = id_col.asc() if has_min else id_col.desc()  # min_id: the page just above it
    ids = select(id_col.label("id"))
    if post_id is not None:
        ids = ids.add_columns(post_id.label("post_id"))
    post_col = id_col if post_id is None else post_id
    if post_col is not Post.id:  # ids from a link table: the visibility is the post's
        ids = ids.join(Post, Post.id == post_col)
    return ids.where(*bounds).order_by(order).limit(_LIMIT)


def author_columns(user: type[User]) -> list[InstrumentedAttribute[Any]]:
    """Return the columns of a user (or an alias of users) that make an Author, in its fields' order."""
    return [getattr(user, f.name) for f in fields(Author)]


def _with_posts(
    where: ColumnElement[bool] | None,
    *,
    oldest_first: bool = False,
    page: Subquery | None = None,
    post_id: ColumnElement[int] | None = None,
) -> Select:
    """Select posts with author, tag names and the viewer's like, in one statement.

    `page`, a subquery of post ids, comes first in the FROM clause, joined to the
    posts: PostgreSQL plans only join_collapse_limit (8) relations freely; past
    that, `posts.id IN (page)` was planned last, as a hash of the page after
    every post had been joined to its author (seconds for a million posts).
    For the same reason a question's accepted answer and the name of a team
    post's real author are loaded afterwards, only for a page that has them
    (_with_answers), never joined here: each join costs every page its
    planning, each subquery every row its look-up.
    """
    tag_names = (
        select(func.aggregate_strings(Tag.name, " "))
        .select_from(post_tags.join(Tag, Tag.id == post_tags.c.tag_id))
        .where(post_tags.c.post_id == Post.id)
        .scalar_subquery()
    )
    mentioned = (
        select(func.aggregate_strings(cast(User.id, String) + ":" + User.username, " "))
        .select_from(mentions.join(User, User.id == mentions.c.user_id))
        .where(mentions.c.post_id == Post.id)
        .scalar_subquery()
    )
    # The viewer's own marks, true or NULL: one look-up per row, by (post, viewer).  As EXISTS, PostgreSQL
    # may hash all the viewer's likes instead, and a plan made once for every viewer did, for 136,870.
    liked = select(true()).where(Like.post_id == Post.id, Like.user_id == _VIEWER).scalar_subquery()
    bookmarked = (
        select(true()).where(Bookmark.post_id == Post.id, Bookmark.user_id == _VIEWER).scalar_subquery()
    )
    pinned = exists().where(Pin.post_id == Post.id, Pin.account_id == Post.author_id)
    pinned_in_community = exists().where(Pin.post_id == Post.id, Pin.account_id == Post.community_id)
    community = aliased(User, name="community")
    parent = aliased(Post, name="parent")
    parent_author = aliased(User, name="parent_author")
    columns = select(
        Post.id,
        Post.text,
        Post.html,
        Post.created_at,
        Post.in_reply_to_id,
        Post.conversation_id,
        Post.like_count,
        Post.reply_count,
        *author_columns(User),
        tag_names,
        liked,
        mentioned,
        parent_author.id,
        parent_author.username,
        Post.visibility,
        community.id,
        community.username,
        community.display_name,
        community.locked,
        Post.is_question,
        Post.accepted_answer_id,
        Post.posted_by_id,
        bookmarked,
        pinned,
        pinned_in_community,
        Post.edited_at,
        exists().where(MediaAttachment.post_id == Post.id),
    )
    if page is not None:
        columns = columns.select_from(page).join(Post, Post.id == (page.c.id if post_id is None else post_id))
    stmt = (
        columns.join(User, User.id == Post.author_id)
        .outerjoin(community, community.id == Post.community_id)
        .outerjoin(parent, parent.id == Post.in_reply_to_id)
        .outerjoin(parent_author, parent_author.id == parent.author_id)
        .order_by(Post.id.asc() if oldest_first else Post.id.desc())
    )
    return stmt if where is None else stmt.where(where)


def _home_ids(postgresql: bool, shape: tuple[bool, bool, bool], *, probes: bool = False) -> Select:
    """Select the ids of a home timeline: own posts, followed people and tags, communities, mentions, signals.

    The shape differs by database (see ../shared/MEASUREMENTS.md): SQLite walks
    the id index once with an OR of cheap index probes; PostgreSQL would hash
    every post of a popular tag for that OR, so it merges one top-N per source.
    Joined communities are one top-N each (LATERAL, on posts(community_id, id)):
    as one `community_id IN (...)` PostgreSQL walked the newest posts until 20
    were in the reader's communities, all of them for a quiet community.
    Accounts on one of the reader's exclusive lists are read in that list, not
    in home (Mastodon's `exclusive`): following them brings nothing, as in
    Mastodon; a followed #tag or a mention still does.  They leave the set of
    followees, computed once, so no post pays for it.
    """
    followees = select(Follow.followee_id).where(
        Follow.follower_id == _SUBJECT, Follow.followee_id.not_in(_on_exclusive_lists())
    )
    followed_tags = select(TagFollow.tag_id).where(TagFollow.user_id == _SUBJECT)
    # Saved searches whose matches show in home (their hits: posts that matched as they were written).
    searches_in_home = select(TimelineList.id).where(TimelineList.user_id == _SUBJECT, TimelineList.in_home)
    if probes:  # each post looked up: PostgreSQL hashes every post of a followed tag for an EXISTS or IN
        tagged = _found(post_tags.c.post_id == Post.id, post_tags.c.tag_id.in_(followed_tags))
        mentioned = _found(mentions.c.post_id == Post.id, mentions.c.user_id == _SUBJECT)
        signalled = _found(ListHit.post_id == Post.id, ListHit.list_id.in_(searches_in_home))
    else:
        tagged = exists().where(post_tags.c.post_id == Post.id, post_tags.c.tag_id.in_(followed_tags))
        mentioned = exists().where(mentions.c.post_id == Post.id, mentions.c.user_id == _SUBJECT)
        signalled = Post.id.in_(select(ListHit.post_id).where(ListHit.list_id.in_(searches_in_home)))
    if not postgresql or probes:
        joined = Post.community_id.in_(followees)
        source = or_(
            Post.author_id == _SUBJECT, Post.author_id.in_(followees), joined, tagged, mentioned, signalled
        )
        return _ids(Post.id, [source], shape)
    people = _ids(Post.id, [Post.author_id.in_(followees.union_all(select(_SUBJECT)))], shape)
    member_of = (
        select(Follow.followee_id.label("id"))
        .join(Community, Community.id == Follow.followee_id)
        .where(Follow.follower_id == _SUBJECT, Follow.followee_id.not_in(_on_exclusive_lists()))
        .subquery("joined")
    )
    newest_in = _ids(Post.id, [Post.community_id == member_of.c.id], shape).lateral("community_posts")
    communities = select(newest_in.c.id).select_from(member_of.join(newest_in, true()))
    tags = _ids(post_tags.c.post_id, [post_tags.c.tag_id.in_(followed_tags)], shape)
    mention = _ids(mentions.c.post_id, [mentions.c.user_id == _SUBJECT], shape)
    signals = _ids(ListHit.post_id, [ListHit.list_id.in_(searches_in_home)], shape)
    merged = union(people, communities, tags, mention, signals).subquery()
    order = merged.c.id.asc() if shape[2] else merged.c.id.desc()
    return select(merged.c.id).order_by(order).limit(_LIMIT)


def _found(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """Return whether a row is found, as a look-up per row that no plan turns into a hash of every row."""
    return select(true()).where(*where).limit(1).scalar_subquery().is_not(None)


def _on_exclusive_lists() -> Select:
    """Select the accounts on the reader's (`subject`'s) exclusive lists."""
    return (
        select(ListAccount.account_id)
        .join(TimelineList, TimelineList.id == ListAccount.list_id)
        .where(TimelineList.user_id == _SUBJECT, TimelineList.exclusive == true())
    )


_HAS_MEDIA = exists().where(MediaAttachment.post_id == Post.id)

# Questions still waiting for an accepted answer (ix_posts_open_questions); boards count them too.
OPEN_QUESTION = [Post.is_question == true(), Post.accepted_answer_id.is_(None)]

_FEED_IDS: dict[str, Callable[[bool, tuple[bool, bool, bool]], Select]] = {
    "home": _home_ids,
    "public": lambda pg, shape: _ids(Post.id, [], shape),
    "user": lambda pg, shape: _ids(Post.id, [Post.author_id == _SUBJECT], shape),
    "tag": lambda pg, shape: _ids(post_tags.c.post_id, [post_tags.c.tag_id == _SUBJECT], shape),
    "mentions": lambda pg, shape: _ids(mentions.c.post_id, [mentions.c.user_id == _SUBJECT], shape),
    "community": lambda pg, shape: _ids(Post.id, [Post.community_id == _SUBJECT], shape),
    # With images (Mastodon's only_media): an account's posts walked by id, each probed for an image.
    "user_media": lambda pg, shape: _ids(Post.id, [Post.author_id == _SUBJECT, _HAS_MEDIA], shape),
    "community_media": lambda pg, shape: _ids(Post.id, [Post.community_id == _SUBJECT, _HAS_MEDIA], shape),
    "questions": lambda pg, shape: _ids(Post.id, OPEN_QUESTION, shape),
    "tag_questions": lambda pg, shape: _ids(
        post_tags.c.post_id, [post_tags.c.tag_id == _SUBJECT, *OPEN_QUESTION], shape
    ),
    "community_questions": lambda pg, shape: _ids(
        Post.id, [Post.community_id == _SUBJECT, *OPEN_QUESTION], shape
    ),
}


@cache
def _feed_statement(feed: str, postgresql: bool, shape: tuple[bool, bool, bool]) -> Select:
    ids = _FEED_IDS[feed](postgresql, shape)
    return _with_posts(None, page=ids.subquery("page"))


@cache
def _thread_statement() -> Select:
    root = bindparam("subject", type_=BigInteger)
    thread = (Post.id == root) | (Post.conversation_id == root)
    return _with_posts(thread & post_is_visible(_VIEWER), oldest_first=True).limit(_LIMIT)


# _with_posts selects the post's columns, then its author's, then the aggregates, then where it is,
# then whether it is a question, its accepted answer's id, and the id of who wrote a team's post:
# FEED_COLUMNS in all; a caller's own columns follow.
_POST_COLUMNS = 8
_AUTHOR_END = _POST_COLUMNS + 11
_WHERE_END = _AUTHOR_END + 10
FEED_COLUMNS = _WHERE_END + 8


def page_ids(
    id_col: IdColumn,
    where: list[ColumnElement[bool]],
    shape: tuple[bool, bool, bool],
    *,
    post_id: IdColumn | None = None,
) -> Select:
    """Select a page of the ids of posts the viewer (bound as `viewer`) may see, for a feed built elsewhere.

    `where` may use the bound `subject`; the page is bounded by the cursor's
    `max_id` and `lower_id` and limited to `limit` (Cursor.params()), as every feed's.
    With `post_id`, the page is of `id_col` (a bookmark's id) and the posts are in `post_id`.
    """
    return _ids(id_col, where, shape, post_id)


def feed_statement(ids: Select) -> Select:
    """Select the posts of a page of ids (page_ids) as feeds show them, newest first, in one statement."""
    return _with_posts(None, page=ids.subquery("page"))


def page_posts(page: Subquery, *, post_id: ColumnElement[int]) -> Select:
    """Select the posts of a page, as feeds show them, that the viewer (bound as `viewer`) may see.

    `page` is a subquery whose `post_id` column holds post ids; the caller adds
    its own columns after the first FEED_COLUMNS, its joins and its order,
    and turns the rows into posts with rows_to_posts.
    """
    return _with_posts(post_is_visible(_VIEWER), page=page, post_id=post_id)


def rows_to_posts(rows: Any) -> list[FeedPost]:
    """Return the posts of rows selected by a feed statement (page_posts), in the rows' order."""
    posts = []
    answers: dict[int, int] = {}  # question id -> accepted answer id
    writers: dict[int, int] = {}  # team post id -> the member who wrote it
    with_media: list[int] = []  # the ids of the posts with images
    for row in rows:
        post, account = row[:_POST_COLUMNS], row[_POST_COLUMNS:_AUTHOR_END]
        tags, liked, mentioned, parent_id, parent_name = row[_AUTHOR_END : _AUTHOR_END + 5]
        visibility, community_id, handle, name, locked = row[_AUTHOR_END + 5 : _WHERE_END]
        is_question, answer_id, poster_id = row[_WHERE_END : _WHERE_END + 3]
        bookmarked, pinned, featured, edited_at, has_media = row[_WHERE_END + 3 : FEED_COLUMNS]
        if has_media:
            with_media.append(post[0])
        tag_names = tuple(sorted(tags.split())) if tags else ()
        addressed = tuple(sorted(_mention(pair) for pair in mentioned.split())) if mentioned else ()
        community = CommunityRef(community_id, handle, name, bool(locked)) if community_id else None
        reply_to = (parent_id, parent_name) if parent_id is not None else None
        if answer_id is not None:
            answers[post[0]] = answer_id
        if poster_id is not None:
            writers[post[0]] = poster_id
        # mypy cannot count a slice: post is the 8 columns before author.
        where = (visibility, community, reply_to, bool(is_question))
        # The accepted answer and the team post's writer come after (_with_answers).
        marks = (None, None, bool(bookmarked), bool(pinned), bool(featured), edited_at)
        posts.append(FeedPost(*post, Author(*account), tag_names, bool(liked), addressed, *where, *marks))  # type: ignore[call-arg]
    if with_media:  # their images: one query for the page
        images = media.media_of(with_media)
        posts = [replace(p, media=images.get(p.id, ())) if p.id in images else p for p in posts]
    return _with_answers(posts, answers, writers) if answers or writers else posts


def _with_answers(posts: list[FeedPost], answers: dict[int, int], writers: dict[int, int]) -> list[FeedPost]:
    """Return the posts with their questions' accepted answers and team posts' writers (a query for each).

    An accepted answer is a direct reply, so in its question's community: whoever
    may see the question may see it.
    """
    answer_rows = (
        select(Post.id, Post.html, User.id, User.username, User.display_name)
        .join(User, User.id == Post.author_id)
        .where(Post.id.in_(set(answers.values())))
    )
    found = {row[0]: AcceptedAnswer(*row) for row in db.session.execute(answer_rows)} if answers else {}
    names: dict[int, str] = {}
    if writers:
        people = select(User.id, User.username).where(User.id.in_(set(writers.values())))
        names = {user_id: username for user_id, username in db.session.execute(people)}
    changed = []
    for post in posts:
        answer = found.get(answers[post.id]) if post.id in answers else None
        writer = (writers[post.id], names.get(writers[post.id], "")) if post.id in writers else None
        changed.append(replace(post, accepted_answer=answer, posted_by=writer) if answer or writer else post)
    return changed


def _mention(pair: str) -> tuple[int, str]:
    user_id, username = pair.split(":", 1)
    return int(user_id), username


def _page(feed: str, subject: int, viewer: User | int | None, cursor: Cursor) -> Page:
    stmt = _feed_statement(feed, is_postgresql(db.engine), cursor.shape)
    if isinstance(viewer, User):
        viewer = viewer.id
    params = {"subject": subject, "viewer": viewer or 0, **cursor.params()}
    return Page(rows_to_posts(read_rows(stmt, params)), cursor)


def home_timeline(user: User | int, cursor: Cursor = Cursor()) -> Page:
    """Return a page of a user's home timeline (given the user or their id): own posts, follows, mentions."""
    user_id = user if isinstance(user, int) else id_of(user)
    if cursor.shape == (False, False, False):
        return _kept_first_page(user_id, cursor)
    return _page("home", user_id, user_id, cursor)


def _kept_first_page(user_id: int, cursor: Cursor) -> Page:
    """Return the first page of a home from the ids this process keeps of it (services.kept_homes).

    One statement reads the posts above the kept ids' watermark that the home
    holds (the home query bounded below: it walks only those), the kept
    page's posts at or below it, as any page's (the reader's right to see
    each checked again), and whether the kept ids still hold.  A change that
    moved older posts, a kept post gone or hidden, or nothing kept: the page
    is the query's, read in one statement with the state it is then kept under.
    """
    limit = cursor.limit
    postgresql = is_postgresql(db.engine)
    home = kept_homes.kept(user_id, limit)
    if home is not None:
        keep = max(limit, len(home.ids))
        settled = home.settled_ids()
        ids = settled[:limit]
        params = {"subject": user_id, "viewer": user_id, "watermark": home.watermark, "ids": ids}
        params.update(max_id=0, lower_id=home.watermark, limit=keep)
        before = kept_homes.before_read()
        # Nothing kept at or below the watermark: a row of state, even without posts.
        statement = _kept_page_statement(postgresql) if ids else _kept_empty_statement(postgresql)
        with generic_plan():  # one plan suits every reader: PostgreSQL's planning cost more than the read
            rows = read_rows(statement, params)
        if ids:  # the state after the posts' columns
            state = kept_homes.state_of(rows[0][FEED_COLUMNS:], before) if rows else None
            posts = rows_to_posts(rows)
        else:
            state, posts = _state_and_posts(rows, before)
        newer = [p.id for p in posts if p.id > home.watermark]
        if state is not None and kept_homes.only_newer(home, state) and len(posts) == len(newer) + len(ids):
            merged = [*newer, *settled]
            # Nothing of the home left out: neither older posts above the watermark, nor kept ones.
            complete = home.complete and len(newer) < keep and len(merged) <= keep
            if complete or len(merged) >= limit:  # short of a page only when the home is
                kept_homes.keep(user_id, state, merged[:keep], complete=complete, settled=home.watermark)
                return Page(posts[:limit], cursor)
    params = {"subject": user_id, "viewer": user_id, "watermark": 0, **cursor.params()}
    before = kept_homes.before_read()
    state, posts = _state_and_posts(read_rows(_cold_page_statement(postgresql), params), before)
    kept_homes.keep(user_id, state, [p.id for p in posts], complete=len(posts) < limit)
    return Page(posts, cursor)


def _state_and_posts(rows: Any, before: int) -> tuple[kept_homes.State, list[FeedPost]]:
    """Return the kept-home state and the posts of rows selected _with_state (one row, no post: none)."""
    state = kept_homes.state_of(rows[0][:_STATE_COLUMNS], before)
    return state, rows_to_posts([row[_STATE_COLUMNS:] for row in rows if row[_STATE_COLUMNS] is not None])


# A kept home's state (kept_homes.state_columns) comes first in the rows of a _with_state statement.
_STATE_COLUMNS = kept_homes.STATE_COLUMNS


def _with_state(page: Select, postgresql: bool) -> Select:
    """Select a kept home's state, then the posts of a page: a row of state alone when the page has none."""
    posts = page.subquery("home_page")
    one = select(literal(1).label("one")).subquery("one")
    columns = list(posts.c)
    return (
        select(*kept_homes.state_columns(postgresql), *columns)
        .select_from(one)
        .outerjoin(posts, true())
        .order_by(columns[0].desc())
    )


def _newer_in_home(postgresql: bool) -> Select:
    """Select the ids in the home above the watermark (`lower_id`): the home query walks only those.

    The walk is SQLite's shape on either database: bounded below by the
    watermark, it reads only the few posts written since.  On PostgreSQL,
    planned once for every reader (generic_plan), each post is looked up.
    """
    newer = _home_ids(False, (False, True, False), probes=postgresql).subquery("newer")
    return select(newer.c.id)


@cache
def _kept_page_statement(postgresql: bool) -> Select:
    """Select the posts above the watermark in the home and the kept ones (`ids`), each row with the state."""
    if postgresql:  # one statement whatever the number of ids
        listed = Post.id == any_(bindparam("ids", type_=ARRAY(BigInteger)))
    else:
        listed = Post.id.in_(bindparam("ids", expanding=True))
    kept = select(Post.id).where(listed, post_is_visible(_VIEWER))
    page = union_all(_newer_in_home(postgresql), kept).subquery("page")
    return _with_posts(None, page=page).add_columns(*kept_homes.state_columns(postgresql))


@cache
def _kept_empty_statement(postgresql: bool) -> Select:
    """Select the state, then the posts above the watermark in a home kept empty."""
    return _with_state(_with_posts(None, page=_newer_in_home(postgresql).subquery("page")), postgresql)


@cache
def _cold_page_statement(postgresql: bool) -> Select:
    """Select the state, then the first page of a home."""
    return _with_state(_feed_statement("home", postgresql, (False, False, False)), postgresql)


def public_timeline(viewer: User | None, cursor: Cursor = Cursor()) -> Page:
    """Return a page of every post in the company."""
    return _page("public", 0, viewer, cursor)


def user_timeline(viewer: User | None, author: User, cursor: Cursor = Cursor()) -> Page:
    """Return a page of one person's posts."""
    return _page("user", author.id, viewer, cursor)


def tag_timeline(viewer: User | None, tag: Tag, cursor: Cursor = Cursor()) -> Page:
    """Return a page of the posts carrying a tag."""
    return _page("tag", tag.id, viewer, cursor)


def mentions_timeline(user: User, cursor: Cursor = Cursor()) -> Page:
    """Return a page of posts that mention or reply to user."""
    return _page("mentions", user.id, user, cursor)


def community_timeline(viewer: User | None, community: User, cursor: Cursor = Cursor()) -> Page:
    """Return a page of the posts in a community (a private one's: for its members only)."""
    return _page("community", community.id, viewer, cursor)


def media_timeline(viewer: User | None, account: User, cursor: Cursor = Cursor()) -> Page:
    """Return a page of a person's posts with images, or of a community's."""
    return _page("community_media" if account.is_community else "user_media", account.id, viewer, cursor)


def unanswered_questions(
    viewer: User | None, cursor: Cursor = Cursor(), *, tag: Tag | None = None, community: User | None = None
) -> Page:
    """Return a page of the questions without an accepted answer that the viewer may see, newest first.

    All of the company's, or those carrying a tag, or those in a community.
    """
    if tag is not None:
        return _page("tag_questions", tag.id, viewer, cursor)
    if community is not None:
        return _page("community_questions", community.id, viewer, cursor)
    return _page("questions", 0, viewer, cursor)


@cache
def _posts_statement(checked: bool) -> Select:
    ids = Post.id.in_(bindparam("ids", expanding=True))
    return _with_posts(ids & post_is_visible(_VIEWER) if checked else ids)


def post_views(post_ids: Iterable[int], viewer: User | None = None) -> dict[int, FeedPost]:
    """Return those of these posts the viewer may see, as feeds show them, by id, in one query."""
    return _views(post_ids, id_of(viewer) if viewer else 0, checked=True)  # a viewer expired by a commit


def post_view(post_id: int, viewer: User | None = None) -> FeedPost | None:
    """Return one post as feeds show it, or None if it does not exist or the viewer may not see it."""
    return post_views([post_id], viewer).get(post_id)


def announced_view(post_id: int) -> FeedPost | None:
    """Return a post as its audience will be shown it (likes: nobody's), whoever may see it.

    Only for what is sent to an audience that services.visibility.audience() chose.
    """
    return _views([post_id], 0, checked=False).get(post_id)


def _views(post_ids: Iterable[int], viewer_id: int, *, checked: bool) -> dict[int, FeedPost]:
    ids = sorted(set(post_ids))
    if not ids:
        return {}
    rows = read_rows(_posts_statement(checked), {"ids": ids, "viewer": viewer_id})
    return {post.id: post for post in rows_to_posts(rows)}


def home_audience(post_id: int, audience: Audience) -> list[int]:
    """Return the ids of the users whose home timeline holds this post (among those who may see it).

    The author, the author's followers, followers of the post's tags, members
    of its community (but for those who read the author or the community in an
    exclusive list), the people it mentions or replies to, and those whose
    saved searches it matched, shown in home: the same sources as home_timeline.
    """
    author = select(Post.author_id).where(Post.id == post_id).scalar_subquery()
    community = select(Post.community_id).where(Post.id == post_id).scalar_subquery()
    tags = select(post_tags.c.tag_id).where(post_tags.c.post_id == post_id)
    # An account on one of the follower's exclusive lists is read in that list, not in home.
    in_home = ~exists().where(
        ListAccount.account_id == Follow.followee_id,
        ListAccount.list_id == TimelineList.id,
        TimelineList.user_id == Follow.follower_id,
        TimelineList.exclusive,
    )
    everyone = union(
        select(author),
        select(Follow.follower_id).where(Follow.followee_id == author, in_home),
        select(Follow.follower_id).where(Follow.followee_id == community, in_home),
        select(TagFollow.user_id).where(TagFollow.tag_id.in_(tags)),
        select(mentions.c.user_id).where(mentions.c.post_id == post_id),
        select(TimelineList.user_id)
        .join(ListHit, ListHit.list_id == TimelineList.id)
        .where(ListHit.post_id == post_id, TimelineList.in_home),
    )
    return audience.only(db.session.scalars(everyone))


def conversation(viewer: User | None, post: Post) -> Page:
    """Return the posts of a post's thread the viewer may see (up to 500), oldest first, in one query."""
    params = {"subject": post.thread_id, "viewer": viewer.id if viewer else 0, "limit": THREAD_LIMIT}
    posts = rows_to_posts(read_rows(_thread_statement(), params))
    return Page(posts, Cursor(limit=THREAD_LIMIT))
