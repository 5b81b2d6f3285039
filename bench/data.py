"""The demo data set the benchmarks run on: seeded once with `demo seed`, then reused."""

from __future__ import annotations

import time

from flask_migrate import upgrade
from sqlalchemy import func, select

from microblog.database import db
from models import Post


def ensure_data(app, users: int, posts: int, *seed_options: str) -> None:
    """Upgrade the schema and seed `users` and `posts` unless the database already holds them."""
    with app.app_context():
        upgrade()
        have = db.session.scalar(select(func.count()).select_from(Post)) or 0
        if have >= posts:
            print(f"  reusing {have:,} posts")
            return
        if have:
            raise SystemExit(f"database has {have} posts, fewer than --posts {posts}; use an empty database")
        started = time.perf_counter()
        result = app.test_cli_runner().invoke(
            args=["demo", "seed", "--users", str(users), "--posts", str(posts), *seed_options]
        )
        if result.exit_code != 0:
            raise SystemExit(result.output)
        print(f"  seeded {users:,} users / {posts:,} posts in {time.perf_counter() - started:.0f} s")
