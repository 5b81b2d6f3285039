"""The Whoosh index's segments stay in post-id order, which its newest-first reading relies on."""

from __future__ import annotations

import pytest
from sqlalchemy import delete
from whoosh.reading import SegmentReader

import search
from microblog.database import db
from microblog.services import posts
from models import SearchOutbox
from search import PageRequest, parse_query, whoosh_segments
from search.documents import load_documents
from search.whoosh_schema import document_fields
from search.whoosh_segments import SegmentIds

from .factories import anyone, make_post, make_user


def segments() -> list[SegmentIds]:
    """Return the ids of every segment of the index, as a freshly opened searcher sees them."""
    backend = search.backend()
    searcher = backend._checkout()
    try:
        return [
            SegmentIds.read(sub.reader())
            for sub, _offset in searcher.leaf_searchers()
            if isinstance(sub.reader(), SegmentReader)
        ]
    finally:
        backend._checkin(searcher)


def newest_first_pages(raw: str, limit: int) -> list[int]:
    """Page through a newest-first search to its end; return every id in page order."""
    found: list[int] = []
    cursor = None
    while True:
        hits = search.search_posts(
            parse_query(raw, newest_first=True), PageRequest.parse(cursor, limit=limit), reader=anyone()
        )
        found += hits.ids
        if hits.next_cursor is None:
            return found
        cursor = hits.next_cursor


def hold_back(post_id: int) -> None:
    """Take a post's outbox row away, as if its transaction committed after later posts were indexed."""
    db.session.execute(delete(SearchOutbox).where(SearchOutbox.post_id == post_id))
    db.session.commit()


def release(post_id: int) -> None:
    """Let a held-back post reach the index now."""
    db.session.add(SearchOutbox(post_id=post_id))
    db.session.commit()


def test_segments_stay_in_id_order_through_folds_deletes_and_late_commits(app, monkeypatch):
    monkeypatch.setattr(whoosh_segments, "FOLD_FACTOR", 3)  # fold often, so that every path runs
    kari = make_user("kari")
    live: list[int] = []
    for n in range(60):
        made = make_post(kari, f"Apollo status {n}").id
        live.append(made)
        if n % 9 == 4:  # three posts, the middle one committing last: id ranges of segments overlap
            middle = make_post(kari, f"Apollo status {n} late").id
            last = make_post(kari, f"Apollo status {n} after").id
            live += [middle, last]
            hold_back(middle)
            search.drain()
            release(middle)
        if n % 7 == 6:
            gone = live.pop(len(live) // 2)
            posts.delete_post(kari, gone)
        search.drain()
        assert all(ids.ascending for ids in segments()), f"a segment out of id order after post {n}"
    assert len(segments()) <= 3 * whoosh_segments.FOLD_FACTOR  # folding keeps the count down
    assert newest_first_pages("apollo", limit=7) == sorted(live, reverse=True)
    assert sorted(
        search.search_posts(parse_query("apollo"), PageRequest(limit=100), reader=anyone()).ids
    ) == sorted(live)


def test_a_segment_out_of_id_order_is_still_searched_right(app):
    kari = make_user("kari")
    made = [make_post(kari, f"Apollo note {n}").id for n in range(12)]
    db.session.execute(delete(SearchOutbox))
    db.session.commit()
    backend = search.backend()
    backend._create_if_missing()
    writer = backend._open().writer()  # as Whoosh's own merges would write it: newest first
    for doc in reversed(load_documents(made)):
        writer.add_document(**document_fields(doc))
    writer.commit(merge=False)
    assert [ids.ascending for ids in segments()] == [False]
    assert newest_first_pages("apollo", limit=5) == sorted(made, reverse=True)
    assert sorted(search.search_posts(parse_query("apollo"), reader=anyone()).ids) == sorted(made)


def test_a_drain_with_nothing_to_do_leaves_the_index_alone(app):
    kari = make_user("kari")
    make_post(kari, "Apollo")
    search.drain()
    generation = search.backend()._open().latest_generation()
    assert search.drain() == 0
    assert search.backend()._open().latest_generation() == generation  # no writer, no commit


def test_apply_runs_once_per_writer(app):
    kari = make_user("kari")
    made = [make_post(kari, f"Apollo {n}").id for n in range(3)]
    with search.backend().writing() as apply:
        apply(made)
        with pytest.raises(RuntimeError):
            apply(made)  # a second batch could come before the first in id order


def test_a_refresh_reopens_only_the_segments_that_changed(app):
    kari = make_user("kari")
    made = []
    for n in range(4):  # one segment each (too few to fold)
        made.append(make_post(kari, f"Apollo {n}").id)
        search.drain()
    backend = search.backend()

    def open_segments() -> dict[str, object]:
        searcher = backend._checkout()
        try:
            return {leaf.segment().segment_id(): leaf for leaf, _ in searcher.reader().leaf_readers()}
        finally:
            backend._checkin(searcher)

    before = open_segments()
    posts.delete_post(kari, made[0])  # a deletion in the first segment
    search.drain()
    newer = make_post(kari, "Apollo 4").id  # and a new segment
    search.drain()
    after = open_segments()
    assert len(after) == 5
    assert sum(after[key] is before.get(key) for key in after) == 3  # the three untouched segments
    assert newest_first_pages("apollo", limit=10) == [newer, made[3], made[2], made[1]]
