"""Matching new posts against the saved searches, in the serving processes (the percolation outbox).

`search.index_post(new_post=True)` queues a new post here too, in its
transaction.  Each serving process runs a light background loop, woken after
its own commits and looking every POLL_SECONDS for the rows of others (the
command line, a process that died right after its commit): it takes a batch
of rows, matches their posts against every saved search (search.percolator,
in memory) and hands the matches on (services.signals.deliver records and
announces them).  It never touches the index, and it stays in the serving
processes because the announcements must reach their clients: without Redis
only a client's own process can reach it; with Redis any process reaches all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from flask import Flask
from sqlalchemy import delete, exists, select

from microblog.database import db, drain_all
from models import PercolationOutbox

log = logging.getLogger(__name__)

# How often a serving process looks for new posts queued by other processes (s).
POLL_SECONDS = 1.0

# Called with the ids of new posts in the drain's transaction: matches and delivers.
Percolate = Callable[[Sequence[int]], None]


def waiting() -> bool:
    """Return whether any new post waits to be matched: a read, as an idle look must not write."""
    found = db.session.scalar(select(exists(select(PercolationOutbox.id))))
    db.session.rollback()
    return bool(found)


def drain_batch(percolate: Percolate, batch_size: int = 500) -> list[int]:
    """Match one batch of queued new posts; return each of its rows' post id (none: nothing was queued).

    The statement that takes the rows deletes them (on PostgreSQL skipping rows
    that another process is taking), so no two processes match the same row;
    matching runs in the same transaction, so if it fails the rows come back.
    """
    batch = (
        select(PercolationOutbox.id)
        .order_by(PercolationOutbox.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    taken = list(
        db.session.scalars(
            delete(PercolationOutbox)
            .where(PercolationOutbox.id.in_(batch))
            .returning(PercolationOutbox.post_id)
        )
    )
    if taken:
        percolate(sorted(set(taken)))
    db.session.commit()
    return taken


def drain(percolate: Percolate, batch_size: int = 500) -> set[int]:
    """Match every queued new post; return their ids."""
    return drain_all(lambda: drain_batch(percolate, batch_size), batch_size)


class Percolation:
    """This serving process's background matching: one thread (or greenlet under gevent)."""

    def __init__(self, app: Flask, percolate: Percolate, *, interval: float = POLL_SECONDS) -> None:
        self.app = app
        self.percolate = percolate
        self.interval = interval
        self._wakeup = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """Match soon (called after a commit that queued a new post)."""
        self._wakeup.set()

    def start(self) -> None:
        """Start the background loop once."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="search-percolation", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wakeup.clear()  # before draining: a post committed meanwhile wakes the next round
            with self.app.app_context():
                try:
                    if waiting():  # every serving process looks each second
                        drain(self.percolate)
                except Exception:
                    log.exception("matching new posts against the saved searches failed; they are retried")
                    db.session.rollback()
                finally:
                    db.session.remove()
            self._wakeup.wait(self.interval)
