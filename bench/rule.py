"""The visibility rule, on or off: what services.visibility's predicate costs, measured in one run.

With the rule off, `post_is_visible` is a no-op (`true()`) wherever a feed,
thread or post lookup builds its statement, a search reader admits every post,
and the Whoosh search reads every community's private posts as its own.  Statements are
built once per mode and kept (services.timelines caches them for the same
reason: building one costs more than SQLite takes to run it), so a benchmark
can switch per call and time both modes side by side on the same sample.
Only for benchmarks: the rule is never off in the application.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import true

import search
from microblog.services import timelines, visibility
from search import whoosh_backend

STATEMENTS = ("_feed_statement", "_thread_statement", "_posts_statement")


def _no_rule(viewer: Any, post: Any = None) -> Any:
    return true()


class RuleSwitch:
    """Install once; then `off` chooses, per call, the real predicate (False) or a no-op (True)."""

    def __init__(self) -> None:
        self.off = False
        self._built: dict[tuple[bool, str, tuple], Any] = {}
        for name in STATEMENTS:
            builder = getattr(timelines, name)
            builder.cache_clear()
            setattr(timelines, name, self._cached(name, builder.__wrapped__))
        original = whoosh_backend.newest_matches

        def newest_matches(*args: Any, communities: Any, **kwargs: Any) -> Any:
            return original(*args, communities=_Everything() if self.off else communities, **kwargs)

        whoosh_backend.newest_matches = newest_matches

    def _cached(self, name: str, build: Callable[..., Any]) -> Callable[..., Any]:
        def statement(*key: Any) -> Any:
            cache_key = (self.off, name, key)
            if cache_key not in self._built:
                with self._predicate():
                    self._built[cache_key] = build(*key)
            return self._built[cache_key]

        return statement

    @contextmanager
    def _predicate(self) -> Iterator[None]:
        saved = visibility.post_is_visible, timelines.post_is_visible
        if self.off:
            visibility.post_is_visible = timelines.post_is_visible = _no_rule
        try:
            yield
        finally:
            visibility.post_is_visible, timelines.post_is_visible = saved

    def reader(self, viewer: Any) -> search.Reader:
        """Return the search reader of this viewer (with the rule off: one who may see every post)."""
        if self.off:
            return search.Reader(true(), frozenset())
        return visibility.search_reader(viewer)


class _Everything:
    """A container that holds every community."""

    def __contains__(self, item: object) -> bool:
        return True


def overhead(with_rule: float, without: float) -> str:
    """Return what the rule adds, in percent of the time without it."""
    return f"{(with_rule / without - 1) * 100:+.0f}%"
