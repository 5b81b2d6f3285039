"""Whoosh segments kept in post-id order, and the newest matches read from their ends.

Whoosh scores or sorts every match of a query in Python (about 2 µs each), so
a word in a quarter of a million posts costs half a second.  Here every
segment holds its posts in id order (docnum order is id order): a rebuild
writes each chunk in id order, a drain adds its posts sorted, and small
segments are merged (`segments_to_fold`) in id order *before* a drain's new
posts, not after them as Whoosh's own merge would.  Then the newest matches
of a segment are its last ones: `newest_matches` reads short windows back
from each segment's end, newest segment first, and stops once it has
enough.  A segment found out of id order is read whole, so results stay
right whatever wrote it.

Private posts are left out here too, outside the reader's communities: each
segment's private documents and their communities are read once with its ids,
and a match is checked against them as it is read.  (As a clause of every
query, the same rule cost a third of a search: every window's matcher opened
the postings of `private` and of each of the reader's communities.)
"""

from __future__ import annotations

import operator
import sys
from array import array
from bisect import bisect_left
from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass
from heapq import nlargest
from itertools import islice
from types import MappingProxyType
from typing import Any

from whoosh import query as q
from whoosh.codec.base import Segment
from whoosh.reading import SegmentReader
from whoosh.searching import Searcher

FIRST_WINDOW = 256  # docnums read back from a segment's end at first; each further window is 4 times larger
FOLD_FACTOR = 10  # this many segments of one size class (1-9, 10-99 ... documents) are merged into one
MAX_FOLD_DOCS = 50_000  # no larger merge: a drain holds the index's writer while it merges

Match = tuple[int, float]  # (post id, score)


@dataclass(frozen=True)
class SegmentIds:
    """The id column of one segment: docnum -> post id, read once (segments never change)."""

    values: Sequence[int]  # sortable column values, in docnum order
    field: Any  # the schema's NUMERIC `id` field, which converts column values <-> post ids
    ascending: bool  # docnum order is id order
    newest: int  # the largest post id (of deleted documents too); -1 in an empty segment
    # docnum -> community id of each private post (search.whoosh_schema's `audience` field)
    private: Mapping[int, int]

    @classmethod
    def read(cls, reader: SegmentReader) -> SegmentIds:
        """Read a segment's id column and its private documents in one go."""
        values = _fixed_width_column(reader, "id")
        ascending = all(map(operator.lt, values, islice(values, 1, None)))
        field = reader.schema["id"]
        top = (values[-1] if ascending else max(values)) if len(values) else None
        newest = -1 if top is None else field.from_column_value(top)
        return cls(values, field, ascending, newest, MappingProxyType(_private_documents(reader)))

    def post_id(self, docnum: int) -> int:
        """Return the post id of a docnum."""
        return self.field.from_column_value(self.values[docnum])

    def first_docnum_from(self, post_id: int | None) -> int:
        """Return the first docnum whose id is `post_id` or more (the segment ascends); None: the end."""
        if post_id is None:
            return len(self.values)
        return bisect_left(self.values, self.field.to_column_value(post_id))


def _private_documents(reader: SegmentReader) -> dict[int, int]:
    """Return docnum -> community id of the segment's private posts (audience "private c<id>")."""
    private: dict[int, int] = {}
    if "audience" not in reader.schema:
        return private
    for term in reader.expand_prefix("audience", "c"):
        community = int(term[1:])
        for docnum in reader.postings("audience", term).all_ids():
            private[docnum] = community
    return private


def _fixed_width_column(reader: SegmentReader, fieldname: str) -> Sequence[int]:
    column = reader.column_reader(fieldname, translate=False)
    try:  # Whoosh 2.7's numeric column is one run of big-endian numbers: read it at once, not per docnum
        if column._count != reader.doc_count_all():
            raise AttributeError("some documents have no value")
        values = array(column._typecode)
        values.frombytes(column._dbfile.get(column._basepos, column._count * column._fixedlen))
    except AttributeError:
        return list(column)
    if sys.byteorder == "little":
        values.byteswap()
    return values


@dataclass(frozen=True)
class Leaf:
    """One segment as a searcher sees it: the sub-searcher to match in, and its ids."""

    searcher: Searcher
    ids: SegmentIds


