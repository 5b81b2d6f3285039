"""Full-text search over posts, people and tags: the interface the rest of microblog uses.

    index_post(post_id) / remove_post(post_id)   in the post's transaction
    search_posts(query, page)                     ids, best or newest first
    search_people(query) / search_tags(query)     beside the posts
    complete_people(prefix, listable)             what the composer offers after @
    rebuild(progress)                             everything again, from the database

MICROBLOG_SEARCH_BACKEND picks the post index: `whoosh` (a directory under
MICROBLOG_DATA_DIR, default) or `postgres` (tsvector + GIN, for several hosts).
Writes reach it through the outbox (search.indexer), after the commit: a post
never waits for, or fails with, its indexing.  Results are only ids; a deleted
post is gone at once because posts are loaded from the database afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from flask import Flask, current_app, has_request_context, request
from flask_babel import lazy_gettext as _l

from microblog.database import db, on_commit
from models import SearchOutbox

from . import indexer
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
# called in the indexer's transaction, before it commits.
OnMatch = Callable[[list[tuple[SavedSearch, PostDocument]]], None]


log = logging.getLogger(__name__)


@dataclass
class _Search:
    backend: Backend
    indexer: indexer.Indexer
    background: bool
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
    """Attach the configured backend; serving processes start the background indexer on first use.

    `on_match` receives the saved searches each newly indexed post matched (search.percolator).
    """
    backend = make_backend(app)
    work = indexer.Indexer(app, backend, percolate=_percolate)
    state = _Search(backend, work, app.config["SEARCH_INDEXER"], Percolator(backend.analysis()), on_match)
    app.extensions["search"] = state
    if state.background:
        app.before_request(state.indexer.start)


def _state() -> _Search:
    return current_app.extensions["search"]


def backend() -> Backend:
    """Return this app's backend."""
    return _state().backend


def index_post(post_id: int, *, new_post: bool = False) -> None:
    """Queue a new or changed post for the index, in the caller's transaction.

    A `new_post` is also matched against the saved searches once it is indexed (search.percolator).
    """
    db.session.add(SearchOutbox(post_id=post_id, new_post=new_post))
    state = _state()
    if new_post and has_request_context():
        state.site_url = request.url_root
    if state.background:
        on_commit(state.indexer.wake)


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
    except IndexUnavailable:
        if state.background:
            state.indexer.check()
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
    """Apply every queued change to the index now (percolating new posts); return how many were applied."""
    return indexer.drain(_state().backend, percolate=_percolate)


def _percolate(post_ids: Sequence[int]) -> None:
    """Match newly indexed posts against the saved searches, and hand the matches on."""
    state = _state()
    if state.on_match is None:
        return
    state.percolator.refresh()
    matches = state.percolator.match(load_documents(post_ids))
    if not matches:
        return
    # What matched is delivered in a savepoint: should delivery fail, the posts are indexed all the
    # same (their matches are lost, and logged), rather than retried, and failing, for ever.
    try:
        with db.session.begin_nested(), _site_links(state):
            state.on_match(matches)
    except Exception:
        log.exception("delivering what saved searches matched in posts %s failed", list(post_ids))


@contextmanager
def _site_links(state: _Search) -> Iterator[None]:
    """Let delivery build the site's absolute links outside a request (the indexer runs in the background).

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


def rebuild(progress: Progress | None = None, *, procs: int = 1) -> int:
    """Index every post again from the database, then apply the changes to older posts queued meanwhile."""
    count = _state().backend.rebuild(progress, procs=procs)
    try:
        # New posts' rows are left to the serving processes' indexers, which match them against the
        # saved searches and reach the clients connected to them (a rebuild runs in its own process).
        indexer.drain(_state().backend, changes_only=True)
    except IndexBusy:
        pass  # a serving process is draining; it will finish
    return count


def status() -> str | None:
    """Return what is wrong with search, or None when it serves."""
    return _state().backend.status()
