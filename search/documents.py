"""What the index knows of a post, read from the database in batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from microblog.database import batches, db
from models import Post, Tag, User, mentions, post_tags
from models.post import PRIVATE


@dataclass(frozen=True)
class PostDocument:
    """A post as the search index sees it."""

    id: int
    text: str
    author: str
    tags: tuple[str, ...]
    mentions: tuple[str, ...]
    created_at: datetime
    private: bool = False  # only the members of its community may find it
    community_id: int | None = None
    question: bool = False  # asked as a question (is:question)
    answered: bool = False  # a question whose asker accepted an answer (not is:unanswered)


def _documents() -> Select:
    tag_names = (
        select(func.aggregate_strings(Tag.name, " "))
        .select_from(post_tags.join(Tag, Tag.id == post_tags.c.tag_id))
        .where(post_tags.c.post_id == Post.id)
        .scalar_subquery()
    )
    mentioned = User.__table__.alias("mentioned")
    mention_names = (
        select(func.aggregate_strings(mentioned.c.username, " "))
        .select_from(mentions.join(mentioned, mentioned.c.id == mentions.c.user_id))
        .where(mentions.c.post_id == Post.id)
        .scalar_subquery()
    )
    return (
        select(
            Post.id,
            Post.text,
            User.username,
            tag_names,
            mention_names,
            Post.created_at,
            Post.visibility == PRIVATE,
            Post.community_id,
            Post.is_question,
            Post.accepted_answer_id.is_not(None),
        )
        .join(User, User.id == Post.author_id)
        .order_by(Post.id)
    )


def _document(row: Row) -> PostDocument:
    pid, text, author, tags, names, created, private, community_id, question, answered = row
    split = tuple((tags or "").split()), tuple((names or "").split())
    return PostDocument(
        pid, text, author, *split, created, bool(private), community_id, bool(question), bool(answered)
    )


@cache
def _documents_by_id() -> Select:
    """Select the documents of the posts whose ids are bound as `ids` (built once: it takes ~1 ms)."""
    return _documents().where(Post.id.in_(bindparam("ids", expanding=True)))


def load_documents(post_ids: Sequence[int], chunk_size: int = 500) -> list[PostDocument]:
    """Return the documents of those posts that still exist, in id order."""
    ordered = sorted(post_ids)
    documents: list[PostDocument] = []
    for start in range(0, len(ordered), chunk_size):
        rows = db.session.execute(_documents_by_id(), {"ids": ordered[start : start + chunk_size]})
        documents += [_document(row) for row in rows]
    return documents


def document_batches(
    batch_size: int = 2000,
    *,
    after_id: int = 0,
    through_id: int | None = None,
    session: Session | None = None,
) -> Iterator[list[PostDocument]]:
    """Yield the documents of posts after `after_id` (through `through_id`) in id order, a batch at a time."""
    session = session or db.session()
    statement = _documents()
    if through_id is not None:
        statement = statement.where(Post.id <= through_id)
    for rows in batches(statement, Post.id, batch_size, after=after_id, session=session):
        session.rollback()  # end the read transaction between batches
        yield [_document(row) for row in rows]


def chunk_bounds(chunk_size: int) -> list[tuple[int, int | None]]:
    """Split the posts into id ranges of `chunk_size` posts: (after_id, through_id), the last open."""
    bounds: list[tuple[int, int | None]] = []
    after = 0
    while True:
        through = db.session.scalar(
            select(Post.id).where(Post.id > after).order_by(Post.id).offset(chunk_size - 1).limit(1)
        )
        bounds.append((after, through))
        if through is None:
            return bounds
        after = through


def post_count() -> int:
    """Return how many posts there are (for progress bars)."""
    return db.session.scalar(select(func.count()).select_from(Post)) or 0


# Posts get their ids in the order they are inserted, and their times just before: two posts made at
# the same moment by different processes can get them in opposite orders, but never this far apart.
ID_TIME_SLACK = timedelta(minutes=1)


def day_start(day: date) -> datetime:
    """Return the moment a (UTC) day begins."""
    return datetime.combine(day, time.min, UTC)


@dataclass(frozen=True)
class IdRange:
    """Post ids holding every post of some days: above < id < below (None: no bound).

    Posts inside it but outside the days were all made from `earliest` until the
    first day, or after the last day until `latest`.
    """

    above: int | None
    below: int | None
    earliest: datetime
    latest: datetime


def id_range(after: date | None, before: date | None) -> IdRange:
    """Return the ids holding every post from day `after` on and before day `before` (UTC days).

    Searches by date start and stop their walk through the posts (newest first,
    by id) there instead of at the newest post.  Each bound is a post made at
    least ID_TIME_SLACK outside the days, so posts whose ids and times cross are
    still inside.
    """
    first = day_start(after) if after else datetime.min.replace(tzinfo=UTC)
    end = day_start(before) if before else datetime.max.replace(tzinfo=UTC)
    above = below = None
    earliest, latest = first, end
    if after:
        row = db.session.execute(
            select(Post.id, Post.created_at)
            .where(Post.created_at < first - ID_TIME_SLACK)
            .order_by(Post.created_at.desc())
            .limit(1)
        ).first()
        above, earliest = (row[0], row[1] - ID_TIME_SLACK) if row else (None, first - ID_TIME_SLACK)
    if before:
        row = db.session.execute(
            select(Post.id, Post.created_at)
            .where(Post.created_at >= end + ID_TIME_SLACK)
            .order_by(Post.created_at)
            .limit(1)
        ).first()
        below, latest = (row[0], row[1] + ID_TIME_SLACK) if row else (None, end + ID_TIME_SLACK)
    return IdRange(above, below, earliest, latest)
