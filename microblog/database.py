"""Engine settings per database."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """Enforce foreign keys (cascades) and let readers run beside one writer."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # SQLite's lower() knows ASCII only; people search needs Ø = ø (PostgreSQL's lower() does).
    dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)


def _casefold(value: object) -> str | None:
    return None if value is None else str(value).casefold()


def is_postgresql(engine: Engine) -> bool:
    """Return whether the engine talks to PostgreSQL (query shapes differ)."""
    return engine.dialect.name == "postgresql"
