"""The embedded search backend: a Whoosh index in MICROBLOG_DATA_DIR/search.

Whoosh allows one writer at a time per index and raises LockError otherwise.
Every write here (draining the outbox, a rebuild) goes through `ix.writer`
with a timeout, so several processes take turns; one that times out leaves
its outbox rows for the next drain.  Searches only read, from a small pool of
searchers that are refreshed when another process commits.

A rebuild writes every post into one new segment and commits it with
mergetype=CLEAR, which swaps the whole index in one step: searches keep
answering from the old one meanwhile.  It takes a second lock (REBUILD) so that
only one runs, and leaves a REBUILDING marker while it works, so an
interrupted rebuild is seen and done again at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from whoosh import index
from whoosh import query as q
from whoosh.analysis import StemFilter
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.searching import Searcher
from whoosh.writing import CLEAR, IndexWriter

from .analysis import LANGUAGES, analyzed_terms, text_analyzer
from .backend import Hits, IndexBusy, IndexUnavailable, PageRequest, Progress, newest_first
from .documents import PostDocument, document_batches, load_documents
from .query import SearchQuery

log = logging.getLogger(__name__)

REBUILD_MARKER = "REBUILDING"
T = TypeVar("T")

# A damaged index raises almost anything when read (OSError, EOFError, struct.error, pickle
# errors, whoosh.index.IndexError ...): reading is the boundary where all of it means "unreadable".
READ_ERRORS = (Exception,)


def _retrying(open_latest: Callable[[], T]) -> T:
    """Open the newest generation, again if a concurrent commit removed it meanwhile."""
    for _ in range(9):
        try:
            return open_latest()
        except FileNotFoundError:
            time.sleep(0.01)
    return open_latest()


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


def _fields(doc: PostDocument) -> dict[str, object]:
    return {
        "id": doc.id,
        "text": doc.text,
        "author": doc.author,
        "tags": " ".join(doc.tags),
        "mentions": " ".join(doc.mentions),
        "created_at": doc.created_at.astimezone(UTC).replace(tzinfo=None),
    }


class WhooshBackend:
    """A Whoosh index of posts in one directory, shared by every process of an installation."""

    name = "whoosh"

    def __init__(
        self,
        path: Path,
        language: str,
        *,
        writer_timeout: float = 2.0,
        rebuild_timeout: float = 60.0,
        limitmb: int = 256,
    ) -> None:
        self.path = Path(path)
        self.language = language
        self.writer_timeout = writer_timeout
        self.rebuild_timeout = rebuild_timeout
        self.limitmb = limitmb
        self._index: index.Index | None = None
        self._searchers: list[Searcher] = []
        self._pool_lock = threading.Lock()

    # -- state -------------------------------------------------------------

    @property
    def rebuilding(self) -> bool:
        """Return whether a rebuild is under way (or was interrupted)."""
        return (self.path / REBUILD_MARKER).exists()

    def _open(self) -> index.Index:
        if self._index is None:
            try:
                self._index = _retrying(lambda: index.open_dir(str(self.path)))
            except READ_ERRORS as error:
                raise IndexUnavailable(f"no readable search index in {self.path}: {error}") from error
        return self._index

    def _has_index(self) -> bool:
        # Not whoosh.index.exists_in: it opens the newest TOC, which a commit may just have replaced.
        return self.path.is_dir() and any(p.suffix == ".toc" for p in self.path.iterdir())

    def status(self) -> str | None:
        """Return what is wrong with the index, or None when it can be searched."""
        try:
            with self._open().searcher() as searcher:
                reader = searcher.reader()
                reader.doc_count()
                for _ in zip(range(1), reader.all_terms(), strict=False):
                    pass
                searcher.search(q.Every(), limit=1)
            built_for = _stem_language(self._open().schema)
        except IndexUnavailable as error:
            return str(error)
        except READ_ERRORS as error:
            self._index = None
            return f"search index in {self.path} is damaged: {error!r}"
        if built_for != LANGUAGES[self.language]:
            return f"search index in {self.path} was built for another language than {self.language}"
        return None

    def prepare(self) -> bool:
        """Return whether the index must be rebuilt: missing, unreadable or half rebuilt."""
        if self.rebuilding and self._rebuild_lock_free():
            return True
        return self.status() is not None

    def _storage(self) -> FileStorage:
        return FileStorage(str(self.path)).create()

    def _rebuild_lock_free(self) -> bool:
        lock = self._storage().lock("REBUILD")
        if lock.acquire(blocking=False):
            lock.release()
            return True
        return False

    # -- writing -----------------------------------------------------------

    def _create_if_missing(self) -> None:
        """Start an empty index if there is none at all (a damaged one is left to rebuild)."""
        if self._has_index():
            return
        lock = self._storage().lock("MAIN_WRITELOCK")  # the lock Whoosh's writer takes
        if not lock.acquire(blocking=False):
            raise IndexBusy("another process is creating the search index")
        try:
            if not self._has_index():
                index.create_in(str(self.path), schema(self.language))
        finally:
            lock.release()

    def _writer(self, timeout: float, **options: object) -> IndexWriter:
        self._create_if_missing()
        try:
            return self._open().writer(timeout=timeout, **options)
        except LockError as error:
            raise IndexBusy("another process is writing the search index") from error

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[int]], None]]:
        """Hold the index writer; yield apply(post_ids); commit on leaving."""
        writer = self._writer(self.writer_timeout)

        def apply(post_ids: Sequence[int]) -> None:
            docs = load_documents(post_ids)
            for post_id in set(post_ids) - {d.id for d in docs}:
                writer.delete_by_term("id", post_id)
            for doc in docs:
                writer.update_document(**_fields(doc))

        try:
            yield apply
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def rebuild(self, progress: Progress | None = None) -> int:
        """Index every post again, in one new segment swapped in at the end."""
        storage = self._storage()
        lock = storage.lock("REBUILD")
        if not lock.acquire(blocking=False):
            raise IndexBusy("another process is rebuilding the search index")
        marker = self.path / REBUILD_MARKER
        try:
            marker.touch()
            if self.status() is not None:
                log.warning(
                    "search index in %s is missing, damaged or of another language: starting anew", self.path
                )
                self._index = index.create_in(str(self.path), schema(self.language))
            writer = self._writer(self.rebuild_timeout, limitmb=self.limitmb)
            count = 0
            try:
                for batch in document_batches():
                    for doc in batch:
                        writer.add_document(**_fields(doc))
                    count += len(batch)
                    if progress:
                        progress(len(batch))
            except BaseException:
                writer.cancel()
                raise
            writer.commit(mergetype=CLEAR)
            marker.unlink()
            return count
        finally:
            lock.release()

    # -- reading -----------------------------------------------------------

    def _checkout(self) -> Searcher:
        with self._pool_lock:
            searcher = self._searchers.pop() if self._searchers else None
        try:
            if searcher is not None:
                return _retrying(searcher.refresh)
            return _retrying(lambda: self._open().searcher())
        except READ_ERRORS as error:
            self._index = None
            raise IndexUnavailable(f"search index in {self.path} is unreadable: {error!r}") from error

    def search(self, query: SearchQuery, page: PageRequest) -> Hits:
        """Return one page of matching post ids, by relevance or newest first."""
        compiled = self._compile(query)
        if compiled is None:
            return Hits([])
        newest = newest_first(query, page)
        if page.before_id is not None:
            compiled = q.And([compiled, q.NumericRange("id", None, page.before_id, endexcl=True)])
        searcher = self._checkout()
        try:
            if newest:
                results = searcher.search(compiled, limit=page.limit + 1, sortedby="id", reverse=True)
                ids = [hit["id"] for hit in results]
            else:
                results = searcher.search(compiled, limit=page.offset + page.limit + 1)
                ids = [hit["id"] for hit in results[page.offset :]]
        except READ_ERRORS as error:
            log.exception("searching %s failed", self.path)
            searcher.close()
            self._index = None
            raise IndexUnavailable(f"search index in {self.path} is unreadable: {error!r}") from error
        with self._pool_lock:
            self._searchers.append(searcher)
        return Hits.from_ids(ids, page, newest_first=newest)

    def _compile(self, query: SearchQuery) -> q.Query | None:
        def terms(text: str) -> list[str]:
            return analyzed_terms(text, self.language)

        must: list[q.Query] = []
        for word in query.words:
            must += [q.Term("text", stem) for stem in terms(word)]
        must += [_term_or_phrase(stems) for stems in map(terms, query.phrases) if stems]
        must += [q.Term("tags", tag) for tag in query.tags]
        must += [q.Term("author", name) for name in query.authors]
        must += [q.Term("mentions", name) for name in query.mentions]
        if not must:
            return None
        if query.after or query.before:
            start = datetime.combine(query.after, datetime.min.time()) if query.after else None
            end = datetime.combine(query.before, datetime.min.time()) if query.before else None
            must.append(q.DateRange("created_at", start, end, endexcl=True))
        excluded = [_term_or_phrase(stems) for stems in map(terms, query.excluded) if stems]
        compiled: q.Query = q.And(must)
        if excluded:
            compiled = q.AndNot(compiled, q.Or(excluded))
        return compiled


def _stem_language(stored: Schema) -> str | None:
    """Return the language code the index's text field stems with (the schema is stored in the index)."""
    for item in getattr(stored["text"].analyzer, "items", ()):
        if isinstance(item, StemFilter):
            return item.lang
    return None


def _term_or_phrase(stems: list[str]) -> q.Query:
    return q.Term("text", stems[0]) if len(stems) == 1 else q.Phrase("text", stems)
