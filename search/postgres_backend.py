"""The `postgres` search backend: a tsvector per post in `post_search`, with a GIN index.

For installations of several hosts: the index lives in the database they share,
so any process can write it and every process sees a write at once.  Text is
folded in Python exactly as the Whoosh analyzer folds it (Norwegian keeps
æ, ø, å), then PostgreSQL's own `english` or `norwegian` configuration removes
stop words and stems.  Tags, authors, mentions and dates are matched on the
tables the posts already have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, exists, func, literal, select, text
from sqlalchemy.dialects.postgresql import REGCONFIG
from sqlalchemy.exc import SQLAlchemyError

from microblog.database import is_postgresql
from microblog.extensions import db
from models import Post, PostSearch, Tag, User, mentions, post_tags

from .analysis import analyzed_terms, check_language, fold
from .backend import Hits, IndexUnavailable, PageRequest, Progress, newest_first
from .query import SearchQuery

_UPSERT = text(
    "INSERT INTO post_search (post_id, document) VALUES (:id, to_tsvector(CAST(:config AS regconfig), :text))"
    " ON CONFLICT (post_id) DO UPDATE SET document = excluded.document"
)


class PostgresBackend:
    """Full-text search in PostgreSQL, next to the posts."""

    rebuilding = False  # a rebuild rewrites documents in place: every post stays findable

    def __init__(self, language: str) -> None:
        self.language = check_language(language)  # also the name of PostgreSQL's configuration

    def status(self) -> str | None:
        """Return what is wrong, or None when the backend can search."""
        if not is_postgresql(db.engine):
            return (
                "MICROBLOG_SEARCH_BACKEND=postgres needs MICROBLOG_DATABASE_URL to be a PostgreSQL database"
            )
        try:
            db.session.execute(select(PostSearch.post_id).limit(1))
        except SQLAlchemyError as error:
            db.session.rollback()
            return f"post_search is not readable: {error}"
        return None

    def prepare(self) -> bool:
        """Return whether posts exist but none is indexed (say, after switching from Whoosh)."""
        if self.status() is not None:
            return False
        has_posts = db.session.scalar(select(exists(select(Post.id))))
        has_documents = db.session.scalar(select(exists(select(PostSearch.post_id))))
        return bool(has_posts and not has_documents)

    def _upsert(self, rows: Sequence[Any]) -> None:
        if rows:
            params = [
                {"id": pid, "text": fold(body, self.language), "config": self.language} for pid, body in rows
            ]
            db.session.execute(_UPSERT, params)

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[int]], None]]:
        """Yield apply(post_ids); it writes in the caller's transaction (deleted posts cascade)."""

        def apply(post_ids: Sequence[int]) -> None:
            self._upsert(db.session.execute(select(Post.id, Post.text).where(Post.id.in_(post_ids))).all())

        yield apply

    def rebuild(self, progress: Progress | None = None, *, procs: int = 1, batch_size: int = 5000) -> int:
        """Write every post's document again, a committed batch at a time (PostgreSQL stems; one process)."""
        count = last_id = 0
        while True:
            rows = db.session.execute(
                select(Post.id, Post.text).where(Post.id > last_id).order_by(Post.id).limit(batch_size)
            ).all()
            if not rows:
                return count
            self._upsert(rows)
            db.session.commit()
            count += len(rows)
            last_id = rows[-1][0]
            if progress:
                progress(len(rows))

    def search(self, query: SearchQuery, page: PageRequest) -> Hits:
        """Return one page of matching post ids, by relevance (ts_rank_cd) or newest first."""
        conditions = self._conditions(query)
        if conditions is None:
            return Hits([])
        where, tsquery = conditions
        if page.before_id is not None:
            where.append(Post.id < page.before_id)
        statement = select(Post.id).where(*where)
        newest = newest_first(query, page)
        if tsquery is not None:
            statement = statement.join(PostSearch, PostSearch.post_id == Post.id).where(
                PostSearch.document.op("@@")(tsquery)
            )
        if newest or tsquery is None:
            statement = statement.order_by(Post.id.desc()).limit(page.limit + 1)
        else:
            rank = func.ts_rank_cd(PostSearch.document, tsquery)
            statement = (
                statement.order_by(rank.desc(), Post.id.desc()).offset(page.offset).limit(page.limit + 1)
            )
        try:
            ids = list(db.session.scalars(statement))
        except SQLAlchemyError as error:
            db.session.rollback()
            raise IndexUnavailable(f"PostgreSQL search failed: {error}") from error
        return Hits.from_ids(ids, page, newest_first=newest)

    def _conditions(self, query: SearchQuery) -> tuple[list[ColumnElement[bool]], Any] | None:
        config = literal(self.language, type_=REGCONFIG)

        def parts(kind: str, texts: Sequence[str]) -> list[Any]:
            fn = getattr(func, kind)
            return [fn(config, fold(t, self.language)) for t in texts if analyzed_terms(t, self.language)]

        positive = parts("plainto_tsquery", query.words) + parts("phraseto_tsquery", query.phrases)
        excluded = parts("phraseto_tsquery", query.excluded)
        where: list[ColumnElement[bool]] = []
        where += [_tagged(tag) for tag in query.tags]
        where += [_authored(name) for name in query.authors]
        where += [_mentioned(name) for name in query.mentions]
        if not (positive or where):
            return None
        if query.after:
            where.append(Post.created_at >= datetime.combine(query.after, time.min, UTC))
        if query.before:
            where.append(Post.created_at < datetime.combine(query.before, time.min, UTC))
        if not positive:  # only filters: exclusions look at the post's document, if it has one
            if excluded:
                matches = PostSearch.document.op("@@")(_combine("tsquery_or", excluded))
                where.append(~exists().where(PostSearch.post_id == Post.id, matches))
            return where, None
        return where, _combine("tsquery_and", positive + [func.tsquery_not(x) for x in excluded])


def _combine(function: str, parts: list[Any]) -> Any:
    combined = parts[0]
    for part in parts[1:]:
        combined = getattr(func, function)(combined, part)
    return combined


def _authored(username: str) -> ColumnElement[bool]:
    return Post.author_id == select(User.id).where(User.username == username).scalar_subquery()


def _tagged(name: str) -> ColumnElement[bool]:
    return exists().where(
        post_tags.c.post_id == Post.id,
        post_tags.c.tag_id == select(Tag.id).where(Tag.name == name).scalar_subquery(),
    )


def _mentioned(username: str) -> ColumnElement[bool]:
    return exists().where(
        mentions.c.post_id == Post.id,
        mentions.c.user_id == select(User.id).where(User.username == username).scalar_subquery(),
    )
