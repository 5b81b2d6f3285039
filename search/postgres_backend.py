"""The `postgres` search backend: a tsvector per post in `post_search`, with a GIN index.

For installations of several hosts: the index lives in the database they share,
so any process can write it and every process sees a write at once.  Text is
folded in Python exactly as the Whoosh analyzer folds it (Norwegian keeps
æ, ø, å), then PostgreSQL's own `english` or `norwegian` configuration removes
stop words and stems.  For `both` (which no PostgreSQL configuration does: it
picks stemmers by word lists and splits compounds), the document holds the terms
and positions of microblog's own analyzer, the same as the Whoosh index's, and
searches are tsqueries of its terms.
Tags, authors, mentions and dates are matched on the tables the posts already have, and
`is:question` / `is:unanswered` on the posts' own columns: accepting an answer changes
what they find at once, with no document to rewrite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, cast, exists, func, literal, not_, select, text, true
from sqlalchemy.dialects.postgresql import REGCONFIG, TSQUERY
from sqlalchemy.exc import SQLAlchemyError

from microblog.database import batches, db, is_postgresql
from models import Post, PostSearch, Tag, User, mentions, post_tags

from .analysis import analyzed_positions, check_language, fold, query_positions
from .backend import (
    MAX_RELEVANCE_DEPTH,
    Hits,
    IndexBusy,
    IndexUnavailable,
    PageRequest,
    Progress,
    Reader,
    newest_first,
)
from .documents import day_start, id_range
from .percolator import PostgresAnalysis, PythonAnalysis
from .query import QUESTION, SearchQuery

# pg_advisory_lock key held by the one rebuild of post_search that may run at a time.
REBUILD_LOCK = 0x6D62_7365_6172_6368  # "mbsearch" in ASCII, within bigint

# Up to this many text matches, a search looks at just those posts (found by the GIN index).
FEW_MATCHES = 1000
NO_ID = -1  # matches no row: what a name that does not exist is searched as

# A document that comes out the same is left alone: a reindex rewriting every row would leave a dead
# copy of each (the table doubles until vacuumed, and every search reads through them).
_UPSERT = (
    "INSERT INTO post_search (post_id, document) VALUES (:id, {document})"
    " ON CONFLICT (post_id) DO UPDATE SET document = excluded.document"
    " WHERE post_search.document IS DISTINCT FROM excluded.document"
)


# The largest position a tsvector holds (later ones count as this one).
MAX_POSITION = 16383


def tsvector_text(text: str, language: str) -> str:
    """Return the tsvector, as PostgreSQL reads it, of microblog's own analysis of a text."""
    positions: dict[str, list[int]] = {}
    for pos, term in analyzed_positions(text, language):
        positions.setdefault(term, []).append(min(pos + 1, MAX_POSITION))
    return " ".join(
        f"{_lexeme(term)}:{','.join(map(str, sorted(set(at))))}" for term, at in positions.items()
    )


def tsquery_text(text: str, language: str, *, phrase: bool) -> str | None:
    """Return the tsquery of a search word (all its terms) or phrase (in sequence), or None for stop words."""
    positions = query_positions(text, language)
    if not positions:
        return None
    parts = ["(" + " | ".join(map(_lexeme, alternatives)) + ")" for alternatives in positions]
    return (" <-> " if phrase else " & ").join(parts)


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


