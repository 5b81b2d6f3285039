"""What every search backend provides, and the page of hits a post search returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import ColumnElement

from models.base import MAX_ID

from .query import SearchQuery

if TYPE_CHECKING:
    from .percolator import Analysis

# Best match ranks the newest this many matches of a query (every match, unless it has more), and its
# pages end with them (10 pages of 20); newest-first pages go all the way.  Ranking every match of a
# word in a quarter of all posts would cost each backend a read of them all, and the work grows with
# this number where matches are sparse; in a company's stream of posts the recent are the relevant.
MAX_RELEVANCE_DEPTH = 200

Progress = Callable[[int], None]  # called with how many posts were just indexed


class IndexUnavailable(Exception):
    """The index is missing or unreadable and must be rebuilt."""


class IndexBusy(Exception):
    """Another process holds the index's writer; try again later (nothing is lost)."""


@dataclass(frozen=True)
class PageRequest:
    """Which page of hits: newest first below `before_id`, or by relevance from `offset`."""

    limit: int = 20
    offset: int = 0
    before_id: int | None = None

    @classmethod
    def parse(cls, cursor: str | None, *, limit: int = 20) -> PageRequest:
        """Read a cursor that a previous page handed out; anything else means the first page."""
        raw = (cursor or "").strip()
        number = raw.lstrip("+")
        if not number.isdigit() or len(number) > 19:  # isdigit: ASCII and Unicode digits alike
            return cls(limit)
        value = int(number)
        if raw.startswith("+"):
            return cls(limit, offset=min(value, MAX_RELEVANCE_DEPTH))
        return cls(limit, before_id=value) if 0 < value <= MAX_ID else cls(limit)


@dataclass(frozen=True)
class Reader:
    """Who searches, as services.visibility describes them: what they may see of the posts.

    `visible` is the SQL condition on posts (the one predicate); `communities`
    the communities whose private posts it admits, for an index outside the
    database.  Results are loaded through the predicate again, so an index
    can narrow what is visible but never widen it.
    """

    visible: ColumnElement[bool]
    communities: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Hits:
    """One page of matching post ids, best (or newest) first, and the cursor of the next page."""

    ids: list[int]
    next_cursor: str | None = None
    notes: tuple[str, ...] = ()  # for the reader: what was left out of the query, or why results lack

    @classmethod
    def from_ids(cls, ids: list[int], page: PageRequest, *, newest_first: bool) -> Hits:
        """Trim ids fetched as limit + 1 to a page and say where the next one starts."""
        if len(ids) <= page.limit:
            return cls(ids)
        ids = ids[: page.limit]
        if newest_first:
            return cls(ids, str(ids[-1]))
        offset = page.offset + page.limit
        return cls(ids, f"+{offset}" if offset < MAX_RELEVANCE_DEPTH else None)


class Backend(Protocol):
    """A post index: bring entries up to date, search, rebuild from the database."""

    @property
    def rebuilding(self) -> bool:
        """Return whether a rebuild is under way, so results may be incomplete."""

    def prepare(self) -> bool:
        """Make the index usable at start-up; return whether it must be rebuilt."""

    def status(self) -> str | None:
        """Return what is wrong with the index, or None when it serves."""

    def missing(self) -> bool:
        """Return whether no index was ever built (a new install): nothing to warn about."""

    def writing(self) -> AbstractContextManager[Callable[[Sequence[int]], None]]:
        """Hold the right to write; yield `apply(post_ids)`, which re-reads and (re)indexes or removes.

        Raises IndexBusy if another process keeps the writer past the timeout.
        """

    def analysis(self) -> Analysis:
        """Return how this index analyses text: what saved searches are matched with (search.percolator)."""

    def search(self, query: SearchQuery, page: PageRequest, reader: Reader) -> Hits:
        """Return one page of matching post ids the reader may see; raise IndexUnavailable if unreadable."""

    def rebuild(self, progress: Progress | None = None, *, procs: int = 1) -> int:
        """Index every post from the database again (with `procs` processes if it can); return how many."""


def newest_first(query: SearchQuery, page: PageRequest) -> bool:
    """Return whether hits come newest first: asked for, paging by id, or nothing to rank by."""
    return query.newest_first or page.before_id is not None or not (query.words or query.phrases)
