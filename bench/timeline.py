"""Home-timeline latency at scale, next to the bare SQL that returns the same rows.

    .venv/bin/python bench/timeline.py                      # SQLite, 5,000 users, 1,000,000 posts
    .venv/bin/python bench/timeline.py --postgres URL       # ... and PostgreSQL too

Seeds `demo seed` data into bench/out/ (SQLite) or the given PostgreSQL
database once and reuses it.  For 1,000 random users it times, on each
database: the service call (microblog.services.timelines.home_timeline:
posts, authors, tags and likes), page 1 and a page 5 deep; the bare SQL
of the same shape returning the same rows (posts with authors and tags)
through the DB-API cursor; and the whole HTTP page GET / through the WSGI
stack (Flask test client, logged in).  Service and bare SQL must return the
same posts; the run counts any page where they differ.  Prints p50/p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench.data import ensure_data  # noqa: E402
from bench.stats import fmt, timed  # noqa: E402
from config import Config  # noqa: E402
from microblog import create_app  # noqa: E402
from microblog.database import db  # noqa: E402
from microblog.services import sessions, timelines  # noqa: E402
from microblog.services.timelines import Cursor  # noqa: E402
from models import User  # noqa: E402

# The bare query: the same rows as the service (a page of posts with author, tag names and the
# viewer's like), in the shape each database runs best (../shared/MEASUREMENTS.md), hand-written
# and run straight through the DB-API cursor.
BARE_IDS = {
    "sqlite": """
        SELECT p.id FROM posts p
        WHERE (p.author_id = :u
               OR p.author_id IN (SELECT followee_id FROM follows WHERE follower_id = :u)
               OR EXISTS (SELECT 1 FROM post_tags pt WHERE pt.post_id = p.id
                          AND pt.tag_id IN (SELECT tag_id FROM tag_follows WHERE user_id = :u))
               OR EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = p.id AND m.user_id = :u))
          AND p.id < :max_id
        ORDER BY p.id DESC LIMIT 20""",
    "postgresql": """
        SELECT id FROM (
          (SELECT id FROM posts WHERE author_id IN
              (SELECT followee_id FROM follows WHERE follower_id = :u UNION ALL SELECT :u)
             AND id < :max_id ORDER BY id DESC LIMIT 20)
          UNION
          (SELECT post_id FROM post_tags
             WHERE tag_id IN (SELECT tag_id FROM tag_follows WHERE user_id = :u)
             AND post_id < :max_id ORDER BY post_id DESC LIMIT 20)
          UNION
          (SELECT post_id FROM mentions WHERE user_id = :u AND post_id < :max_id
             ORDER BY post_id DESC LIMIT 20)
        ) ids ORDER BY id DESC LIMIT 20""",
}
AGGREGATE = {"sqlite": "group_concat(t.name, ' ')", "postgresql": "string_agg(t.name, ' ')"}
BARE_PAGE = """
    SELECT p.id, p.text, p.html, p.created_at, p.in_reply_to_id, p.conversation_id, p.like_count,
           p.reply_count, p.author_id, u.username, u.display_name, u.is_active,
           (SELECT {aggregate} FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
             WHERE pt.post_id = p.id) AS tags,
           EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.user_id = :u) AS liked
    FROM posts p JOIN users u ON u.id = p.author_id
    WHERE p.id IN ({ids})
    ORDER BY p.id DESC"""
MAX_ID = 2**62


def bare_statement(dialect: str) -> str:
    """Return the hand-written statement in the driver's parameter style."""
    sql = BARE_PAGE.format(aggregate=AGGREGATE[dialect], ids=BARE_IDS[dialect])
    if dialect == "sqlite":
        return sql
    return sql.replace(":u", "%(u)s").replace(":max_id", "%(max_id)s")


def bare_page(raw, statement: str, user_id: int, max_id: int) -> list[tuple]:
    cursor = raw.cursor()
    cursor.execute(statement, {"u": user_id, "max_id": max_id})
    rows = cursor.fetchall()
    cursor.close()
    return rows


def run(label: str, url: str, args: argparse.Namespace) -> None:
    print(f"\n== {label}: {url.split('@')[-1]}")
    app = create_app(Config({"MICROBLOG_DATABASE_URL": url, "MICROBLOG_DATA_DIR": str(args.out)}))
    ensure_data(app, args.users, args.posts)
    with app.app_context():
        statement = bare_statement(db.engine.dialect.name)
        ids = list(db.session.scalars(select(User.id).order_by(User.id)))
        sample = random.Random(7).sample(ids, min(args.samples, len(ids)))
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(sample)))}
        db.session.expunge_all()
        results: dict[str, list[float]] = {k: [] for k in ("svc1", "bare1", "svc5", "bare5", "http")}
        raw = db.engine.raw_connection()
        mismatches = 0
        for uid in sample:
            user = db.session.merge(users[uid], load=False)
            ms, page = timed(lambda user=user: timelines.home_timeline(user))
            results["svc1"].append(ms)
            ms, rows = timed(lambda uid=uid: bare_page(raw, statement, uid, MAX_ID))
            results["bare1"].append(ms)
            mismatches += [p.id for p in page.posts] != [r[0] for r in rows]
            cursor = Cursor()
            for _ in range(4):  # walk to page 5 (untimed)
                walked = timelines.home_timeline(user, cursor)
                if walked.next_max_id is None:
                    break
                cursor = Cursor(max_id=walked.next_max_id)
            ms, page5 = timed(lambda user=user, cursor=cursor: timelines.home_timeline(user, cursor))
            results["svc5"].append(ms)
            max_id = cursor.max_id or MAX_ID
            ms, rows5 = timed(lambda uid=uid, max_id=max_id: bare_page(raw, statement, uid, max_id))
            results["bare5"].append(ms)
            mismatches += [p.id for p in page5.posts] != [r[0] for r in rows5]
            db.session.expunge_all()
        raw.close()
        client = app.test_client()
        for uid in sample[: args.http_samples]:
            with client.session_transaction() as session:
                session["_user_id"] = sessions.start_login(users[uid]).login_secret
                session["_fresh"] = True
            ms, response = timed(lambda: client.get("/"))
            assert response.status_code == 200, response.status_code
            results["http"].append(ms)
        db.session.remove()
        db.engine.dispose()
    n = len(sample)
    print(f"  {n} users; service and bare SQL returned different posts for {mismatches} pages")
    print("  home timeline (ms)            p50 /     p99    ratio p50 (service / bare)")
    for page_label, svc, bare in (("page 1", "svc1", "bare1"), ("page 5 deep", "svc5", "bare5")):
        ratio = statistics.median(results[svc]) / statistics.median(results[bare])
        print(f"  {page_label:12} service       {fmt(results[svc])}    {ratio:4.1f}x")
        print(f"  {page_label:12} bare SQL      {fmt(results[bare])}")
    print(f"  GET / (whole page, WSGI)   {fmt(results['http'])}   over {len(results['http'])} users")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1000, help="random users timed")
    parser.add_argument("--http-samples", type=int, default=300, help="users whose GET / is timed")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="SQLite file and data dir")
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this (empty or seeded) PostgreSQL database"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"home timeline benchmark: {args.users:,} users, {args.posts:,} posts, {args.samples} sampled users"
    )
    if not args.no_sqlite:
        path = args.out / f"timeline-{args.users}-{args.posts}.db"
        run("SQLite", f"sqlite:///{path}", args)
    if args.postgres:
        run("PostgreSQL", args.postgres, args)


if __name__ == "__main__":
    main()
