"""The embedded search backend: a Whoosh index in MICROBLOG_DATA_DIR/search.

Whoosh allows one writer at a time per index and raises LockError otherwise.
Every write here (draining the outbox, a rebuild) goes through `ix.writer`
with a timeout, so several processes take turns; one that times out leaves
its outbox rows for the next drain.  Searches only read, from a small pool of
searchers that are refreshed when another process commits.

A rebuild writes the posts into new segments (one per 100,000 posts, built
in parallel processes) and installs them in one commit that drops every old
segment, so the whole index is swapped in one step: searches keep answering
from the old one meanwhile.  It takes a second lock (REBUILD) so that
only one runs, and leaves a REBUILDING marker while it works, so an
interrupted rebuild is seen and done again at the next start.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session
from whoosh import index
from whoosh import query as q
from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError
from whoosh.reading import MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import IndexWriter, SegmentWriter

from microblog.database import db

from .analysis import LANGUAGES
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
from .documents import PostDocument, chunk_bounds, document_batches, id_range, load_documents
from .percolator import PythonAnalysis
from .query import SearchQuery
from .whoosh_schema import compile_query, document_fields, schema, stem_language
from .whoosh_scoring import POST_ALONE
from .whoosh_segments import Leaf, SegmentIds, in_id_order, live_post_ids, newest_matches, segments_to_fold

log = logging.getLogger(__name__)

REBUILD_MARKER = "REBUILDING"
INDEX_NAME = "MAIN"  # Whoosh's default index name: files _MAIN_<generation>.toc and MAIN_<id>.seg
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


class WhooshBackend:
    """A Whoosh index of posts in one directory, shared by every process of an installation."""

    def __init__(
        self,
        path: Path,
        language: str,
        *,
        writer_timeout: float = 2.0,
        rebuild_timeout: float = 60.0,
        limitmb: int = 512,
        chunk_size: int = 100_000,
    ) -> None:
        self.path = Path(path)
        self.language = language
        self.writer_timeout = writer_timeout
        self.rebuild_timeout = rebuild_timeout
        self.limitmb = limitmb  # memory per indexing process before sorted runs go to disk
        self.chunk_size = chunk_size  # posts per segment in a rebuild
        self._index: index.Index | None = None
        self._searchers: list[Searcher] = []
        self._pool_lock = threading.Lock()
        self._segment_ids: dict[str, SegmentIds] = {}  # by segment: segments never change once written

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

    def missing(self) -> bool:
        """Return whether there is no index at all yet (a new install), rather than a damaged one."""
        return not self._has_index()

    def status(self) -> str | None:
        """Return what is wrong with the index, or None when it can be searched."""
        try:
            searcher = self._checkout()
        except IndexUnavailable as error:
            return str(error)
        try:
            reader = searcher.reader()
            reader.doc_count()
            for _ in zip(range(1), reader.all_terms(), strict=False):
                pass
            searcher.search(q.Every(), limit=1)
            self._leaves(searcher)  # reads every segment's ids, which searches need (and warms them)
            built_for = stem_language(self._open().schema)
        except READ_ERRORS as error:
            searcher.close()
            self._index = None
            return f"search index in {self.path} is damaged: {error!r}"
        self._checkin(searcher)
        if set(self._open().schema.names()) != set(schema(self.language).names()):
            return f"search index in {self.path} was built by another version of microblog"
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

    def analysis(self) -> PythonAnalysis:
        """Return the analysis of the index's text field: microblog's own."""
        return PythonAnalysis(self.language)

    @contextmanager
    def writing(self) -> Iterator[Callable[[Sequence[int]], None]]:
        """Hold the index writer; yield apply(post_ids), to be called once; commit on leaving.

        Every segment stays in id order (see search.whoosh_segments): apply adds
        its posts sorted, after any small segments it folds in, and Whoosh's
        own merge, which would put those after them, never runs.
        """
        writer = self._writer(self.writer_timeout)
        folded: set[str] = set()
        applied = False

        def apply(post_ids: Sequence[int]) -> None:
            nonlocal applied
            if applied:
                raise RuntimeError("apply() once per writer: its documents must come in id order")
            applied = True
            ids = sorted(set(post_ids))
            self._delete_documents(writer, ids)
            docs = self._fold_small_segments(writer, load_documents(ids), folded)
            for doc in docs:
                writer.add_document(**document_fields(doc))

        try:
            yield apply
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=lambda _w, segments: [s for s in segments if s.segment_id() not in folded])

    def _delete_documents(self, writer: SegmentWriter, post_ids: Sequence[int]) -> None:
        """Delete the indexed documents of these posts, found with a pooled searcher (no new reader)."""
        if not post_ids:
            return
        searcher = self._checkout()
        try:
            # The writer holds the lock, so the newest generation is the one it started from.
            if searcher.reader().generation() != writer.generation - 1:
                for post_id in post_ids:
                    writer.delete_by_term("id", post_id)
                return
            for docnum in searcher.docs_for_query(q.Or([q.Term("id", pid) for pid in post_ids])):
                writer.delete_document(docnum)
        finally:
            self._checkin(searcher)

    def _fold_small_segments(
        self, writer: SegmentWriter, docs: list[PostDocument], folded: set[str]
    ) -> list[PostDocument]:
        """Copy crowded small segments into the writer in id order; return the documents to add after."""
        segments = segments_to_fold(writer.segments)
        if not segments:
            return docs
        readers = [SegmentReader(writer.storage, writer.schema, segment) for segment in segments]
        try:
            pairs = [(reader, self._ids_of(reader)) for reader in readers]
            ordered = in_id_order(pairs, docs[0].id if docs else None)
            if ordered is not None:
                for reader in ordered:
                    writer.add_reader(reader)
            else:  # overlapping id ranges (commits out of id order): write their posts again, sorted
                again = {pid for reader, ids in pairs for pid in live_post_ids(reader, ids)}
                docs = load_documents(sorted(again | {doc.id for doc in docs}))
        finally:
            for reader in readers:
                reader.close()
        folded.update(segment.segment_id() for segment in segments)
        return docs

    def rebuild(self, progress: Progress | None = None, *, procs: int = 1) -> int:
        """Index every post again into new segments, then swap them in with one commit.

        Posts are split into id ranges of `chunk_size`; each range becomes one
        segment, built in memory (no external merge) by one of `procs` worker
        processes.  The index's writer lock is held throughout, so drains wait
        (their outbox rows stay) and run after the swap.
        """
        lock = self._storage().lock("REBUILD")
        if not lock.acquire(blocking=False):
            raise IndexBusy("another process is rebuilding the search index")
        marker = self.path / REBUILD_MARKER
        try:
            new = self.missing()
            marker.touch()
            if new:
                log.info("no search index in %s yet: building it", self.path)
                self._start_anew()
            elif self.status() is not None:
                log.warning("search index in %s is damaged or outdated: starting anew", self.path)
                self._start_anew()
            with self._holding_writer_lock(self.rebuild_timeout):
                segments, count = self._build_segments(chunk_bounds(self.chunk_size), progress, procs)
                # A writer made only now: the segment writers share its temporary directory.
                final = SegmentWriter(self._open(), _lk=False)
                final.commit(mergetype=lambda _writer, _old_segments: segments)  # the old segments go
            self._index = None
            marker.unlink()
            return count
        finally:
            lock.release()

    def _start_anew(self) -> None:
        """Replace the index with an empty one of this schema, at a generation above the old one's.

        Whoosh's create_in starts again at generation 0; a searcher kept by any
        process on the old index, at a generation the new one reaches, would take
        itself for current and go on answering from the old segments.
        """
        older = TOC._latest_generation(self._storage(), INDEX_NAME)  # from file names: works when damaged
        index.create_in(str(self.path), schema(self.language), indexname=INDEX_NAME)
        if older >= 0:
            TOC(schema(self.language), [], older + 1).write(self._storage(), INDEX_NAME)
        self._index = None

    @contextmanager
    def _holding_writer_lock(self, timeout: float) -> Iterator[None]:
        """Hold the lock Whoosh's writers take, as one writer would, for a whole rebuild."""
        self._create_if_missing()
        lock = self._storage().lock("MAIN_WRITELOCK")
        deadline = time.monotonic() + timeout
        while not lock.acquire(blocking=False):
            if time.monotonic() > deadline:
                raise IndexBusy("another process is writing the search index")
            time.sleep(0.1)
        try:
            yield
        finally:
            lock.release()

    def _build_segments(
        self, bounds: list[tuple[int, int | None]], progress: Progress | None, procs: int
    ) -> tuple[list[Segment], int]:
        build = partial(_build_segment, self.path, self.limitmb)
        segments: list[Segment] = []
        count = 0
        with ExitStack() as stack:
            if procs > 1 and len(bounds) > 1:
                db.session.remove()  # no connection of this process may cross the fork
                pool = stack.enter_context(
                    multiprocessing.get_context("fork").Pool(procs, initializer=_forget_connections)
                )
                results: Iterator[tuple[Segment | None, int]] = pool.imap(build, bounds)  # in id order
            else:
                results = map(build, bounds)
            for segment, built in results:
                if segment is not None:
                    segments.append(segment)
                count += built
                if progress:
                    progress(built)
        return segments, count

    # -- reading -----------------------------------------------------------

    def _checkout(self) -> Searcher:
        with self._pool_lock:
            searcher = self._searchers.pop() if self._searchers else None
        try:
            if searcher is not None:
                return _retrying(lambda: self._refreshed(searcher))
            return _retrying(lambda: self._open().searcher(weighting=POST_ALONE))
        except READ_ERRORS as error:
            self._index = None
            raise IndexUnavailable(f"search index in {self.path} is unreadable: {error!r}") from error

    def _refreshed(self, searcher: Searcher) -> Searcher:
        """Return a searcher of the newest generation, reopening only the segments that changed.

        Whoosh 2.7's own refresh means to reuse open segment readers but never
        does (it files them by generation and looks them up by segment id), so
        every commit anywhere cost the next search a reopening of every segment.
        A segment's reader is reused while its deletions are the same (they only
        ever grow, so the same count is the same set).
        """
        ix = self._open()
        reader = searcher.reader()
        if ix.latest_generation() == reader.generation():
            return searcher
        toc = ix._read_toc()
        reusable = {
            r.segment().segment_id(): r for r, _ in reader.leaf_readers() if isinstance(r, SegmentReader)
        }
        readers = []
        for segment in toc.segments:
            old = reusable.get(segment.segment_id())
            if old is not None and old.segment().deleted_count() == segment.deleted_count():
                del reusable[segment.segment_id()]
                readers.append(old)
            else:
                readers.append(SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation))
        for unused in reusable.values():
            unused.close()
        if not readers:
            return ix.searcher(weighting=POST_ALONE)
        # A MultiReader even of one: a reused segment reader still tells its old generation.
        combined = MultiReader(readers, generation=toc.generation)
        return Searcher(combined, fromindex=ix, weighting=searcher.weighting)

    def _checkin(self, searcher: Searcher) -> None:
        with self._pool_lock:
            self._searchers.append(searcher)

    def _ids_of(self, reader: SegmentReader) -> SegmentIds:
        key = reader.segment().segment_id()
        ids = self._segment_ids.get(key)
        if ids is None:
            ids = self._segment_ids[key] = SegmentIds.read(reader)
        return ids

    def _leaves(self, searcher: Searcher) -> list[Leaf]:
        leaves = [
            Leaf(sub, self._ids_of(sub.reader()))
            for sub, _offset in searcher.leaf_searchers()
            if isinstance(sub.reader(), SegmentReader)  # an empty index has no segments
        ]
        if len(self._segment_ids) > 2 * len(leaves) + 16:  # forget segments merged away
            current = {leaf.searcher.reader().segment().segment_id() for leaf in leaves}
            self._segment_ids = {k: v for k, v in self._segment_ids.items() if k in current}
        return leaves

    def search(self, query: SearchQuery, page: PageRequest, reader: Reader) -> Hits:
        """Return one page of matching post ids: newest first, or the newest matches ranked by relevance.

        Relevance ranks the newest MAX_RELEVANCE_DEPTH matches (all of them,
        unless a query matches more): Whoosh would otherwise score every match
        of a common word, and for posts, recent ones are the relevant ones.
        """
        ids = id_range(query.after, query.before) if query.after or query.before else None
        compiled = compile_query(query, self.language, ids)
        if compiled is None:
            return Hits([])
        newest = newest_first(query, page)
        readable = reader.communities  # private posts of other communities: left out as they are read
        above, below = (ids.above, ids.below) if ids else (None, None)  # where the walk starts and stops
        if page.before_id is not None:
            below = page.before_id if below is None else min(below, page.before_id)
        searcher = self._checkout()
        try:
            leaves = self._leaves(searcher)
            if newest:
                found = newest_matches(
                    searcher, leaves, compiled, page.limit + 1, above=above, below=below, communities=readable
                )
            else:
                candidates = newest_matches(
                    searcher,
                    leaves,
                    compiled,
                    MAX_RELEVANCE_DEPTH,
                    above=above,
                    below=below,
                    scored=True,
                    communities=readable,
                )
                ranked = sorted(candidates, key=lambda match: (-match[1], -match[0]))
                found = ranked[page.offset : page.offset + page.limit + 1]
        except READ_ERRORS as error:
            log.exception("searching %s failed", self.path)
            searcher.close()
            self._index = None
            raise IndexUnavailable(f"search index in {self.path} is unreadable: {error!r}") from error
        self._checkin(searcher)
        return Hits.from_ids([post_id for post_id, _score in found], page, newest_first=newest)


def _forget_connections() -> None:
    """In a forked worker: open new database connections instead of sharing the parent's."""
    db.engine.dispose(close=False)


def _build_segment(path: Path, limitmb: int, bound: tuple[int, int | None]) -> tuple[Segment | None, int]:
    """Write one id range of posts as a finished segment of the index (not yet committed)."""
    ix = index.open_dir(str(path))
    writer = SegmentWriter(ix, _lk=False, limitmb=limitmb)  # the rebuild holds the lock
    count = 0
    with Session(db.engine) as session:
        for batch in document_batches(after_id=bound[0], through_id=bound[1], session=session):
            for doc in batch:
                writer.add_document(**document_fields(doc))
            count += len(batch)
    if not count:
        writer.cancel()
        return None, 0
    return writer._finalize_segment(), count  # what Whoosh's own multisegment writer does
