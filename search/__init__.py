"""Full-text search over posts, people and tags: the interface the rest of microblog uses.

    index_post(post_id) / remove_post(post_id)   in the post's transaction
    search_posts(query, page)                     ids, best or newest first
    search_people(query) / search_tags(query)     beside the posts
    complete_people(prefix, listable)             what the composer offers after @
    rebuild(progress)                             everything again, from the database
    run_worker(stop)                              the search worker: the index's one writer
    drain()                                       what the worker and the serving processes do, now
    status()                                      what is wrong: the index, or no worker draining

MICROBLOG_SEARCH_BACKEND picks the post index: `whoosh` (a directory under
MICROBLOG_DATA_DIR, default) or `postgres` (tsvector + GIN, for several hosts).
Writes reach it through the outbox, after the commit, and are made by one
process, the search worker (search.indexer, `flask --app wsgi search worker`):
a post never waits for, or fails with, its indexing, and serving processes
only read the index.  New posts are matched against the saved searches by the
serving processes (search.percolation), whose clients hear the matches.
Results are only ids; a deleted post is gone at once because posts are loaded
from the database afterwards.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from flask import Flask, current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select

from microblog.database import db, on_commit
from models import PercolationOutbox, SearchOutbox, SearchWorker, utcnow

from . import indexer, percolation
from .analysis import analyzed_terms, check_language
from .backend import Backend, Hits, IndexBusy, IndexUnavailable, PageRequest, Progress, Reader
from .documents import PostDocument, load_documents
from .people import complete_people, search_people, search_tags
from .percolator import Percolator, SavedSearch
from .postgres_backend import PostgresBackend
from .query import SearchQuery, parse_query
from .whoosh_backend import WhooshBackend

__all__ = [
    "Hits",
    "Reader",
    "IndexBusy",
    "PageRequest",
    "PostDocument",
    "SavedSearch",
    "SearchQuery",
    "analyzed_terms",
    "complete_people",
    "drain",
    "index_post",
    "init_app",
    "parse_query",
    "rebuild",
    "remove_post",
    "run_worker",
    "saved_searches_changed",
    "search_people",
    "search_posts",
    "search_tags",
    "status",
]

BACKENDS = ("whoosh", "postgres")
# Notes for the reader, in the reader's language (str() translates them when they are given).
UNAVAILABLE = _l(
    "Search cannot answer right now; if its index is damaged, it is being rebuilt."
    " Please try again in a few minutes."
)
REBUILDING = _l("The search index is being rebuilt, so some posts may be missing from the results.")


# What the app does with the saved searches a new post matched (services.signals.deliver):
# called in the percolation drain's transaction, before it commits.
OnMatch = Callable[[list[tuple[SavedSearch, PostDocument]]], None]


log = logging.getLogger(__name__)

# An outbox row older than this, and no heartbeat of the search worker as recent: status() says
# that none runs (s).  The worker writes one every indexer.CHECK_SECONDS.
WORKER_MISSING_AFTER = 30.0


@dataclass
class _Search:
    backend: Backend
    indexer: indexer.Indexer  # what `flask search worker` runs; idle in every other process
    background: bool  # a serving process: it matches new posts in the background (SEARCH_PERCOLATOR)
    percolation: percolation.Percolation
    percolator: Percolator
    on_match: OnMatch | None
    # The site's address as the last new post's writer opened it: the links of what matches send.
    site_url: str | None = None


def make_backend(app: Flask) -> Backend:
    """Build the backend that MICROBLOG_SEARCH_BACKEND names."""
    name = app.config["SEARCH_BACKEND"]
    language = check_language(app.config["SEARCH_LANGUAGE"])
    if name == "whoosh":
        return WhooshBackend(app.config["DATA_DIR"] / "search", language)
    if name == "postgres":
        return PostgresBackend(language)
    raise ValueError(f"MICROBLOG_SEARCH_BACKEND={name!r}: expected one of {', '.join(BACKENDS)}")


def init_app(app: Flask, *, on_match: OnMatch | None = None) -> None:
    """Attach the configured backend; serving processes start matching new posts on first use.

    `on_match` receives the saved searches each new post matched (search.percolator).
    """
    backend = make_backend(app)
    state = _Search(
        backend,
        indexer.Indexer(app, backend),
        app.config["SEARCH_PERCOLATOR"],
        percolation.Percolation(app, _percolate),
        Percolator(backend.analysis()),
        on_match,
    )
    app.extensions["search"] = state
    if state.background:
        app.before_request(state.percolation.start)


def _state() -> _Search:
    return current_app.extensions["search"]


def backend() -> Backend:
    """Return this app's backend."""
    return _state().backend