class PostgresBackend:
    """Full-text search in PostgreSQL, next to the posts."""

    rebuilding = False  # a rebuild rewrites documents in place: every post stays findable

    def __init__(self, language: str) -> None:
        self.language = check_language(language)
        # english and norwegian: PostgreSQL's configuration of that name stems; both: microblog's analyzer.
        self.own_analysis = language == "both"
        self.document_sql = (
            "CAST(:document AS tsvector)" if self.own_analysis else f"to_tsvector('{language}', :text)"
        )
        self._upsert_sql = text(_UPSERT.format(document=self.document_sql))

    def analysis(self) -> PythonAnalysis | PostgresAnalysis:
        """Return how documents are analysed: microblog's analyzer for `both`, else PostgreSQL's."""
        return PythonAnalysis(self.language) if self.own_analysis else PostgresAnalysis(self.language)

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

    def missing(self) -> bool:
        """Return True: a rebuild here only ever fills a table no post was indexed in yet."""
        return True

    def prepare(self) -> bool:
        """Return whether posts exist but none is indexed (say, after switching from Whoosh)."""
        if self.status() is not None:
            return False
        has_posts = db.session.scalar(select(exists(select(Post.id))))
        has_documents = db.session.scalar(select(exists(select(PostSearch.post_id))))
        return bool(has_posts and not has_documents)

    def _upsert(self, rows: Sequence[Any]) -> None:
        if rows:
            db.session.execute(self._upsert_sql, [self.document_params(pid, body) for pid, body in rows])

    def document_params(self, post_id: int, body: str) -> dict[str, object]:
        """Return the parameters of document_sql (and :id) for a post."""
        if self.own_analysis:
            return {"id": post_id, "document": tsvector_text(body, self.language)}
        return {"id": post_id, "text": fold(body, self.language)}

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[int]], None]]:
        """Yield apply(post_ids); it writes in the caller's transaction (deleted posts cascade)."""

        def apply(post_ids: Sequence[int]) -> None:
            self._upsert(db.session.execute(select(Post.id, Post.text).where(Post.id.in_(post_ids))).all())

        yield apply

    def rebuild(self, progress: Progress | None = None, *, procs: int = 1, batch_size: int = 5000) -> int:
        """Write every post's document again, a committed batch at a time (PostgreSQL stems; one process)."""
        count = 0
        with _rebuild_lock():
            for rows in batches(select(Post.id, Post.text), Post.id, batch_size):
                self._upsert(rows)
                db.session.commit()
                count += len(rows)
                if progress:
                    progress(len(rows))
        return count

    def search(self, query: SearchQuery, page: PageRequest, reader: Reader) -> Hits:
        """Return one page of matching post ids: newest first, or the newest matches ranked (ts_rank_cd).

        PostgreSQL plans `ORDER BY id DESC LIMIT 21` by walking the posts backwards
        until enough match, which is right for a common word and ruinous for a
        rare one or for matches that lie far back.  So the statement is shaped
        here: names become ids (the planner then sees how common an author or a
        tag is), dates become id bounds, and a probe tells whether the text
        matches few posts, in which case those ids are all that is looked at.
        """
        try:
            return self._search(query, page, reader)
        except SQLAlchemyError as error:
            db.session.rollback()
            raise IndexUnavailable(f"PostgreSQL search failed: {error}") from error

    def _search(self, query: SearchQuery, page: PageRequest, reader: Reader) -> Hits:
        # These plans depend on the values (ids, bounds): never a generic plan of a prepared statement.
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        conditions = self._conditions(query)
        if conditions is None:
            return Hits([])
        where, tsquery = conditions
        where.append(reader.visible)
        if page.before_id is not None:
            where.append(Post.id < page.before_id)
        statement = select(Post.id).where(*where)
        newest = newest_first(query, page)
        if tsquery is not None:
            matches = PostSearch.document.op("@@")(tsquery)
            statement = statement.join(PostSearch, PostSearch.post_id == Post.id).where(matches)
            few = self._all_matches_if_few(matches)
            if few is not None:
                # Even with no match at all the statement runs: a word found in private posts only
                # must take as long as a word found nowhere, or the time would tell them apart.
                statement = statement.where(Post.id.in_(few))
        if newest or tsquery is None:
            statement = statement.order_by(Post.id.desc()).limit(page.limit + 1)
        else:  # rank the newest matches only, as the Whoosh backend does (see MAX_RELEVANCE_DEPTH)
            candidates = (
                statement.add_columns(PostSearch.document)
                .order_by(Post.id.desc())
                .limit(MAX_RELEVANCE_DEPTH)
                .subquery("candidates")
            )
            rank = func.ts_rank_cd(candidates.c.document, tsquery)
            statement = (
                select(candidates.c.id)
                .order_by(rank.desc(), candidates.c.id.desc())
                .offset(page.offset)
                .limit(page.limit + 1)
            )
        return Hits.from_ids(list(db.session.scalars(statement)), page, newest_first=newest)

    def _all_matches_if_few(self, matches: ColumnElement[bool]) -> list[int] | None:
        """Return the ids of every post whose text matches, if there are FEW_MATCHES or fewer.

        Without an order, PostgreSQL finds a limited number of matches cheaply
        either way: a scan stops early for a common word, the GIN index answers
        a rare one.  The ids include posts the reader may not see: the search
        that follows applies the rule to them.
        """
        probe = select(PostSearch.post_id).where(matches).limit(FEW_MATCHES + 1)
        ids = list(db.session.scalars(probe))
        return ids if len(ids) <= FEW_MATCHES else None

    def _conditions(self, query: SearchQuery) -> tuple[list[ColumnElement[bool]], Any] | None:
        """Return the conditions on posts and the tsquery of their text, or None if nothing can match."""

        config = literal(self.language, type_=REGCONFIG)

        def parts(kind: str, texts: Sequence[str]) -> list[Any]:
            if not self.own_analysis:
                fn = getattr(func, kind)
                kept = [t for t in texts if query_positions(t, self.language)]
                return [fn(config, fold(t, self.language)) for t in kept]
            found = (tsquery_text(t, self.language, phrase=kind == "phraseto_tsquery") for t in texts)
            return [cast(literal(tsquery), TSQUERY) for tsquery in found if tsquery is not None]

        positive = parts("plainto_tsquery", query.words) + parts("phraseto_tsquery", query.phrases)
        excluded = parts("phraseto_tsquery", query.excluded)
        # A tag used only in private posts exists all the same: a tag that does not exist is searched
        # for (as no tag's id) rather than answered at once, so the time taken does not tell them apart.
        tag_ids = [NO_ID if found is None else found for found in _ids_by_name(Tag.id, Tag.name, query.tags)]
        author_ids = _ids_by_name(User.id, User.username, query.authors)
        mentioned = _ids_by_name(User.id, User.username, query.mentions)
        if None in author_ids or None in mentioned:
            return None  # a person that does not exist (everyone may list people)
        where: list[ColumnElement[bool]] = []
        where += [exists().where(post_tags.c.post_id == Post.id, post_tags.c.tag_id == t) for t in tag_ids]
        where += [Post.author_id == author_id for author_id in author_ids]
        where += [exists().where(mentions.c.post_id == Post.id, mentions.c.user_id == m) for m in mentioned]
        where += [_flag_condition(flag) for flag in query.flags]
        if not (positive or where):
            return None
        where += [not_(_flag_condition(flag)) for flag in query.excluded_flags]
        dates = _date_conditions(query.after, query.before)
        if dates is None:
            return None
        where += dates
        if not positive:  # only filters: exclusions look at the post's document, if it has one
            if excluded:
                matches = PostSearch.document.op("@@")(_combine("tsquery_or", excluded))
                where.append(~exists().where(PostSearch.post_id == Post.id, matches))
            return where, None
        return where, _combine("tsquery_and", positive + [func.tsquery_not(x) for x in excluded])


