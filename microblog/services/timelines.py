"""One query function per feed: newest first, keyset-paginated, authors and tags eager-loaded.

Every feed selects post ids from an index, bounded by `max_id` (older than),
`since_id` (newer than) or `min_id` (the page just after), and loads the page's
posts in one more statement, so a page costs the same few queries whatever
its size.  Never OFFSET: a live feed would shift under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, exists, literal, or_, select, union
from sqlalchemy.orm import InstrumentedAttribute, joinedload, selectinload

from microblog.database import is_postgresql
from microblog.extensions import db
from models import Follow, Like, Post, Tag, TagFollow, User, mentions, post_tags

from .errors import ValidationError

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
MAX_ID = 2**63 - 1  # ids are 64-bit in every database

IdColumn = ColumnElement[int] | InstrumentedAttribute[int]


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: at most one of max_id/min_id, optionally since_id."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    @classmethod
    def parse(cls, args: dict | None = None, **kwargs: object) -> Cursor:
        """Build a cursor from query-string values, refusing nonsense with ValidationError."""
        values = dict(args or {}, **kwargs)

        def number(name: str) -> int | None:
            raw = values.get(name)
            if raw in (None, ""):
                return None
            try:
                value = int(str(raw))
            except ValueError:
                raise ValidationError(f"{name} must be a post id (a whole number).") from None
            if not 0 <= value <= MAX_ID:
                raise ValidationError(f"{name} is out of range.")
            return value

        limit = number("limit")
        return cls(
            max_id=number("max_id"),
            since_id=number("since_id"),
            min_id=number("min_id"),
            limit=DEFAULT_LIMIT if limit is None else max(1, min(limit, MAX_LIMIT)),
        )

    @property
    def ascending(self) -> bool:
        """A min_id page is read oldest-first from min_id, then shown newest first."""
        return self.min_id is not None

    def bound(self, id_col: IdColumn) -> list[ColumnElement[bool]]:
        """Return the id conditions of this page."""
        conditions = []
        if self.max_id is not None:
            conditions.append(id_col < self.max_id)
        if self.since_id is not None:
            conditions.append(id_col > self.since_id)
        if self.min_id is not None:
            conditions.append(id_col > self.min_id)
        return conditions

    def order(self, id_col: IdColumn) -> ColumnElement[int]:
        """Return the ORDER BY of this page."""
        return id_col.asc() if self.ascending else id_col.desc()


@dataclass
class Page:
    """One page of a feed, newest first, with what the viewer has liked."""

    posts: list[Post]
    cursor: Cursor
    liked_ids: set[int] = field(default_factory=set)

    @property
    def next_max_id(self) -> int | None:
        """Return max_id for the next (older) page, or None when this page is the last."""
        return self.posts[-1].id if len(self.posts) >= self.cursor.limit else None

    @property
    def newest_id(self) -> int | None:
        """Return the newest post id on this page (for since_id / min_id)."""
        return self.posts[0].id if self.posts else None


def _ids(id_col: IdColumn, where: list[ColumnElement[bool]], cursor: Cursor) -> Select:
    return (
        select(id_col.label("id"))
        .where(*where, *cursor.bound(id_col))
        .order_by(cursor.order(id_col))
        .limit(cursor.limit)
    )


def _load(ids: Select, cursor: Cursor, viewer: User | None) -> Page:
    """Load the posts whose ids the subquery selects, with authors, tags and likes."""
    posts = list(
        db.session.scalars(
            select(Post)
            .where(Post.id.in_(ids.scalar_subquery()))
            .options(joinedload(Post.author), selectinload(Post.tags))
            .order_by(Post.id.desc())
        )
    )
    return Page(posts=posts, cursor=cursor, liked_ids=liked_ids(viewer, posts))


def liked_ids(viewer: User | None, posts: list[Post]) -> set[int]:
    """Return which of these posts the viewer has liked, in one query."""
    if viewer is None or not posts:
        return set()
    return set(
        db.session.scalars(
            select(Like.post_id).where(Like.user_id == viewer.id, Like.post_id.in_([p.id for p in posts]))
        )
    )


def home_ids(user: User, cursor: Cursor) -> Select:
    """Select the ids of user's home timeline: own posts, followed people and tags, mentions.

    The shape differs by database (see ../shared/MEASUREMENTS.md): SQLite walks
    the id index once with an OR of cheap index probes; PostgreSQL would hash
    every post of a popular tag for that OR, so it merges one top-N per source.
    """
    followees = select(Follow.followee_id).where(Follow.follower_id == user.id)
    followed_tags = select(TagFollow.tag_id).where(TagFollow.user_id == user.id)
    if not is_postgresql(db.engine):
        tagged = exists().where(post_tags.c.post_id == Post.id, post_tags.c.tag_id.in_(followed_tags))
        mentioned = exists().where(mentions.c.post_id == Post.id, mentions.c.user_id == user.id)
        source = or_(Post.author_id == user.id, Post.author_id.in_(followees), tagged, mentioned)
        return _ids(Post.id, [source], cursor)
    people = _ids(Post.id, [Post.author_id.in_(followees.union_all(select(literal(user.id))))], cursor)
    tags = _ids(post_tags.c.post_id, [post_tags.c.tag_id.in_(followed_tags)], cursor)
    mention = _ids(mentions.c.post_id, [mentions.c.user_id == user.id], cursor)
    merged = union(people, tags, mention).subquery()
    return select(merged.c.id).order_by(cursor.order(merged.c.id)).limit(cursor.limit)


def home_timeline(user: User, cursor: Cursor = Cursor()) -> Page:
    """Return a page of user's home timeline."""
    return _load(home_ids(user, cursor), cursor, user)


def public_timeline(viewer: User | None, cursor: Cursor = Cursor()) -> Page:
    """Return a page of every post in the company."""
    return _load(_ids(Post.id, [], cursor), cursor, viewer)


def user_timeline(viewer: User | None, author: User, cursor: Cursor = Cursor()) -> Page:
    """Return a page of one person's posts."""
    return _load(_ids(Post.id, [Post.author_id == author.id], cursor), cursor, viewer)


def tag_timeline(viewer: User | None, tag: Tag, cursor: Cursor = Cursor()) -> Page:
    """Return a page of the posts carrying a tag."""
    return _load(_ids(post_tags.c.post_id, [post_tags.c.tag_id == tag.id], cursor), cursor, viewer)


def mentions_timeline(user: User, cursor: Cursor = Cursor()) -> Page:
    """Return a page of posts that mention or reply to user."""
    return _load(_ids(mentions.c.post_id, [mentions.c.user_id == user.id], cursor), cursor, user)


def conversation(viewer: User | None, post: Post) -> Page:
    """Return the whole thread of a post, oldest first, in one query."""
    root = post.thread_id
    posts = list(
        db.session.scalars(
            select(Post)
            .where((Post.id == root) | (Post.conversation_id == root))
            .options(joinedload(Post.author), selectinload(Post.tags))
            .order_by(Post.id)
            .limit(500)
        )
    )
    return Page(posts=posts, cursor=Cursor(limit=500), liked_ids=liked_ids(viewer, posts))
