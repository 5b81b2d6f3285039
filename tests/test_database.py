"""microblog.database: keyset batches, rows without the ORM, stored times, and SQLite's write lock."""

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.exc import DBAPIError

import models
from microblog.database import batches, db, generic_plan, read_rows
from models import Post, mentions

from .conftest import ROOT
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


_WAITING_WRITER = """
from gevent import monkey

monkey.patch_all()

import sqlite3
import sys

import gevent
from sqlalchemy import create_engine, text

import microblog.database  # noqa: F401  (its engine events)

path = sys.argv[1]
engine = create_engine(f"sqlite:///{path}")
with engine.begin() as connection:
    connection.execute(text("CREATE TABLE t (x INTEGER)"))
holder = sqlite3.connect(path, isolation_level=None)
holder.execute("BEGIN IMMEDIATE")  # the write lock, held by this process
ticks = []


def hold_then_release():
    for _ in range(40):
        ticks.append(1)
        gevent.sleep(0.005)
    holder.execute("INSERT INTO t VALUES (1)")
    holder.execute("COMMIT")


def write():
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (2)"))
    print(len(ticks), flush=True)


gevent.joinall([gevent.spawn(hold_then_release), gevent.spawn(write)], raise_error=True)
with engine.connect() as connection:
    print(sorted(connection.execute(text("SELECT x FROM t")).scalars()))
"""


def test_a_write_waiting_for_sqlite_s_lock_lets_the_rest_of_its_gevent_process_run(tmp_path):
    # Under gevent, SQLite's own wait would sleep the whole process, and so the greenlet that holds
    # the lock: the write would fail with "database is locked" after 5 s, the holder never resumed.
    done = subprocess.run(
        [sys.executable, "-c", _WAITING_WRITER, str(tmp_path / "locked.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    waited_for, rows = done.stdout.splitlines()
    assert int(waited_for) == 40  # the write went through once the holder, of its own process, let go
    assert rows == "[1, 2]"


def test_a_write_that_gets_no_lock_in_time_fails_whole_and_the_connection_waits_again_after(tmp_path):
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from microblog.database import BUSY_TIMEOUT_MS, WRITE_WAIT_MS

    path = tmp_path / "locked.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with engine.connect() as connection:
            connection.execution_options(**{WRITE_WAIT_MS: 50})
            try:
                with connection.begin():
                    with connection.begin_nested():  # a SAVEPOINT first: its RELEASE must commit nothing
                        connection.execute(text("INSERT INTO t VALUES (1)"))
            except OperationalError as error:
                assert "locked" in str(error)
            else:
                raise AssertionError("the write went through while another connection held the lock")
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
    finally:
        holder.execute("ROLLBACK")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()


def _prepared(connection) -> set[str]:
    """Return the statements prepared on a PostgreSQL connection's session, as the server knows them."""
    rows = connection.exec_driver_sql("SELECT statement FROM pg_prepared_statements").all()
    return {statement for (statement,) in rows}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_transaction_that_only_read_keeps_postgresql_s_prepared_statements(app, alice):
    """psycopg prepares a statement run five times; ending reads with ROLLBACK made it forget them all."""
    lookup = select(Post.id).where(Post.author_id == bindparam("author")).limit(1)
    with db.engine.connect() as conn:
        for _ in range(6):
            conn.execute(lookup, {"author": alice.id}).all()
            conn.rollback()  # as every request that writes nothing ends
        assert any("FROM posts" in s for s in _prepared(conn))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_transaction_that_wrote_still_rolls_back(app, alice):
    with db.engine.connect() as conn:
        conn.execute(select(Post.id)).all()
        conn.execute(update(models.User).where(models.User.id == alice.id).values(display_name="Changed"))
        conn.rollback()
        assert conn.scalar(select(models.User.display_name).where(models.User.id == alice.id)) != "Changed"
        conn.rollback()
        # A write inside a WITH: the statement is no SELECT, and rolls back.
        conn.execute(
            text("WITH x AS (UPDATE users SET display_name = 'Changed' RETURNING id) SELECT * FROM x")
        )
        conn.rollback()
        assert conn.scalar(select(models.User.display_name).where(models.User.id == alice.id)) != "Changed"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_failed_read_rolls_back_and_the_connection_serves_again(app):
    with db.engine.connect() as conn:
        with pytest.raises(DBAPIError):
            conn.execute(text("SELECT 1 / 0")).all()
        conn.rollback()
        assert conn.scalar(text("SELECT 2")) == 2


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_generic_plan_leaves_the_plan_mode_as_it_found_it(app):
    db.session.execute(text("SET plan_cache_mode = force_custom_plan"))
    with generic_plan():
        assert db.session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "force_generic_plan"
    assert db.session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "force_custom_plan"
    db.session.execute(text("RESET plan_cache_mode"))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_session_whose_connection_was_lost_rolls_back_and_serves_again(app):
    """The engine's listeners on rollback must not fail on a connection the server has closed."""
    pid = db.session.scalar(text("SELECT pg_backend_pid()"))
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with pytest.raises(DBAPIError):
        db.session.execute(text("SELECT 1"))
    db.session.rollback()
    assert db.session.scalar(text("SELECT 2")) == 2
