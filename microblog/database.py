"""The database below every layer: the `db` handle, after-commit callbacks, engine settings, keyset batches.

Services, search and realtime import `db` and `on_commit` from here, never from
`microblog.extensions` (which holds the web app's Flask extensions).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import ColumnElement, Row, Select, TextClause, bindparam, event, func, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import InstrumentedAttribute, Session, SessionTransaction
from sqlalchemy.pool import Pool
from sqlalchemy.sql import FromClause

from models import Base

log = logging.getLogger(__name__)

db = SQLAlchemy(metadata=Base.metadata)


# How long a SQLite write waits for another's (ms) before it fails with "database is locked".
BUSY_TIMEOUT_MS = 5000


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Enforce foreign keys (cascades) and let readers run beside one writer."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
    # SQLite's lower() knows ASCII only; people search needs Ø = ø (PostgreSQL's lower() does).
    dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)


# Statements before which SQLite's Python driver opens a transaction (and SAVEPOINT, which opens one too).
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")
# How long the first try at the write lock sleeps between tries, at first and at most (s).
_FIRST_WAIT, _LONGEST_WAIT = 0.0002, 0.01


# An execution option: how long (ms) a connection's first write waits for SQLite's lock (BUSY_TIMEOUT_MS).
WRITE_WAIT_MS = "microblog_sqlite_write_wait_ms"
_FAILING_FAST = "microblog.sqlite_failing_fast"


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_write_lock(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
    """Take SQLite's write lock before a transaction's first write, sleeping as the process sleeps.

    SQLite waits for its lock in its busy handler: a C sleep that, under gevent,
    holds the whole process, every other request and the lock's holder among
    them when it is of the same process.  So the write transaction starts here
    instead (BEGIN IMMEDIATE, as the driver's own BEGIN would have at this write),
    trying without SQLite's wait and sleeping between tries with time.sleep,
    which gevent makes a yield.  Once the wait is over (BUSY_TIMEOUT_MS, or the
    connection's WRITE_WAIT_MS), the write fails at once with SQLite's
    "database is locked", as it would have after SQLite's own wait.
    """
    dbapi_connection = getattr(cursor, "connection", None)
    if not isinstance(dbapi_connection, sqlite3.Connection) or dbapi_connection.in_transaction:
        return
    if dbapi_connection.isolation_level is None:
        return  # the driver's autocommit: whoever set it begins and ends transactions themselves
    if not statement.lstrip()[:9].upper().startswith(_WRITES):
        return
    wait_ms = conn.get_execution_options().get(WRITE_WAIT_MS, BUSY_TIMEOUT_MS)
    if not begin_write_transaction(dbapi_connection, wait_ms):
        # No lock in time: the transaction begins (a SAVEPOINT nests in it, its RELEASE commits
        # nothing) and its write fails at once, SQLite's own wait staying off until it ends.
        dbapi_connection.execute("BEGIN")
        conn.info[_FAILING_FAST] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_wait_again(conn: Any) -> None:
    if not conn.invalidated and conn.info.pop(_FAILING_FAST, False):
        _wait_again(conn.connection.driver_connection)


@event.listens_for(Pool, "reset")
def _sqlite_wait_again_on_return(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
    if record.info.pop(_FAILING_FAST, False):
        _wait_again(dbapi_connection)


def _wait_again(dbapi_connection: Any) -> None:
    """Give a SQLite connection back SQLite's own wait for locks (BUSY_TIMEOUT_MS)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


# PostgreSQL: whether the transaction ran anything but SELECTs (conn.info of the connection).
_WROTE = "microblog.pg_wrote"


@event.listens_for(Engine, "before_cursor_execute")
def _pg_note_writes(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
    if conn.dialect.name == "postgresql" and not statement.lstrip()[:6].upper() == "SELECT":
        conn.info[_WROTE] = True


@event.listens_for(Engine, "rollback")
def _pg_end_reads_with_commit(conn: Any) -> None:
    """End a PostgreSQL transaction that only read with COMMIT, as rolling it back would, but keeping plans.

    psycopg forgets every statement it has prepared on a connection when a
    transaction rolls back, and every request that writes nothing ends so
    (the session's close, the pool's reset): PostgreSQL planned each
    statement of each request afresh, 1.4 ms of a home page's 1.8.  A
    transaction of SELECTs commits nothing, so committing ends it just the
    same; psycopg's rollback then finds no transaction and keeps its
    prepared statements.  Anything else (a write, a SAVEPOINT, a SET, a
    failed statement) rolls back as before.
    """
    if conn.dialect.name != "postgresql" or conn.invalidated or conn.info.pop(_WROTE, False):
        return
    # Imported here, on PostgreSQL only: psycopg picks how it waits for the server as it is first imported,
    # and gunicorn's master imports this module (its JSON logs) before gevent patches the worker.
    from psycopg.pq import TransactionStatus

    driver = conn.connection.driver_connection
    if driver.info.transaction_status == TransactionStatus.INTRANS:  # not failed, not ended
        driver.commit()


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "begin")
def _pg_forget_writes(conn: Any) -> None:
    if not conn.invalidated:  # a lost connection has no info to keep
        conn.info.pop(_WROTE, None)


@contextmanager
def generic_plan() -> Iterator[None]:
    """Run the statements inside on PostgreSQL with its generic plan for their prepared statement.

    For a statement whose best plan does not depend on its values (a kept
    home's page: ids, a bound below, the viewer's marks by index): PostgreSQL
    otherwise plans it again for each values it is sent, which costs more
    than running it.  A no-op on SQLite.
    """
    if not is_postgresql(db.engine):
        yield
        return
    before = db.session.execute(_PLAN_CACHE_MODE, {"mode": "force_generic_plan"}).scalar_one()
    yield  # on an error the transaction fails, and rolls back with the setting
    db.session.execute(_PLAN_CACHE_MODE, {"mode": before})


# Sets plan_cache_mode for the rest of the transaction (a SELECT: ending it by commit keeps plans); returns
# the mode it had.
_PLAN_CACHE_MODE = text(
    "SELECT current_setting('plan_cache_mode') AS before, set_config('plan_cache_mode', :mode, true)"
)


def begin_write_transaction(dbapi_connection: sqlite3.Connection, wait_ms: float = BUSY_TIMEOUT_MS) -> bool:
    """Begin a write transaction on a SQLite connection, waiting for the lock cooperatively.

    Return False if the lock did not come within wait_ms: the connection is left
    without SQLite's own wait (busy_timeout 0), for its write to fail at once.
    """
    deadline = time.monotonic() + wait_ms / 1000
    wait = _FIRST_WAIT
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    while True:
        try:
            dbapi_connection.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                raise
            if time.monotonic() > deadline:
                return False
        time.sleep(wait)
        wait = min(wait * 2, _LONGEST_WAIT)
    dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return True


def _casefold(value: object) -> str | None:
    return None if value is None else str(value).casefold()


def lowered(expression: Any) -> Any:
    """Return the SQL for expression lower-cased in every alphabet (Ø = ø): PostgreSQL's lower(),
    or on SQLite, whose lower() knows ASCII only, the casefold() registered above."""
    return func.lower(expression) if is_postgresql(db.engine) else func.casefold(expression)


def like_escaped(term: str) -> str:
    """Return term for a LIKE pattern with escape="\\": its %, _ and \\ match themselves."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def read_rows(statement: Select, params: dict[str, Any]) -> Sequence[Row[Any]]:
    """Run a SELECT of columns (no ORM entities) on the session's connection, and return its rows.

    As session.execute would, pending changes are flushed first, so the read
    sees them; the ORM's per-statement machinery, a third of a feed page's
    time, is skipped.  For the feeds' and inbox's cached statements.
    """
    session = db.session()
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params).all()


def id_of(row: Any) -> int:
    """Return a model object's id without reading it again (after a commit, its attributes are expired)."""
    identity = inspect(row).identity
    return int(identity[0]) if identity else int(row.id)


def is_postgresql(engine: Engine) -> bool:
    """Return whether the engine talks to PostgreSQL (query shapes differ)."""
    return engine.dialect.name == "postgresql"


def upsert_into(target: Any) -> Any:
    """Return an INSERT into a model or table that can say ON CONFLICT, in the app database's dialect."""
    return (postgresql if is_postgresql(db.engine) else sqlite).insert(target)


def upsert_text(
    table: FromClause, keys: Sequence[str], values: Sequence[str], update: str, where: str = ""
) -> TextClause:
    """Return INSERT INTO table (keys, values) ON CONFLICT (keys) DO UPDATE SET update [WHERE where], as text.

    For the upserts run with every post: SQLAlchemy compiles its dialects'
    INSERT ... ON CONFLICT anew at each execution (the construct has no cache
    key), a third of a millisecond each.  A text() is compiled once and
    cached like any statement.  SQLite and PostgreSQL share this syntax
    (`excluded.` names the row that was to be inserted); each parameter is
    typed as its column, so values convert as the ORM's would.
    """
    names = [*keys, *values]
    sql = (
        f"INSERT INTO {table.description} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {update}" + (f" WHERE {where}" if where else "")
    )
    return text(sql).bindparams(*(bindparam(n, type_=table.c[n].type) for n in names))


# Side effects that must wait for the commit: a rolled-back write announces nothing.
_ON_COMMIT = "microblog.on_commit"


def on_commit(callback: Callable[[], None]) -> None:
    """Run callback after the current transaction commits; drop it if it rolls back.

    Callbacks must not touch the database: compute what they need before the commit.
    A failing callback is logged and never undoes or fails the write.
    """
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback, even of nothing, ends it and drops the callback
    session.info.setdefault(_ON_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_callbacks(session: Session) -> None:
    for callback in session.info.pop(_ON_COMMIT, []):
        try:
            callback()
        except Exception:
            log.exception("after-commit callback %r failed", callback)


@event.listens_for(Session, "after_transaction_end")
def _drop_callbacks(session: Session, transaction: SessionTransaction) -> None:
    # Runs after after_commit: what is left when the outermost transaction ends was rolled back.
    if transaction.parent is None:
        session.info.pop(_ON_COMMIT, None)


def drain_all(take_batch: Callable[[], Sequence[int]], batch_size: int) -> set[int]:
    """Take an outbox's batches until one comes back short; return the post ids they named.

    `take_batch` takes (and commits) at most `batch_size` rows. Rows queued
    after the short batch are the next drain's: a busy queue never keeps it going.
    """
    drained: set[int] = set()
    while True:
        taken = take_batch()
        drained.update(taken)
        if len(taken) < batch_size:
            return drained


def batches(
    statement: Select,
    id_column: ColumnElement[int] | InstrumentedAttribute[int],
    size: int,
    *,
    after: int = 0,
    session: Session | None = None,
) -> Iterator[Sequence[Row]]:
    """Yield the rows of statement in id order, `size` at a time, each batch a query of its own.

    Keyset pagination (`id_column > last id`), never OFFSET: each batch costs an
    index seek however far the walk has gone, and rows written meanwhile are not
    skipped or read twice. The statement must select id_column; the caller may
    commit or roll back between batches (nothing is held open across a yield).
    """
    session = session or db.session()
    last = after
    while True:
        rows = session.execute(
            statement.where(id_column > last).order_by(None).order_by(id_column).limit(size)
        ).all()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = rows[-1]._mapping[id_column]