def _matches(
    query: q.Query, leaf: Leaf, context: Any, span: tuple[int, int], scored: bool, readable: Container[int]
) -> Iterator[Match]:
    """Yield (post id, score) of the matches in docnums [start, end) of a leaf that the reader may see.

    A private post is a match only if its community is `readable` (the reader's communities).
    """
    start, end = span
    private = leaf.ids.private
    matcher = query.matcher(leaf.searcher, context)
    if matcher.is_active():
        # Even at the first docnum: Whoosh 2.7's AndNot matcher starts on its first match without
        # checking it against the excluded query unless that query starts on the same document
        # ("apollo -wiki" found "apollo wiki" after "wiki page"); a skip checks it.
        matcher.skip_to(max(start, matcher.id()))
    while matcher.is_active():
        docnum = matcher.id()
        if docnum >= end:
            return
        if docnum not in private or private[docnum] in readable:
            yield leaf.ids.post_id(docnum), matcher.score() if scored else 0.0
        matcher.next()


def _newest_in_leaf(
    query: q.Query,
    leaf: Leaf,
    context: Any,
    want: int,
    bounds: tuple[int | None, int | None],
    scored: bool,
    readable: Container[int],
) -> list[Match]:
    ids = leaf.ids
    above, below = bounds
    if not ids.ascending:  # read it whole
        found = _matches(query, leaf, context, (0, len(ids.values)), scored, readable)
        inside = (m for m in found if (above is None or m[0] > above) and (below is None or m[0] < below))
        return nlargest(want, inside)
    first = ids.first_docnum_from(above + 1) if above is not None else 0
    end = ids.first_docnum_from(below)
    window = FIRST_WINDOW
    found_rev: list[Match] = []  # newest first
    while end > first and len(found_rev) < want:
        start = max(first, end - window)
        found_rev += reversed(list(_matches(query, leaf, context, (start, end), scored, readable)))
        end, window = start, window * 4
    return found_rev[:want]


def newest_matches(
    searcher: Searcher,
    leaves: list[Leaf],
    query: q.Query,
    want: int,
    *,
    above: int | None = None,
    below: int | None = None,
    scored: bool = False,
    communities: Container[int],
) -> list[Match]:
    """Return (post id, score) of the `want` newest matches with above < id < below, newest first.

    Private posts match only in `communities` (the reader's, services.visibility.search_reader).
    """
    context = searcher.context() if scored else searcher.boolean_context()
    found: list[Match] = []
    for leaf in sorted(leaves, key=lambda leaf: leaf.ids.newest, reverse=True):
        if len(found) >= want and leaf.ids.newest < found[-1][0]:
            break  # this segment and the ones after it hold only older posts
        if above is not None and leaf.ids.newest <= above:
            continue
        newest = _newest_in_leaf(query, leaf, context, want, (above, below), scored, communities)
        found = nlargest(want, found + newest)
    return found


# -- merging -----------------------------------------------------------------


def _size_class(segment: Segment) -> int:
    return len(str(segment.doc_count_all()))


def segments_to_fold(segments: Sequence[Segment]) -> list[Segment]:
    """Return the segments to merge into the one being written: a crowded size class and all smaller.

    A size class (1-9, 10-99, 100-999 ... documents) is crowded once it holds
    FOLD_FACTOR segments; merging it and every smaller segment makes one
    segment of the next class.  So each post is rewritten about once per
    class, no class holds more than FOLD_FACTOR segments for long, and no
    merge exceeds MAX_FOLD_DOCS.
    """
    chosen: list[Segment] = []
    for size_class in sorted({_size_class(s) for s in segments}):
        crowded = sum(1 for s in segments if _size_class(s) == size_class) >= FOLD_FACTOR
        upto = [s for s in segments if _size_class(s) <= size_class]
        if crowded and sum(s.doc_count_all() for s in upto) <= MAX_FOLD_DOCS:
            chosen = upto
    return chosen


def in_id_order(
    folded: list[tuple[SegmentReader, SegmentIds]], below: int | None
) -> list[SegmentReader] | None:
    """Order segments by id so that, copied one after another, ids ascend and stay below `below`.

    Return None where no order does (their id ranges overlap); the caller then
    writes their posts again, sorted, from the database.
    """
    ordered = sorted((pair for pair in folded if len(pair[1].values)), key=lambda pair: pair[1].post_id(0))
    previous = -1
    for _reader, ids in ordered:
        if not ids.ascending or ids.post_id(0) <= previous:
            return None
        previous = ids.newest
    if below is not None and previous >= below:
        return None
    return [reader for reader, _ids in ordered]


def live_post_ids(reader: SegmentReader, ids: SegmentIds) -> list[int]:
    """Return the post ids of a segment's documents that are not deleted."""
    return [ids.post_id(docnum) for docnum in reader.all_doc_ids()]
