"""The embedded search backend: a Whoosh index in MICROBLOG_DATA_DIR/search.

Whoosh allows one writer at a time (LockError otherwise); callers that write
must be prepared to wait (`writer_timeout`).  Searches only read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

from whoosh import index
from whoosh import query as q
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.index import EmptyIndexError

from .analysis import text_analyzer
from .query import SearchQuery


@dataclass(frozen=True)
class PostDocument:
    """What the index knows of a post."""

    id: int
    text: str
    author: str
    tags: tuple[str, ...]
    mentions: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class Hits:
    """One page of matching post ids, best (or newest) first, and how many match in all."""

    ids: list[int]
    total: int


class IndexUnavailable(Exception):
    """The index is missing or unreadable and must be rebuilt."""


def schema(language: str) -> Schema:
    """Return the index schema for post text in `language`."""
    return Schema(
        id=NUMERIC(int, bits=64, stored=True, unique=True, sortable=True),  # (unsigned breaks ranges)
        text=TEXT(analyzer=text_analyzer(language), phrase=True),
        author=ID,
        tags=KEYWORD(lowercase=True),
        mentions=KEYWORD(lowercase=True),
        created_at=DATETIME,
    )


class WhooshIndex:
    """A Whoosh index of posts in a directory."""

    def __init__(self, path: Path, language: str, *, writer_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.language = language
        self.writer_timeout = writer_timeout
        self._index: index.Index | None = None

    def open(self, *, create: bool = True) -> index.Index:
        """Open the index (creating an empty one if asked); raise IndexUnavailable if unreadable."""
        if self._index is None:
            try:
                if index.exists_in(self.path):
                    self._index = index.open_dir(self.path)
                elif create:
                    self.path.mkdir(parents=True, exist_ok=True)
                    self._index = index.create_in(self.path, schema(self.language))
                else:
                    raise IndexUnavailable(f"no search index in {self.path}")
            except (EmptyIndexError, OSError, ValueError, EOFError) as error:
                raise IndexUnavailable(f"search index in {self.path} is unreadable: {error}") from error
        return self._index

    def recreate(self) -> None:
        """Start over with an empty index (after corruption, or for a rebuild)."""
        self.path.mkdir(parents=True, exist_ok=True)
        self._index = index.create_in(self.path, schema(self.language))

    def write(self, add: Iterable[PostDocument] = (), remove: Iterable[int] = ()) -> None:
        """Add or replace and remove documents in one commit; waits for the writer lock."""
        writer = self.open().writer(timeout=self.writer_timeout)  # LockError if it stays busy
        try:
            for post_id in remove:
                writer.delete_by_term("id", post_id)
            for doc in add:
                writer.update_document(
                    id=doc.id,
                    text=doc.text,
                    author=doc.author,
                    tags=" ".join(doc.tags),
                    mentions=" ".join(doc.mentions),
                    created_at=doc.created_at.astimezone(UTC).replace(tzinfo=None),
                )
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def search(self, query: SearchQuery, *, limit: int = 20, before_id: int | None = None) -> Hits:
        """Return matching post ids: by relevance, or newest first; `before_id` pages newest-first."""
        whoosh_query = self._compile(query)
        if whoosh_query is None:
            return Hits([], 0)
        if before_id is not None:
            whoosh_query = q.And([whoosh_query, q.NumericRange("id", None, before_id, endexcl=True)])
        ix = self.open()
        with ix.searcher() as searcher:
            if query.newest_first or before_id is not None:
                results = searcher.search(whoosh_query, limit=limit, sortedby="id", reverse=True)
            else:
                results = searcher.search(whoosh_query, limit=limit)
            return Hits([hit["id"] for hit in results], len(results))

    def _compile(self, query: SearchQuery) -> q.Query | None:
        analyzer = text_analyzer(self.language)

        def terms(text: str) -> list[str]:
            return [token.text for token in analyzer(text)]

        must: list[q.Query] = []
        for word in query.words:
            stems = terms(word)
            if stems:
                must.append(q.And([q.Term("text", s) for s in stems]))
        for phrase in query.phrases:
            stems = terms(phrase)
            if len(stems) == 1:
                must.append(q.Term("text", stems[0]))
            elif stems:
                must.append(q.Phrase("text", stems))
        must += [q.Term("tags", tag) for tag in query.tags]
        must += [q.Term("author", name) for name in query.authors]
        must += [q.Term("mentions", name) for name in query.mentions]
        if not must:
            return None
        if query.after or query.before:
            start = datetime.combine(query.after, time.min) if query.after else None
            end = datetime.combine(query.before, time.min) if query.before else None
            must.append(q.DateRange("created_at", start, end, endexcl=True))
        excluded = [q.Or([q.Term("text", s) for s in terms(word)]) for word in query.excluded if terms(word)]
        compiled: q.Query = q.And(must)
        if excluded:
            compiled = q.AndNot(compiled, q.Or(excluded))
        return compiled
