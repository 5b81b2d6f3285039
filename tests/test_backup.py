"""Backup and restore as the operator runs them (deploy/backup.sh, deploy/restore.sh): seed, back up,
wipe, restore, compare; and `flask db upgrade` of a populated database at an older revision."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Table, create_engine, func, select, text
from sqlalchemy.engine import make_url

import search
from config import TestingConfig
from microblog import create_app
from microblog.database import db
from microblog.services import accounts, media, posts, social
from models import Base, MediaAttachment, Post, User
from search import PageRequest, parse_query

from .conftest import PG_URL, missing_service
from .factories import anyone
from .server import flask_cli, free_port, server_env
from .test_media import picture

# Every test here runs the operator's scripts and flask as processes.
pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
BACKUP, RESTORE = str(ROOT / "deploy" / "backup.sh"), str(ROOT / "deploy" / "restore.sh")
QUERIES = (
    "release",
    "blåbærsyltetøy",
    "#gjenoppretting",
    '"deploy pipeline"',
    "from:kari.nordmann",
    "test -friday",
)


def _psql(sql: str) -> None:
    """Run SQL in the server's maintenance database (CREATE / DROP DATABASE)."""
    url = make_url(PG_URL).set(drivername="postgresql", database="postgres")
    maintenance = url.render_as_string(hide_password=False)
    subprocess.run(
        ["psql", "--no-psqlrc", "-q", "-d", maintenance, "-c", sql], check=True, capture_output=True
    )


@pytest.fixture
def scratch_database() -> Iterator[Callable[[], str]]:
    """Return a maker of empty PostgreSQL databases (mb_restore_<random>), dropped afterwards."""
    if not PG_URL:
        missing_service("MICROBLOG_TEST_DATABASE_URL is not set")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore") and shutil.which("psql")):
        missing_service("pg_dump, pg_restore or psql is not installed")
    made: list[str] = []

    def make() -> str:
        name = f"mb_restore_{secrets.token_hex(4)}"
        _psql(f"CREATE DATABASE {name}")
        made.append(name)
        return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in made:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _wipe_database(url: str) -> None:
    """Drop the database and create it again, empty, as on a new machine."""
    name = make_url(url).database
    _psql(f"DROP DATABASE {name} WITH (FORCE)")
    _psql(f"CREATE DATABASE {name}")


def _table_count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.scalar(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))
    engine.dispose()
    return count


