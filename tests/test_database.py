"""microblog.database: the one keyset batch iterator, reading rows without the ORM, and stored times."""

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text, update

from microblog.database import batches, db, read_rows
from models import Post, mentions

from .factories import make_post


def test_batches_walk_every_row_in_id_order_a_batch_at_a_time(alice, bob, count_queries):
    posts = [make_post(alice if i % 2 else bob, f"post {i} @alice") for i in range(7)]
    ids = [p.id for p in posts]
    with count_queries() as counter:
        walked = [[row.id for row in rows] for rows in batches(select(Post.id, Post.text), Post.id, 3)]
    assert walked == [ids[0:3], ids[3:6], ids[6:7]]
    assert counter.count == 3  # a short batch is the last: no query to find nothing


def test_batches_start_after_an_id_and_keep_the_statement_s_filter(alice, bob):
    posts = [make_post(alice if i % 2 else bob, f"post {i}") for i in range(6)]
    statement = select(Post.id).where(Post.author_id == alice.id).order_by(Post.id.desc())
    walked = [row.id for rows in batches(statement, Post.id, 2, after=posts[1].id) for row in rows]
    assert walked == [p.id for p in posts[2:] if p.author_id == alice.id]


def test_batches_page_by_a_table_column_too(alice, bob):
    first, second = make_post(bob, "hi @alice"), make_post(bob, "again @alice")
    statement = select(mentions.c.post_id).where(mentions.c.user_id == alice.id)
    assert [[row.post_id for row in rows] for rows in batches(statement, mentions.c.post_id, 1)] == [
        [first.id],
        [second.id],
    ]
    assert list(batches(select(Post.id).where(Post.id < 0), Post.id, 5)) == []


def test_read_rows_sees_what_the_transaction_has_not_flushed_yet(alice):
    post = make_post(alice, "before")
    post.text = "after, not flushed"
    assert [tuple(r) for r in read_rows(select(Post.text).where(Post.id == post.id), {})] == [
        ("after, not flushed",)
    ]


def test_times_come_back_aware_whatever_their_stored_form(alice):
    post = make_post(alice, "when")
    written = datetime(2026, 12, 6, 9, 30, 15, 250000, tzinfo=timezone(timedelta(hours=1)))
    db.session.execute(update(Post).where(Post.id == post.id).values(created_at=written))
    db.session.commit()
    db.session.expire_all()
    stmt = select(Post.created_at).where(Post.id == post.id)
    for read in (db.session.get_one(Post, post.id).created_at, read_rows(stmt, {})[0][0]):
        assert read.utcoffset() is not None and read == written
    if db.engine.dialect.name == "sqlite":  # text as stored here (naive UTC), and as another writer might
        for stored in (
            "2026-12-06 08:30:15.250000",
            "2026-12-06 08:30:15.25",
            "2026-12-06T09:30:15.25+01:00",
        ):
            db.session.execute(
                text("UPDATE posts SET created_at = :t WHERE id = :id"), {"t": stored, "id": post.id}
            )
            read = read_rows(stmt, {})[0][0]
            assert read.utcoffset() is not None and read == written and read.astimezone(UTC).hour == 8
