"""Keeping the index up to date: drain the outbox after each commit, and on a timer.

Posting writes an outbox row in its own transaction and wakes this process's
indexer after the commit; the indexer takes the index's writer, re-reads the
posts the outbox names, applies them and deletes those rows.  A process that
cannot get the writer (another is writing, or rebuilding) leaves the rows, and
every process looks at the outbox again each `interval` seconds, so a post
written anywhere is indexed by whichever process gets there first, and a post
whose process died right after its commit is indexed all the same.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from flask import Flask
from sqlalchemy import delete, exists, select

from microblog.database import db
from models import SearchOutbox

from .backend import Backend, IndexBusy, IndexUnavailable

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent


# Called with the ids of newly written posts once they are indexed, in the drain's transaction.
Percolate = Callable[[Sequence[int]], None]


def drain_batch(
    backend: Backend, batch_size: int = 500, percolate: Percolate | None = None, *, changes_only: bool = False
) -> int:
    """Apply one batch of the outbox to the index, and percolate its new posts; return how many rows it held.

    Percolation runs after the index has the posts and before the outbox rows
    go, in the same transaction: if it fails, the rows stay and the posts are
    indexed and matched again later (what it writes must tolerate that).
    `changes_only` leaves new posts' rows for a process that percolates them.
    """
    waiting = select(SearchOutbox.id, SearchOutbox.post_id, SearchOutbox.new_post)
    if changes_only:
        waiting = waiting.where(SearchOutbox.new_post.is_(False))
    if not db.session.scalar(select(exists(waiting))):
        db.session.rollback()
        return 0  # every process looks each second: an idle one must not take the writer (or commit)
    with backend.writing() as apply:
        rows = db.session.execute(waiting.order_by(SearchOutbox.id).limit(batch_size)).all()
        if rows:
            apply(sorted({post_id for _, post_id, _ in rows}))
    if rows:
        new_posts = sorted({post_id for _, post_id, new_post in rows if new_post})
        if new_posts and percolate is not None:
            percolate(new_posts)
        db.session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([row_id for row_id, _, _ in rows])))
    db.session.commit()
    return len(rows)


def drain(
    backend: Backend, batch_size: int = 500, percolate: Percolate | None = None, *, changes_only: bool = False
) -> int:
    """Apply the outbox (or only its changes to older posts); return how many rows.  Raises IndexBusy."""
    total = 0
    while count := drain_batch(backend, batch_size, percolate, changes_only=changes_only):
        total += count
    return total


# How long a woken indexer waits for more posts before it drains: about how far search lags a post.
BATCH_WINDOW = 1.0


class Indexer:
    """This process's background indexer: one thread (or greenlet under gevent)."""

    def __init__(
        self, app: Flask, backend: Backend, *, interval: float = 1.0, percolate: Percolate | None = None
    ) -> None:
        self.app = app
        self.backend = backend
        self.percolate = percolate
        self.interval = interval
        self._wakeup = threading.Event()
        self._check_due = threading.Event()
        self._check_due.set()  # the first round looks at the index
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.rebuilder: subprocess.Popen[bytes] | None = None

    def wake(self) -> None:
        """Drain soon (called after a commit that wrote outbox rows)."""
        self._wakeup.set()

    def check(self) -> None:
        """Look at the index again soon (a search could not read it), and rebuild it if it must be."""
        self._check_due.set()
        self._wakeup.set()

    def start(self) -> None:
        """Start the background loop once; the first round checks the index."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)
                self._thread.start()

    def check_index(self) -> None:
        """Rebuild the index in the background if the backend says it must be.

        Only the backend can tell: a damaged Whoosh index needs rebuilding, while a
        failed PostgreSQL query (the database was away) does not.
        """
        if self.backend.prepare():
            if self.backend.missing():  # a new install: an empty index is nothing to warn about
                log.info("no search index yet: building it in the background")
            else:
                log.warning("the search index is damaged: rebuilding it in the background")
            self.start_rebuild()

    def _run(self) -> None:
        while True:
            with self.app.app_context():
                try:
                    if self._check_due.is_set():
                        self._check_due.clear()
                        self.check_index()
                    drain(self.backend, percolate=self.percolate)
                except (IndexBusy, IndexUnavailable) as busy:
                    log.debug("search outbox left for later: %s", busy)
                except Exception:
                    log.exception("indexing the search outbox failed; it is kept and retried")
                    db.session.rollback()
                finally:
                    db.session.remove()
            if self._wakeup.wait(self.interval):
                # Gather what else is being posted: one index commit per post costs ~16 ms of
                # CPU, one per 20 posts ~2 ms each, and a busy server posts many per window.
                time.sleep(BATCH_WINDOW)
            self._wakeup.clear()

    def start_rebuild(self) -> None:
        """Rebuild the index in a child process (`flask search reindex`), so this one keeps serving."""
        if self.rebuilder is not None and self.rebuilder.poll() is None:
            return
        command = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "search",
            "reindex",
            "--quiet",
            "--procs",
            "1",
        ]
        self.rebuilder = subprocess.Popen(command, cwd=ROOT)