def operator(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a deploy script with the service's environment; return what it did."""
    env = {**env, "MICROBLOG_PYTHON": sys.executable}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@contextmanager
def app_for(env: dict[str, str]) -> Iterator[None]:
    """Push an app context on the installation that env configures (nothing runs in the background)."""
    app = create_app(TestingConfig(env))
    with app.app_context():
        yield
        db.session.remove()
        db.engine.dispose()


def add_activity() -> None:
    """Make what the demo seed lacks through the services: likes, a reply, follows, a tag follow."""
    people = db.session.scalars(select(User).order_by(User.id).limit(12)).all()
    first = posts.post_status(people[0], "Blåbærsyltetøy i kantina, æøå for alle #gjenoppretting")
    posts.post_status(people[1], f"@{people[0].username} takk, ærlig talt!", in_reply_to=first.id)
    recent = db.session.scalars(select(Post.id).order_by(Post.id.desc()).limit(20)).all()
    for n, person in enumerate(people):
        for post_id in recent[n : n + 4]:
            posts.like_post(person, post_id)
        social.follow_tag(person, "gjenoppretting")
    social.follow_user(people[5], people[6].username)
    colleague = next(u for u in social.following(people[0], people[0]) if not u.is_community)
    social.unfollow_user(people[0], colleague.username)
    image = media.upload(people[2], picture((400, 300)), description="Kantina")
    posts.post_status(people[2], "Ny kantine", media_ids=[image.id])
    search.drain()


def image_files() -> dict[str, bytes]:
    """Return the stored files of every image, by name."""
    files = {}
    for image in db.session.scalars(select(MediaAttachment)):
        for name in media.file_names(image).values():
            files[name] = (media.media_dir() / name).read_bytes()
    return files


def _rows(table: Table) -> list[tuple]:
    order = list(table.primary_key.columns) or list(table.columns)
    return [tuple(row) for row in db.session.execute(select(table).order_by(*order))]


def snapshot() -> dict[str, Any]:
    """Return every row of every table, and the results of some searches."""
    state: dict[str, Any] = {table.name: _rows(table) for table in Base.metadata.sorted_tables}
    state["alembic_version"] = db.session.scalars(text("SELECT version_num FROM alembic_version")).all()
    for query in QUERIES:
        state[f"search {query}"] = search.search_posts(
            parse_query(query), PageRequest(limit=50), reader=anyone()
        ).ids
    state["people kari"] = [u.username for u in search.search_people(parse_query("kari"))]
    state["tags apol"] = search.search_tags(parse_query("apol"), anyone())
    state["image files"] = image_files()
    return state


def installation(tmp_path: Path, database: str, backend: str) -> dict[str, str]:
    """Return the environment of a fresh installation: PostgreSQL (a URL) or SQLite in its data dir."""
    data_dir = tmp_path / "var-lib-microblog"
    url = f"sqlite:///{data_dir}/microblog.db" if database == "sqlite" else database
    return server_env(url, data_dir, free_port(), MICROBLOG_SEARCH_BACKEND=backend)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["postgres", "sqlite-whoosh"])
def test_backup_wipe_restore_brings_everything_back(variant, tmp_path, request):
    database = request.getfixturevalue("scratch_database")() if variant == "postgres" else "sqlite"
    env = installation(tmp_path, database, "postgres" if variant == "postgres" else "whoosh")
    data_dir = Path(env["MICROBLOG_DATA_DIR"])
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "demo", "seed", "--users", "30", "--posts", "400", "--tags", "40", "--follows", "5")
    with app_for(env):
        add_activity()
        before = snapshot()
    assert all(before[f"search {query}"] for query in QUERIES), before
    assert before["likes"] and before["tag_follows"] and before["follows"] and before["image files"]
    secret_key = (data_dir / "secret_key").read_bytes()

    # The operator: one variant sources the environment file, the other names it.
    if variant == "postgres":
        done = operator(BACKUP, str(tmp_path / "backups"), env=env)
    else:
        env_file = tmp_path / "microblog.env"
        # Quoted as in deploy/microblog.env.example, so that systemd and the shell read it alike.
        env_file.write_text("".join(f'{k}="{v}"\n' for k, v in env.items() if k.startswith("MICROBLOG_")))
        bare = {k: v for k, v in env.items() if not k.startswith("MICROBLOG_")}
        done = operator(BACKUP, "--env", str(env_file), str(tmp_path / "backups"), env=bare)
    assert done.returncode == 0, done.stderr
    backup = Path(done.stdout.strip())
    assert backup.parent == tmp_path / "backups" and backup.name.startswith("microblog-")
    manifest = (backup / "MANIFEST").read_text()
    assert f"alembic_revision={before['alembic_version'][0]}" in manifest
    assert ("search_index=included" in manifest) == (variant != "postgres")

    # Wipe: a new machine with an empty database that the operator created, and no data directory.
    if variant == "postgres":
        _wipe_database(database)
    shutil.rmtree(data_dir)

    if variant == "postgres":
        done = operator(RESTORE, str(backup), env=env)
    else:
        done = operator(RESTORE, "--env", str(env_file), str(backup), env=bare)
    assert done.returncode == 0, done.stderr
    assert "Restored the backup" in done.stdout and "reindex" not in done.stdout, done.stdout
    assert (data_dir / "secret_key").read_bytes() == secret_key
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600

    with app_for(env):
        after = snapshot()
        assert after == before
        # Sequences came back too: new rows get ids after the old ones, and new posts are found.
        last_post = max(row[0] for row in before["posts"])
        last_user = max(row[0] for row in before["users"])
        newcomer = accounts.create_user("nyansatt", "nyansatt@example.com", "correct horse battery")
        post = posts.post_status(newcomer, "Første dag etter gjenopprettingen #gjenoppretting")
        assert post.id > last_post and newcomer.id > last_user
        search.drain()
        assert search.search_posts(parse_query("#gjenoppretting"), reader=anyone()).ids[0] == post.id


