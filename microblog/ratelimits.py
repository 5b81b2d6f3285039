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

import redis
from limits.storage import Storage

log = logging.getLogger(__name__)

SYNC_EVERY = 1.0  # seconds: the longest a process answers without hearing the installation's count
BATCH_SHARE = 50  # a key is counted in Redis every 1/50 of its limit
_SWEEP_EVERY = 1000  # hits between sweeps of ended windows out of memory


@dataclass
class _Window:
    ends: float  # when the window ends (time.time())
    heard: int = 0  # the installation's count when last heard from Redis (without Redis: the count)
    pending: int = 0  # this process's hits not yet added in Redis
    heard_at: float = 0.0  # time.monotonic() of the last round trip


def _batch(key: str) -> int:
    """Return how many hits of a key are gathered per round trip, from the limit its key names."""
    parts = key.split("/")
    try:
        amount = int(parts[-3])  # limits' keys end with amount / multiples / granularity
    except (IndexError, ValueError):
        return 1
    return max(1, amount // BATCH_SHARE)


class CountingStorage(Storage):
    """Fixed-window counts in the process, added to Redis's in batches (or alone, without Redis)."""

    STORAGE_SCHEME = ["microblog+memory", "microblog+redis", "microblog+rediss"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        url = (uri or "microblog+memory://").removeprefix("microblog+")
        self.redis = None if url.startswith("memory:") else redis.Redis.from_url(url)
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._failing = False

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """Return the errors a round trip may raise (Storage's interface)."""
        return redis.RedisError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` hits on a key whose window lasts `expiry` seconds; return the window's count."""
        now = time.time()
        with self._lock:
            self._hits += 1
            if self._hits % _SWEEP_EVERY == 0:
                self._windows = {k: w for k, w in self._windows.items() if w.ends > now}
            window = self._windows.get(key)
            if window is None or window.ends <= now:
                window = self._windows[key] = _Window(ends=now + expiry)
            window.pending += amount
            if self.redis is None:
                window.heard, window.pending = window.heard + window.pending, 0
            elif window.pending >= _batch(key) or time.monotonic() - window.heard_at >= SYNC_EVERY:
                self._hear(key, window, expiry)
            return window.heard + window.pending

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
            if window is None:
                window = self._windows[key] = _Window(ends=now + SYNC_EVERY)
            if time.monotonic() - window.heard_at >= SYNC_EVERY:
                self._hear(key, window, None)
            return window.heard + window.pending

    def _hear(self, key: str, window: _Window, expiry: float | None) -> None:
        """Add this process's hits to Redis's count and hear the total and the window's end there."""
        assert self.redis is not None
        try:
            with self.redis.pipeline(transaction=False) as pipe:
                pipe.incrby(key, window.pending)
                if expiry is not None:
                    pipe.expire(key, max(1, int(expiry)), nx=True)
                pipe.pttl(key)
                answers = pipe.execute()
        except redis.RedisError:
            if not self._failing:
                log.warning("rate limits: Redis does not answer; each process counts on its own meanwhile")
            self._failing = True
            window.heard_at = time.monotonic()  # try again in a second, not at every hit
            return
        self._failing = False
        total, ttl = answers[0], answers[-1]
        if ttl is not None and ttl > 0:
            window.ends = time.time() + ttl / 1000
        elif expiry is None and total == 0:
            self.redis.delete(key)  # only read: leave no key without an end behind
        window.heard, window.pending, window.heard_at = total, 0, time.monotonic()

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
