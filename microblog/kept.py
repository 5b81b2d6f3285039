"""What a process keeps between requests: at most so many entries, per application.

Kept statuses (microblog.entities) and kept home timelines (services.kept_homes)
hold values that a later read checks or keys by everything they depend on;
this is only where they are held, and how many.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from flask import current_app

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class Kept(Generic[K, V]):
    """Values by key, at most `limit`: keeping one more lets the least recently kept go."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._values: dict[K, V] = {}
        self._lock = threading.Lock()  # werkzeug's threads (make run) keep at the same time

    def get(self, key: K) -> V | None:
        return self._values.get(key)

    def keep(self, key: K, value: V) -> V:
        with self._lock:
            self._values.pop(key, None)
            while len(self._values) >= self.limit:
                del self._values[next(iter(self._values))]
            self._values[key] = value
        return value

    def __len__(self) -> int:
        return len(self._values)


def in_app(name: str, make: Callable[[], T]) -> T:
    """Return what the current application holds under this name, made by `make` on first use."""
    found = current_app.extensions.get(name)
    if found is None:
        found = current_app.extensions.setdefault(name, make())
    return found


def kept_in_app(name: str, limit: int) -> Kept:
    """Return the current application's Kept of this name, made (holding at most `limit`) on first use."""
    return in_app(name, lambda: Kept(limit))