def test_restore_refuses_a_database_that_holds_tables(scratch_database, tmp_path):
    env = installation(tmp_path, scratch_database(), "postgres")
    flask_cli(env, "db", "upgrade")
    done = operator(BACKUP, str(tmp_path / "backups"), env=env)
    assert done.returncode == 0, done.stderr
    backup = done.stdout.strip()

    refused = operator(RESTORE, backup, env=env)
    assert refused.returncode == 1 and "Restored" not in refused.stdout
    assert re.search(r"the database holds \d+ tables; .* give --force", refused.stderr), refused.stderr
    _wipe_database(env["MICROBLOG_DATABASE_URL"])
    refused = operator(RESTORE, backup, env=env)
    assert refused.returncode == 1 and "data directory" in refused.stderr and "not empty" in refused.stderr
    assert _table_count(env["MICROBLOG_DATABASE_URL"]) == 0

    forced = operator(RESTORE, "--force", backup, env=env)
    assert forced.returncode == 0, forced.stderr
    assert _table_count(env["MICROBLOG_DATABASE_URL"]) > 0
    usage = operator(RESTORE, env=env)
    assert usage.returncode == 2 and "usage:" in usage.stderr


OLD_REVISION = "8cddd01967d2"  # before the account counters (ce35dae63bef) and directory accounts
NEW_COLUMNS = {"posts_count", "followers_count", "following_count", "directory_dn", "kind", "locked"}
NEW_COLUMNS |= {"community_id", "visibility", "locale", "timezone"}  # communities, language (d4a1f7c3b925)
NEW_COLUMNS |= {"posted_by_id", "is_question", "accepted_answer_id", "answer_accepted_at", "on_behalf_of_id"}
NEW_COLUMNS |= {"edited_at"}  # edited posts (d7f1b3e5a9c2)
NEW_COLUMNS |= {"home_version"}  # kept home timelines (a4d7e2c9b1f3)


