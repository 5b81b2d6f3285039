"""Keeping the index up to date: the search worker, the installation's one index writer.

Posting writes an outbox row in its own transaction.  One process per
installation, `flask --app wsgi search worker`, looks at the outbox every
POLL_SECONDS (one cheap EXISTS); when rows are there it takes the index's
writer, re-reads the posts they name, applies them and deletes those rows.
The interval is also the batch: on a busy site, what was posted in the last
quarter of a second goes into one index commit, and a post is searchable
well within a second.  Serving processes never write the index, so no request
waits on a Whoosh commit or merge.

The worker also looks at the index itself, at start and every CHECK_SECONDS,
and rebuilds it in a child process when the backend says it must be; each time
it also writes its heartbeat (search_worker), by which search.status tells a
missing worker from one held up by a rebuild or a backup, or one that fails.  A post
whose process died right after its commit is indexed all the same: its row is
there.  A second worker would be harmless (Whoosh's lock makes writers take
turns, and a row drained twice does no harm), only wasted.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import delete, exists, select

from microblog.database import db, drain_all, upsert_into
from models import SearchOutbox, SearchWorker, utcnow

from .backend import Backend, IndexBusy, IndexUnavailable

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent

# How often the worker looks at the outbox (s): about how far search lags a post.  One index
# commit per post costs ~16 ms of CPU, one per 20 posts ~2 ms each: a busy site's posts of
# one interval share a commit.
POLL_SECONDS = 0.25
# How often the worker looks whether the index must be rebuilt (s): a damaged index is
# noticed within this time (searches say so meanwhile).
CHECK_SECONDS = 10.0


def drain_batch(backend: Backend, batch_size: int = 500) -> list[int]:
    """Apply one batch of the outbox to the index; return each of its rows' post id (none: it was empty)."""
    waiting = select(SearchOutbox.id, SearchOutbox.post_id)
    if not db.session.scalar(select(exists(waiting))):
        db.session.rollback()
        return []  # the worker looks several times a second: an idle look must not take the writer
    with backend.writing() as apply:
        rows = db.session.execute(waiting.order_by(SearchOutbox.id).limit(batch_size)).all()
        if rows:
            apply(sorted({post_id for _, post_id in rows}))
    if rows:
        db.session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_([row_id for row_id, _ in rows])))
    db.session.commit()
    return [post_id for _, post_id in rows]


def drain(backend: Backend, batch_size: int = 500) -> set[int]:
    """Apply the whole outbox to the index; return the ids of the posts it named.  Raises IndexBusy."""
    return drain_all(lambda: drain_batch(backend, batch_size), batch_size)


class Indexer:
    """What the search worker does: drain the outbox often, look at the index now and then."""

    def __init__(
        self,
        app: Flask,
        backend: Backend,
        *,
        poll: float = POLL_SECONDS,
        check_every: float = CHECK_SECONDS,
        batch_size: int = 500,
    ) -> None:
        self.app = app
        self.backend = backend
        self.poll = poll
        self.check_every = check_every
        self.batch_size = batch_size
        self.rebuilder: subprocess.Popen[bytes] | None = None
        self._failed_at: float | None = None  # when a failure was last logged with its traceback

    def _log_failure(self) -> None:
        """Log a failed round: with its traceback at first and each minute, not several times a second."""
        now = time.monotonic()
        if self._failed_at is None or now - self._failed_at > 60:
            self._failed_at = now
            log.exception("indexing the search outbox failed; it is kept and retried")
        else:
            log.debug("indexing the search outbox failed again", exc_info=True)

    def run(self, stop: threading.Event) -> None:
        """Keep the index up to date until `stop` is set; finish the batch under way, then return."""
        log.info("search worker: keeping the index up to date (outbox looked at every %s s)", self.poll)
        next_check = 0.0  # the first round looks at the index, and says that the worker runs
        problem: str | None = None
        while not stop.is_set():
            with self.app.app_context():
                checking = time.monotonic() >= next_check
                if checking:
                    next_check = time.monotonic() + self.check_every
                failed = self._round(stop, checking, until=next_check)
                if checking or failed != problem:
                    self._beat(failed)
                problem = failed
                db.session.remove()
            stop.wait(self.poll)
        self.stop_rebuild()
        log.info("search worker: stopped")

    def _round(self, stop: threading.Event, checking: bool, *, until: float) -> str | None:
        """Look at the index if `checking`, then drain the outbox until `until`; return what failed."""
        try:
            if checking:
                self.check_index()
            if not self.rebuild_running():  # the rebuild holds the writer until it is done
                while not stop.is_set() and time.monotonic() < until:
                    taken = drain_batch(self.backend, self.batch_size)
                    if taken:
                        log.debug("indexed %d posts", len(set(taken)))
                    if len(taken) < self.batch_size:
                        break
        except (IndexBusy, IndexUnavailable) as busy:
            log.debug("search outbox left for later: %s", busy)  # a rebuild or a backup holds the writer
            return None
        except Exception as error:
            self._log_failure()
            db.session.rollback()
            lines = str(error).strip().splitlines()
            return f"{type(error).__name__}: {lines[0] if lines else 'no detail'}"[:500]
        self._failed_at = None
        return None

    def _beat(self, problem: str | None) -> None:
        """Record that this worker runs, and why its last round failed if it did (search.status reads it)."""
        try:
            beat = upsert_into(SearchWorker).values(id=1, seen_at=utcnow(), problem=problem)
            fresh = {"seen_at": beat.excluded.seen_at, "problem": beat.excluded.problem}
            db.session.execute(beat.on_conflict_do_update(index_elements=["id"], set_=fresh))
            db.session.commit()
        except Exception:
            log.debug("search worker: its heartbeat could not be written", exc_info=True)
            db.session.rollback()

    def check_index(self) -> None:
        """Rebuild the index in the background if the backend says it must be.

        Only the backend can tell: a damaged Whoosh index needs rebuilding, while a
        failed PostgreSQL query (the database was away) does not.
        """
        if self.rebuild_running():
            return
        if self.backend.prepare():
            if self.backend.missing():  # a new install: an empty index is nothing to warn about
                log.info("no search index yet: building it in the background")
            else:
                log.warning("the search index is damaged: rebuilding it in the background")
            self.start_rebuild()

    def rebuild_running(self) -> bool:
        """Return whether the rebuild this worker started is still running."""
        return self.rebuilder is not None and self.rebuilder.poll() is None

    def start_rebuild(self) -> None:
        """Rebuild the index in a child process (`flask search reindex`); drains wait until it is done."""
        if self.rebuild_running():
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

    def stop_rebuild(self) -> None:
        """Stop a rebuild under way (the next worker's first look starts it again)."""
        rebuilder = self.rebuilder
        if rebuilder is not None and rebuilder.poll() is None:
            rebuilder.terminate()
            rebuilder.wait()