def _ids_by_name(id_column: Any, name_column: Any, names: Sequence[str]) -> list[int | None]:
    """Return the ids of these names, in order (None for a name that does not exist)."""
    if not names:
        return []
    rows = db.session.execute(select(name_column, id_column).where(name_column.in_(names)))
    found: dict[str, int] = {name: found_id for name, found_id in rows}
    return [found.get(name) for name in names]


def _flag_condition(flag: str) -> ColumnElement[bool]:
    """Return what posts with an is: flag are (written so the partial indexes of questions match)."""
    if flag == QUESTION:
        return Post.is_question == true()
    return and_(Post.is_question == true(), Post.accepted_answer_id.is_(None))  # unanswered


def _date_conditions(after: date | None, before: date | None) -> list[ColumnElement[bool]] | None:
    """Return conditions for posts from day `after` on and before day `before`; None if none can match.

    Besides the days themselves they bound the post ids (search.documents.id_range),
    so that PostgreSQL walks the primary key from where the days are instead of
    from the newest post.
    """
    if after and before and before <= after:
        return None
    where: list[ColumnElement[bool]] = []
    if after:
        where.append(Post.created_at >= day_start(after))
    if before:
        where.append(Post.created_at < day_start(before))
    if after or before:
        ids = id_range(after, before)
        where += [Post.id > ids.above] if ids.above is not None else []
        where += [Post.id < ids.below] if ids.below is not None else []
    return where


@contextmanager
def _rebuild_lock() -> Iterator[None]:
    """Hold the rebuild's advisory lock on a connection of its own (the batches commit on others)."""
    with db.engine.connect() as connection:
        if not connection.scalar(select(func.pg_try_advisory_lock(REBUILD_LOCK))):
            raise IndexBusy("another process is rebuilding the search index")
        try:
            yield
        finally:
            # A session-level lock outlives the transaction: release it before the pool keeps the connection.
            connection.scalar(select(func.pg_advisory_unlock(REBUILD_LOCK)))


def _combine(function: str, parts: list[Any]) -> Any:
    combined = parts[0]
    for part in parts[1:]:
        combined = getattr(func, function)(combined, part)
    return combined