def test_db_upgrade_of_a_restored_older_backup_keeps_the_data(scratch_database, tmp_path):
    env = installation(tmp_path, scratch_database(), "postgres")
    flask_cli(env, "db", "upgrade", OLD_REVISION)
    engine = create_engine(env["MICROBLOG_DATABASE_URL"])
    with engine.begin() as conn:  # plain SQL: today's models do not fit that schema
        ids = {
            name: conn.scalar(
                text(
                    "INSERT INTO users (username, email, display_name, job_title, department, bio,"
                    " is_admin, is_active, created_at, session_token)"
                    " VALUES (:name, :email, :display, '', 'Økonomi', '', false, true, now(), :token)"
                    " RETURNING id"
                ),
                {"name": name, "email": f"{name}@example.com", "display": display, "token": name * 8},
            )
            for name, display in (("kari", "Kari Ærø"), ("ola", "Ola Hansen"), ("per", "Per Ås"))
        }

        def post(author: str, body: str, reply_to: int | None = None) -> int:
            return conn.scalar(
                text(
                    "INSERT INTO posts (author_id, text, html, created_at, in_reply_to_id, conversation_id,"
                    " like_count, reply_count) VALUES (:a, :t, :t, now(), :r, :r, 0, 0) RETURNING id"
                ),
                {"a": ids[author], "t": body, "r": reply_to},
            )

        first = post("kari", "Blåbær i kantina #kantine")
        post("kari", "Andre innlegg")
        post("ola", "@kari takk!", first)
        tag = conn.scalar(text("INSERT INTO tags (name, created_at) VALUES ('kantine', now()) RETURNING id"))
        conn.execute(text("INSERT INTO post_tags (tag_id, post_id) VALUES (:t, :p)"), {"t": tag, "p": first})
        conn.execute(
            text("INSERT INTO follows (follower_id, followee_id, created_at) VALUES (:a, :b, now())"),
            [
                {"a": ids["ola"], "b": ids["kari"]},
                {"a": ids["per"], "b": ids["kari"]},
                {"a": ids["kari"], "b": ids["ola"]},
            ],
        )
        conn.execute(
            text("INSERT INTO likes (post_id, user_id, created_at) VALUES (:p, :u, now())"),
            {"p": first, "u": ids["per"]},
        )
        conn.execute(text("UPDATE posts SET like_count = 1, reply_count = 1 WHERE id = :p"), {"p": first})
        conn.execute(
            text("INSERT INTO tag_follows (user_id, tag_id, created_at) VALUES (:u, :t, now())"),
            {"u": ids["per"], "t": tag},
        )
    tables = ("users", "posts", "tags", "post_tags", "follows", "likes", "tag_follows")

    def old_rows() -> dict[str, list]:
        with engine.connect() as conn:
            rows = {}
            for table in tables:
                columns = [c for c in Base.metadata.tables[table].columns if c.name not in NEW_COLUMNS]
                names = ", ".join(c.name for c in columns)
                rows[table] = conn.execute(text(f"SELECT {names} FROM {table} ORDER BY {names}")).all()
            return rows

    before = old_rows()
    engine.dispose()

    # A backup of the older version, restored on a new machine, then upgraded as restore.sh says.
    done = operator(BACKUP, str(tmp_path / "backups"), env=env)
    assert done.returncode == 0, done.stderr
    _wipe_database(env["MICROBLOG_DATABASE_URL"])
    shutil.rmtree(env["MICROBLOG_DATA_DIR"])
    restored = operator(RESTORE, done.stdout.strip(), env=env)
    assert restored.returncode == 0, restored.stderr
    assert "deploy/manage db upgrade" in restored.stdout and "deploy/manage search reindex" in restored.stdout
    assert old_rows() == before
    flask_cli(env, "db", "upgrade")
    assert old_rows() == before
    with engine.connect() as conn:
        head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head
        counters = conn.execute(
            text(
                "SELECT username, posts_count, followers_count, following_count FROM users ORDER BY username"
            )
        ).all()
        places = conn.execute(text("SELECT DISTINCT visibility, community_id FROM posts")).all()
        kinds = conn.execute(text("SELECT DISTINCT kind, locked FROM users")).all()
    engine.dispose()
    assert [tuple(row) for row in counters] == [("kari", 2, 2, 1), ("ola", 1, 1, 1), ("per", 0, 0, 1)]
    assert [tuple(row) for row in places] == [("public", None)]  # existing posts stay company-wide
    assert [tuple(row) for row in kinds] == [("person", False)]

    with app_for(env):  # the upgraded database serves today's code
        kari = accounts.access_user("kari")
        made = posts.post_status(kari, "Etter oppgraderingen")
        assert made.id > first
        assert db.session.scalar(select(User.posts_count).where(User.id == kari.id)) == 3
        assert db.session.scalar(select(func.count()).select_from(Post)) == 4


def test_backup_usage_and_missing_settings(tmp_path):
    bare = {k: v for k, v in os.environ.items() if not k.startswith("MICROBLOG_")}
    assert operator(BACKUP, env=bare).returncode == 2
    missing = operator(BACKUP, str(tmp_path / "backups"), env=bare)
    assert missing.returncode == 1 and "MICROBLOG_DATA_DIR is not set" in missing.stderr
