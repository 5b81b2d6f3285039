"""microblog.database: the one keyset batch iterator."""

from sqlalchemy import select

from microblog.database import batches
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
