"""`flask db upgrade` of a populated SQLite installation keeps every row (PostgreSQL: test_backup.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import text

from config import TestingConfig
from microblog import create_app
from microblog.database import db

# Before browser log-ins (5a0c3e6d7b21) and communities (b7c4d2e9f813): both copy tables on SQLite.
OLD_REVISION = "e13a94523a34"
TABLES = (
    "users",
    "posts",
    "follows",
    "likes",
    "notifications",
    "tags",
    "post_tags",
    "tag_follows",
    "mentions",
)


def _populate(conn) -> None:
    for uid, name in ((1, "kari"), (2, "ola")):
        conn.execute(
            text(
                "INSERT INTO users (id, username, email, display_name, job_title, department, bio, is_admin,"
                " is_active, created_at, session_token) VALUES (:id, :n, :e, '', '', '', '', 0, 1,"
                " CURRENT_TIMESTAMP, :t)"
            ),
            {"id": uid, "n": name, "e": f"{name}@example.com", "t": name * 8},
        )
    conn.execute(
        text(
            "INSERT INTO posts (id, author_id, text, html, created_at, like_count, reply_count) VALUES"
            " (1, 1, 'Blåbær #kantine', 'Blåbær', CURRENT_TIMESTAMP, 1, 1),"
            " (2, 2, '@kari takk', '@kari takk', CURRENT_TIMESTAMP, 0, 0)"
        )
    )
    conn.execute(text("UPDATE posts SET in_reply_to_id = 1, conversation_id = 1 WHERE id = 2"))
    conn.execute(text("INSERT INTO follows VALUES (2, 1, CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO likes VALUES (1, 2, CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO notifications VALUES (1, 1, 2, 'mention', 2, CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO tags (id, name, created_at) VALUES (1, 'kantine', CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO post_tags VALUES (1, 1)"))
    conn.execute(text("INSERT INTO tag_follows VALUES (2, 1, CURRENT_TIMESTAMP)"))
    conn.execute(text("INSERT INTO mentions VALUES (2, 1)"))


def test_upgrading_a_populated_sqlite_database_keeps_every_row(tmp_path: Path):
    config = TestingConfig(
        {"MICROBLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "MICROBLOG_DATA_DIR": str(tmp_path)}
    )
    app = create_app(config)
    with app.app_context():
        upgrade(revision=OLD_REVISION)
        with db.engine.begin() as conn:
            _populate(conn)
            before = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
        upgrade()
        with db.engine.connect() as conn:
            after = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
            posts = conn.execute(text("SELECT DISTINCT visibility, community_id FROM posts")).all()
            kinds = conn.execute(text("SELECT DISTINCT kind, locked FROM users")).all()
            enforced = conn.scalar(text("PRAGMA foreign_keys"))
        db.engine.dispose()
    assert before == {t: 1 for t in TABLES} | {"users": 2, "posts": 2}
    assert after == before
    assert [tuple(r) for r in posts] == [("public", None)]  # existing posts stay company-wide
    assert [tuple(r) for r in kinds] == [("person", 0)]
    assert enforced == 1  # the connection is back to enforcing foreign keys


# Before notification groups (9e4b7c2a5d18), which gives existing likes and follows their group keys.
BEFORE_GROUPS = "d7f1b3e5a9c2"


def test_upgrading_groups_existing_likes_and_follows_as_new_ones_are(tmp_path: Path):
    config = TestingConfig(
        {"MICROBLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "MICROBLOG_DATA_DIR": str(tmp_path)}
    )
    app = create_app(config)
    start = 493_000  # an hour, counted from 1970
    # (kind, post, hours after `start`): kari's post 1 liked by ola over 14 hours, a mention, follows.
    rows = [
        ("favourite", 1, 0.5),
        ("follow", None, 1),
        ("favourite", 1, 5),
        ("mention", 2, 6),
        ("follow", None, 9),
        ("favourite", 1, 11.9),
        ("favourite", 1, 12),
        ("follow", None, 13.5),
    ]
    with app.app_context():
        upgrade(revision=OLD_REVISION)
        with db.engine.begin() as conn:
            _populate(conn)
        upgrade(revision=BEFORE_GROUPS)
        with db.engine.begin() as conn:
            for n, (kind, post_id, hours) in enumerate(rows, start=2):
                moment = datetime.fromtimestamp((start + hours) * 3600, UTC).replace(tzinfo=None)
                conn.execute(
                    text(
                        "INSERT INTO notifications (id, user_id, actor_id, kind, post_id, created_at)"
                        " VALUES (:id, 1, 2, :kind, :post, :at)"
                    ),
                    {"id": n, "kind": kind, "post": post_id, "at": moment.isoformat(" ")},
                )
        upgrade()
        with db.engine.connect() as conn:
            keys = conn.scalars(text("SELECT group_key FROM notifications ORDER BY id")).all()
        db.engine.dispose()
    assert keys == [
        None,  # the mention _populate made
        f"favourite-1-{start}",
        f"follow-{start + 1}",
        f"favourite-1-{start}",
        None,
        f"follow-{start + 1}",
        f"favourite-1-{start}",  # 11.9 hours after its first hour began
        f"favourite-1-{start + 12}",  # 12: a group of its own
        f"follow-{start + 13}",
    ]
