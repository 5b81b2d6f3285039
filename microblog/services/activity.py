"""Reading activity: that a person used microblog on a day, and nothing more (models.daily_activity).

"Weekly active people" on the dashboard counts the days recorded here.  It is
recorded cheaply: each process remembers which (person, local day) it has
already written, so a person costs at most one INSERT a day per process, and
never one per page view.  The INSERT runs on a connection and transaction of
its own (INSERT ... ON CONFLICT: the day's row may be there already, from
a post or another process), never inside the request's: a failing write is
logged and tried again by a request of a minute later (a day without
its row would not count the person), and it can neither commit nor roll
back what the request is doing.  A request only names its person (`record_after_request`);
the write happens once the request has given its database connection back,
so a burst of first-of-the-day requests never holds one connection each
while waiting for a second (which could take the whole pool).  Only the
person and the day are kept: no page, no time of day.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from microblog.database import WRITE_WAIT_MS, db
from models import utcnow
from models.daily_activity import READ

from .rollups import set_flags

log = logging.getLogger(__name__)

_EXTENSION = "microblog.activity"
_VISITOR = "microblog.activity.visitor"  # in a request's WSGI environ: the person to record after it
RETRY_AFTER = 60.0  # seconds before a person's visit whose write failed is written again


class Recorded:
    """The (person, day) pairs this process has written, for the current local day only.

    Yesterday's pairs are dropped as the day turns, so the set holds at most
    one entry per person.  A lock keeps two threads of one process from both
    writing the same pair (a duplicate would be harmless, only wasted).  A
    pair whose write failed is given back, to be claimed again no sooner than
    RETRY_AFTER seconds later: a busy database gets one more try a minute.
    """

    def __init__(self) -> None:
        self._day: date | None = None
        self._people: set[int] = set()
        self._retry_at: dict[int, float] = {}  # people given back today: when they may be claimed again
        self._lock = threading.Lock()

    def claim(self, user_id: int, day: date) -> bool:
        """Return True the first time this process sees the person on this day, else False."""
        with self._lock:
            if day != self._day:
                if self._day is not None and day < self._day:
                    return False  # a clock stepping back: the later day is already being recorded
                self._day, self._people, self._retry_at = day, set(), {}
            if user_id in self._people or self._waits(user_id):
                return False
            self._people.add(user_id)
            self._retry_at.pop(user_id, None)
            return True

    def give_back(self, user_id: int, day: date) -> None:
        """Forget a claim whose write failed: the person is claimed again after RETRY_AFTER seconds."""
        with self._lock:
            if day == self._day:
                self._people.discard(user_id)
                self._retry_at[user_id] = time.monotonic() + RETRY_AFTER

    def has(self, user_id: int, day: date) -> bool:
        """Return whether this process wrote the person's day, or waits to try again (claims nothing)."""
        return day == self._day and (user_id in self._people or self._waits(user_id))

    def _waits(self, user_id: int) -> bool:
        return self._retry_at.get(user_id, 0.0) > time.monotonic()


class RecordsVisits:
    """WSGI middleware: write the visit a request named, after the request let its database connection go.

    Flask's request has ended when the wrapped app returns (its app context popped, its
    session removed), and a streamed body (server-sent events) has not started: the day
    is written at the start of a visit, on a connection of its own.
    """

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = self.wsgi_app(environ, start_response)
        user_id = environ.pop(_VISITOR, None)
        if user_id is not None:
            with self.app.app_context():
                record_visit(user_id)
        return body


def init_app(app: Flask) -> None:
    """Give the app (this process) its memory of the days recorded; write visits after requests."""
    app.extensions[_EXTENSION] = Recorded()
    app.wsgi_app = RecordsVisits(app, app.wsgi_app)  # type: ignore[method-assign]


def site_day(moment: datetime | None = None) -> date:
    """Return the site's local day (MICROBLOG_TIMEZONE) of a moment, by default now."""
    return (moment or utcnow()).astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


# How long a visit's write waits for SQLite's write lock (ms): a visit not written is logged, and
# tried again after RETRY_AFTER, as any failed write; other writes wait BUSY_TIMEOUT_MS.
VISIT_WAIT_MS = 200


def record_after_request(user_id: int) -> None:
    """Note that the request's person used microblog today: written once the request is over, if new."""
    if not current_app.extensions[_EXTENSION].has(user_id, site_day()):
        request.environ[_VISITOR] = user_id


def record_visit(user_id: int, *, now: datetime | None = None) -> bool:
    """Record that the person used microblog today, once a day per process; return whether it wrote.

    The first request of a person on a local day writes one row on its own
    connection (call it holding none: `record_after_request` does); every
    later request of that day in this process writes nothing.  A write that
    fails (SQLite's write lock busy past VISIT_WAIT_MS, under a burst of
    posts) is logged, and a request of the person's at least RETRY_AFTER
    seconds later tries again: a database in trouble gets little extra load
    from page views.  The request goes on either way.
    """
    day = site_day(now)
    recorded: Recorded = current_app.extensions[_EXTENSION]
    if not recorded.claim(user_id, day):
        return False
    try:
        with db.engine.begin() as connection:  # its own transaction, committed here
            connection.execution_options(**{WRITE_WAIT_MS: VISIT_WAIT_MS})
            set_flags(connection, [{"user_id": user_id, "day": day, "community_id": 0, "did": READ}])
    except SQLAlchemyError as error:
        recorded.give_back(user_id, day)
        log.warning(
            "could not record today's activity of user %s, tried again in %.0f s: %s",
            user_id,
            RETRY_AFTER,
            getattr(error, "orig", None) or error,
        )
        return False
    return True