def index_post(post_id: int, *, new_post: bool = False) -> None:
    """Queue a new or changed post for the index, in the caller's transaction.

    A `new_post` is also queued to be matched against the saved searches, once (search.percolation).
    The rows are written at once on the session's connection, past the ORM's unit of work:
    nothing reads them back in the transaction, and a post's flush of them cost more than their INSERTs.
    """
    connection = db.session.connection()
    connection.execute(insert(SearchOutbox), {"post_id": post_id, "queued_at": utcnow()})
    if not new_post:
        return
    connection.execute(insert(PercolationOutbox), {"post_id": post_id})
    state = _state()
    if has_request_context():
        state.site_url = request.url_root
    if state.background:
        on_commit(state.percolation.wake)


def remove_post(post_id: int) -> None:
    """Queue a deleted post's removal from the index, in the caller's transaction."""
    index_post(post_id)  # the indexer finds the post gone and removes it


def search_posts(query: SearchQuery, page: PageRequest | None = None, *, reader: Reader) -> Hits:
    """Return one page of the ids of matching posts the reader may see, with notes for them; never raises."""
    page = page or PageRequest()
    state = _state()
    notes = list(query.notes)
    if query.is_empty:
        return Hits([], notes=tuple(notes))
    try:
        hits = state.backend.search(query, page, reader)
    except IndexUnavailable:  # the search worker looks at the index every few seconds and rebuilds it
        return Hits([], notes=(*notes, str(UNAVAILABLE)))
    if state.backend.rebuilding:
        notes.append(str(REBUILDING))
    return replace(hits, notes=tuple(notes))


def saved_searches_changed() -> None:
    """Note that a saved search was saved, changed or removed: new posts are matched against it at once.

    Call after the commit (other processes see the change within a second).
    """
    _state().percolator.forget()


def drain() -> int:
    """Apply every queued change to the index and match every queued new post, now; return how many posts.

    What the search worker and the serving processes do in the background, in one call (for tests
    and commands that have no worker running).
    """
    indexed = indexer.drain(_state().backend)
    matched = percolation.drain(_percolate)
    return len(indexed | matched)


def _percolate(post_ids: Sequence[int]) -> None:
    """Match new posts against the saved searches, and hand the matches on."""
    state = _state()
    if state.on_match is None:
        return
    state.percolator.refresh()
    if not state.percolator.size:
        return  # no saved search at all: the posts need not even be read
    matches = state.percolator.match(load_documents(post_ids))
    if not matches:
        return
    # What matched is delivered in a savepoint: should delivery fail, the rows are taken all the
    # same (their matches are lost, and logged), rather than retried, and failing, for ever.
    try:
        with db.session.begin_nested(), _site_links(state):
            state.on_match(matches)
    except Exception:
        log.exception("delivering what saved searches matched in posts %s failed", list(post_ids))


@contextmanager
def _site_links(state: _Search) -> Iterator[None]:
    """Let delivery build the site's absolute links outside a request (matching runs in the background).

    From MICROBLOG_SITE_URL, else the address the newest post's writer used; Flask's
    SERVER_NAME (the tests') or a request under way need nothing.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if has_request_context() or app.config.get("SERVER_NAME"):
        yield
        return
    url = app.config.get("SITE_URL") or state.site_url
    if not url:
        log.warning(
            "set MICROBLOG_SITE_URL: saved searches' matches are sent with links to http://localhost/"
        )
        url = "http://localhost/"
    with app.test_request_context("/", base_url=url):
        yield


def run_worker(stop: threading.Event) -> None:
    """Be the installation's search worker until `stop` is set (search.indexer): the index's one writer."""
    _state().indexer.run(stop)


def rebuild(progress: Progress | None = None, *, procs: int = 1) -> int:
    """Index every post again from the database, then apply the changes queued meanwhile.

    New posts stay queued for matching (search.percolation): the serving processes match them and
    reach the clients connected to them, which a rebuild, in a process of its own, could not.
    """
    count = _state().backend.rebuild(progress, procs=procs)
    try:
        indexer.drain(_state().backend)
    except IndexBusy:
        pass  # the search worker is draining; it will finish
    return count


def status() -> str | None:
    """Return what is wrong with search, or None when it serves: the index, or an outbox nobody drains."""
    problem = _state().backend.status()
    if problem is not None:
        return problem
    oldest = db.session.scalar(select(SearchOutbox.queued_at).order_by(SearchOutbox.id).limit(1))
    waited = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    if waited < WORKER_MISSING_AFTER:
        return None
    worker = db.session.execute(select(SearchWorker.seen_at, SearchWorker.problem)).first()
    seen = (utcnow() - worker.seen_at).total_seconds() if worker is not None else None
    if worker is None or seen is None or seen > WORKER_MISSING_AFTER:
        last = "" if seen is None else f" (last seen {seen:.0f} s ago)"
        return (
            f"posts have waited {waited:.0f} s for the search index and no search worker runs{last}:"
            " start one (`flask --app wsgi search worker`; deployed: microblog-search.service)"
        )
    if worker.problem:
        return f"posts have waited {waited:.0f} s for the index; the search worker fails: {worker.problem}"
    return None  # it runs, and waits for whoever holds the index's writer (a rebuild, a backup)
