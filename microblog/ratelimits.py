"""Rate-limit counters that cost no round trip on most requests: storage `microblog+memory://` / `+redis://`.

Flask-Limiter counts fixed windows (its default strategy).  This storage keeps
each window's count in the process.  Without Redis (one process) that count is
the whole truth.  With Redis (several processes), the process adds what it
counted to the installation's count in Redis (INCRBY, one round trip, which
also answers the total) once a key has gathered its batch of hits or a second
has passed; in between, it answers from the total it last heard plus its own.

A key's batch is a fiftieth of its limit, at least one: a limit of ten log-ins a
minute is counted in Redis at every hit, exactly; an API token's 300 per five
minutes at every sixth, so two processes together may let through up to ten
more than the limit in a window.  While Redis is away, each process goes on
counting on its own, and adds its count once Redis is back.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from limits.storage import Storage

if TYPE_CHECKING:
    import redis

log = logging.getLogger(__name__)

SYNC_EVERY = 1.0  # seconds: the longest a process answers without hearing the installation's count
TIMEOUT = 0.25  # seconds a round trip to Redis may take before the process counts on its own
BATCH_SHARE = 50  # a key is counted in Redis every 1/50 of its limit
_SWEEP_EVERY = 1000  # hits between sweeps of ended windows out of memory


@dataclass
class _Window:
    ends: float  # when the window ends (time.time())
    heard: int = 0  # the installation's count when last heard from Redis (without Redis: the count)
    pending: int = 0  # this process's hits not yet added in Redis
    sending: int = 0  # hits on their way to Redis
    heard_at: float = 0.0  # time.monotonic() of the last round trip


def _batch(key: str) -> int:
    """Return how many hits of a key are gathered per round trip, from the limit its key names."""
    parts = key.split("/")
    try:
        amount = int(parts[-3])  # limits' keys end with amount / multiples / granularity
    except (IndexError, ValueError):
        return 1
    return max(1, amount // BATCH_SHARE)


def _client(url: str) -> redis.Redis:
    """Return a Redis client for the counts: a Redis that stops answering costs a request 0.25 s, no retries.

    Imported here, not with the module: gunicorn's configuration loads microblog's log formatter
    before gevent patches ssl, which redis imports.
    """
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
    )


class CountingStorage(Storage):
    """Fixed-window counts in the process, added to Redis's in batches (or alone, without Redis)."""

    STORAGE_SCHEME = ["microblog+memory", "microblog+redis", "microblog+rediss"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        url = (uri or "microblog+memory://").removeprefix("microblog+")
        self.redis = None if url.startswith("memory:") else _client(url)
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()  # held for counting only, never over a round trip
        self._hits = 0
        self._failing = False
        self._quiet_until = 0.0  # after a failed round trip, no other for a second: each process counts alone

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Return the errors a round trip may raise (Storage's interface)."""
        import redis

        return redis.RedisError

    def _window(self, key: str, now: float, lasts: float) -> _Window:
        """Return a key's current window, a new one when it has none or its window ended (hold the lock)."""
        window = self._windows.get(key)
        if window is None or window.ends <= now:
            window = self._windows[key] = _Window(ends=now + lasts)
        return window

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` hits on a key whose window lasts `expiry` seconds; return the window's count."""
        now = time.time()
        batch = _batch(key)
        with self._lock:
            self._hits += 1
            if self._hits % _SWEEP_EVERY == 0:
                self._windows = {k: w for k, w in self._windows.items() if w.ends > now}
            window = self._window(key, now, expiry)
            window.pending += amount
            if self.redis is None:
                window.heard, window.pending = window.heard + window.pending, 0
                return window.heard
            # A limit counted at every hit (a batch of one: log-ins) takes Redis's answer at every hit,
            # each hit its own; a batched one sends what gathered, one round trip at a time.
            due = time.monotonic() >= self._quiet_until and (
                batch == 1
                or (
                    not window.sending
                    and (window.pending >= batch or time.monotonic() - window.heard_at >= SYNC_EVERY)
                )
            )
            if not due:
                return window.heard + window.sending + window.pending
            send = amount if batch == 1 else window.pending
            window.pending -= send
            window.sending += send
        return self._hear(key, window, send, expiry)

    def get(self, key: str) -> int:
        """Return a window's count: the installation's as heard within a second, plus this process's."""
        now = time.time()
        with self._lock:
            window = self._windows.get(key)
            if window is not None and window.ends <= now:
                window = None
                del self._windows[key]
            if self.redis is None:
                return window.heard if window is not None else 0
            window = self._window(key, now, SYNC_EVERY)
            quiet = time.monotonic() < max(self._quiet_until, window.heard_at + SYNC_EVERY)
            if window.sending or quiet:
                return window.heard + window.sending + window.pending
            window.heard_at = time.monotonic()  # one look a second, whoever else asks meanwhile
        return self._hear(key, window, 0, None)

    def _hear(self, key: str, window: _Window, send: int, expiry: float | None) -> int:
        """Add `send` hits to Redis's count, hear the total and the window's end there; return the count."""
        import redis

        assert self.redis is not None
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.incrby(key, send)
                if expiry is not None:
                    pipe.expire(key, max(1, int(expiry)), nx=True)
                pipe.pttl(key)
                answers = pipe.execute()
        except redis.RedisError:
            if not self._failing:
                log.warning("rate limits: Redis does not answer; each process counts on its own meanwhile")
            self._failing = True
            with self._lock:  # counted here, sent again with the next batch
                self._quiet_until = time.monotonic() + SYNC_EVERY
                window.sending -= send
                window.pending += send
                window.heard_at = time.monotonic()  # try again in a second, not at every hit
                return window.heard + window.sending + window.pending
        self._failing = False
        total, ttl = answers[0], answers[-1]
        if expiry is None and total == 0 and ttl is not None and ttl < 0:
            self.redis.delete(key)  # only read: leave no key without an end behind
        with self._lock:
            window.sending -= send
            if ttl is not None and ttl > 0:
                window.ends = time.time() + ttl / 1000
            window.heard, window.heard_at = total, time.monotonic()
            if send and _batch(key) == 1:
                return total  # Redis's own count, this hit's included: exact across processes
            return total + window.sending + window.pending

    def get_expiry(self, key: str) -> float:
        """Return when a key's window ends (now, for a key with no window)."""
        window = self._windows.get(key)
        return window.ends if window is not None else time.time()

    def check(self) -> bool:
        """Return whether the storage answers."""
        if self.redis is None:
            return True
        try:
            return bool(self.redis.ping())
        except redis.RedisError:
            return False

    def reset(self) -> int | None:
        """Forget every window this process counts (Redis's keys expire with their windows)."""
        with self._lock:
            count = len(self._windows)
            self._windows.clear()
        return count

    def clear(self, key: str) -> None:
        """Forget one key's window, here and in Redis."""
        with self._lock:
            self._windows.pop(key, None)
        if self.redis is not None:
            self.redis.delete(key)
