"""What the index knows of a post, read from the database in batches."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select

from microblog.extensions import db
from models import Post, Tag, User, mentions, post_tags


@dataclass(frozen=True)
class PostDocument:
    """A post as the search index sees it."""

    id: int
    text: str
    author: str
    tags: tuple[str, ...]
    mentions: tuple[str, ...]
    created_at: datetime


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
        select(Post.id, Post.text, User.username, tag_names, mention_names, Post.created_at)
        .join(User, User.id == Post.author_id)
        .order_by(Post.id)
    )


def _rows(statement: Select) -> list[PostDocument]:
    return [
        PostDocument(pid, text, author, tuple((tags or "").split()), tuple((names or "").split()), created)
        for pid, text, author, tags, names, created in db.session.execute(statement)
    ]


def load_documents(post_ids: Sequence[int]) -> list[PostDocument]:
    """Return the documents of those posts that still exist, in id order."""
    if not post_ids:
        return []
    return _rows(_documents().where(Post.id.in_(post_ids)))


def document_batches(batch_size: int = 2000) -> Iterator[list[PostDocument]]:
    """Yield every post's document in id order, a batch at a time (never the whole table)."""
    last_id = 0
    while True:
        batch = _rows(_documents().where(Post.id > last_id).limit(batch_size))
        db.session.rollback()  # end the read transaction between batches
        if not batch:
            return
        yield batch
        last_id = batch[-1].id


def post_count() -> int:
    """Return how many posts there are (for progress bars)."""
    return db.session.scalar(select(func.count()).select_from(Post)) or 0
