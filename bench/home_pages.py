"""A home timeline's first page in process: the query, the kept ids, and its statuses built or kept.

    .venv/bin/python bench/home_pages.py                 # the demo set of bench/api.py (bench/out)
    .venv/bin/python bench/home_pages.py --pages 2000

On a copy of bench/api.py's demo set (5,000 people following ~105 each, 1,000,000
posts; seeded there by bench/api.py if missing), in process, for two kinds of
reader: eight demo people (dense homes: a page is found among the newest few
hundred posts) and a newcomer who follows the three people with the fewest posts (a sparse
home: the query walks many posts to fill a page).  Each figure is the median of
--pages first pages (limit 20), readers taken in turn:
 - query: timelines' home query (`_page("home")`), as every page was served before
 - kept: timelines.home_timeline, served from the ids this process keeps
   (services.kept_homes), after one page each to warm it; no post is written
   meanwhile, so this is the kept page's one statement
 - statuses built: 20 Mastodon Statuses from the query's posts with nothing kept
   (entities.status, its kept entities emptied before each page); kept: the same,
   warm
 - bare: the floor, the 20 newest post ids through the DB-API cursor
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.api import demo_app  # noqa: E402
from bench.data import ensure_data  # noqa: E402
from microblog import entities  # noqa: E402
from microblog.database import db  # noqa: E402
from microblog.services import social, timelines  # noqa: E402
from microblog.services.timelines import Cursor  # noqa: E402
from models import Post, User  # noqa: E402
from models.user import PERSON  # noqa: E402


def median_ms(pages: int, readers: list[User], page: Callable[[User], object]) -> float:
    """Return the median time of `pages` calls, in ms, readers in turn."""
    times = []
    for number in range(pages):
        reader = readers[number % len(readers)]
        started = time.perf_counter()
        page(reader)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=1000, help="pages timed per figure")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    source = args.out / f"timeline-{args.users}-{args.posts}.db"
    ensure_data(demo_app(f"sqlite:///{source}", args.out, "whoosh"), args.users, args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "home.db"
        with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        app = demo_app(f"sqlite:///{copy}", Path(tmp), "whoosh")
        with app.test_request_context("/"):
            run(app, copy, args.pages)
            db.session.remove()
            db.engine.dispose()


def run(app, copy: Path, pages: int) -> None:
    dense = list(db.session.scalars(select(User).where(User.kind == PERSON).order_by(User.id).limit(8)))
    newcomer = User(username="bench-newcomer", display_name="Newcomer")
    db.session.add(newcomer)
    db.session.commit()
    quiet = db.session.scalars(
        select(User.username)
        .where(User.kind == PERSON, User.id.not_in([u.id for u in [*dense, newcomer]]))
        .order_by(User.posts_count, User.id)
        .limit(3)
    ).all()
    for name in quiet:
        social.follow_user(newcomer, name)
    bare = sqlite3.connect(copy)

    def floor(_reader: User) -> object:
        return bare.execute("SELECT id FROM posts ORDER BY id DESC LIMIT 20").fetchall()

    def query(reader: User) -> object:
        return timelines._page("home", reader.id, reader, Cursor())

    def kept(reader: User) -> object:
        return timelines.home_timeline(reader, Cursor())

    def statuses_built(reader: User) -> object:
        app.extensions.pop("microblog.entities", None)
        return [entities.status(post) for post in timelines._page("home", reader.id, reader, Cursor()).posts]

    def statuses_kept(reader: User) -> object:
        return [entities.status(post) for post in timelines._page("home", reader.id, reader, Cursor()).posts]

    newest = db.session.scalar(select(Post.id).order_by(Post.id.desc()).limit(1))
    print(f"  {len(dense)} dense readers; the newcomer follows {len(quiet)} people; newest post {newest:,}")
    print(f"  {'first page, ms (median)':32} {'dense':>8} {'sparse':>9}")
    sparse_pages = max(5, pages // 100)  # the query walks most of a million posts each time
    for reader in [*dense, newcomer]:
        kept(reader)  # warm: each home kept
        statuses_kept(reader)
    rows = [
        ("bare: 20 newest ids", floor, floor),
        ("query", query, query),
        ("kept ids", kept, kept),
        ("query + statuses built", statuses_built, statuses_built),
        ("query + statuses kept", statuses_kept, statuses_kept),
    ]
    for label, on_dense, on_sparse in rows:
        heavy = on_sparse in (query, statuses_built, statuses_kept)
        sparse = median_ms(sparse_pages if heavy else pages, [newcomer], on_sparse)
        print(f"  {label:32} {median_ms(pages, dense, on_dense):8.3f} {sparse:9.3f}")
    bare.close()


if __name__ == "__main__":
    main()
