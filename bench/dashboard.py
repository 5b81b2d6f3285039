"""The usefulness dashboard at scale: every measure, company-wide, over 28 days, next to its bare SQL.

    .venv/bin/python bench/dashboard.py                    # SQLite: 5,000 people, 1,000,000 posts
    .venv/bin/python bench/dashboard.py --postgres URL     # ... and PostgreSQL too
    .venv/bin/python bench/dashboard.py --postgres URL --no-sqlite

Seeds `demo seed --no-index` data once into bench/out-dashboard/ (SQLite) or
the given PostgreSQL database and reuses it: a post every 30 seconds (a
million posts span 347 days), likes, questions, team inboxes, and each
person's reading days (daily_activity).  The period is the 28 days up to the
newest post's day, so a data set seeded days ago gives the same figures.

For --samples rounds it times, on each database, in the same round (the order
alternating):

- service: services.dashboard.dashboard(admin) over the period: every
  measure, company-wide, as the page gets them (the statements, their rows
  turned into tables, suppression);
- bare: the same aggregate statements replayed straight through the DB-API
  cursor (captured once from the service): what the database alone costs;
- page: GET /admin/dashboard through the WSGI stack (Flask test client,
  logged in as an administrator): the statements, the tables and the plots.

It also prints each statement's own p50 (which measure costs what) and
checks that service and replay return the same rows.  Prints p50/p99 in
milliseconds.  Target: the page and the service under 200 ms p50 on both
databases.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402

from bench.data import ensure_data  # noqa: E402
from bench.stats import fmt, timed  # noqa: E402
from config import Config  # noqa: E402
from microblog import create_app  # noqa: E402
from microblog.database import db  # noqa: E402
from microblog.services import accounts, dashboard, sessions  # noqa: E402
from microblog.services.activity import site_day  # noqa: E402
from models import DailyActivity, Like, Post, User  # noqa: E402

TARGET_MS = 200.0
ADMIN = "bench-admin"


def capture(call) -> list[tuple[str, object]]:
    """Return the statements (and parameters) one call runs."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def replay(raw, statements: list[tuple[str, object]], times: list[list[float]] | None = None) -> list[list]:
    """Run the statements through the DB-API cursor; return their rows (and note each one's time)."""
    results = []
    for n, (sql, params) in enumerate(statements):
        cursor = raw.cursor()
        ms, rows = timed(lambda sql=sql, params=params, cursor=cursor: _fetch(cursor, sql, params))
        cursor.close()
        results.append(rows)
        if times is not None:
            times[n].append(ms)
    raw.commit()  # end the read, as the service's request does
    return results


def _unordered(results: list[list]) -> list[list]:
    """Return each statement's rows in one order (a grouping without ORDER BY may return any)."""
    return [sorted(rows, key=repr) for rows in results]


def _fetch(cursor, sql: str, params: object) -> list:
    cursor.execute(sql, params)
    return [tuple(row) for row in cursor.fetchall()]


def _admin(app) -> None:
    """Create the administrator the page is read as, once (one more person in the population)."""
    if db.session.scalar(select(User.id).where(User.username == ADMIN)) is None:
        accounts.create_user(ADMIN, f"{ADMIN}@example.com", "bench-password-123", is_admin=True)


def _label(sql: str) -> str:
    """Name a statement by what it reads, for the per-statement figures."""
    text = " ".join(sql.split())
    for key, name in (
        ("daily_activity", "people (weekly)"),
        ("inbox_items", "inbox (weekly)"),
        ("answer.", "questions (weekly)"),
        ("first_replies", "replies (weekly)"),
        ("talk_days", "departments"),
        ("tag_days", "top tags"),
        ("post_days.community_id !=", "top communities"),
        ("post_days", "posts (daily)"),
        ("GROUP BY users.department", "department sizes"),
        ("buckets.n, count(*)", "population (weekly)"),
        ("AS since", "population"),
    ):
        if key in text:
            return name
    return text[:40]


def run(label: str, url: str, args: argparse.Namespace) -> None:
    print(f"\n== {label}: {url.split('@')[-1]}")
    config = Config({"MICROBLOG_DATABASE_URL": url, "MICROBLOG_DATA_DIR": str(args.out)})
    config.SEARCH_PERCOLATOR = False  # no matching of saved searches in the background: not measured here
    config.RATELIMIT_ENABLED = False
    app = create_app(config)
    ensure_data(app, args.users, args.posts, "--no-index")
    with app.app_context():
        _admin(app)
        newest = db.session.scalar(select(func.max(Post.created_at)))
        last = site_day(newest)
        first, last_text = (last - timedelta(days=27)).isoformat(), last.isoformat()
        admin = db.session.scalars(select(User).where(User.username == ADMIN)).one()
        counts = {
            "posts": db.session.scalar(select(func.count()).select_from(Post)),
            "likes": db.session.scalar(select(func.count()).select_from(Like)),
            "reading days": db.session.scalar(select(func.count()).select_from(DailyActivity)),
        }
        print(
            "  "
            + ", ".join(f"{n:,} {what}" for what, n in counts.items())
            + f"; period {first} .. {last_text}"
        )
        board = dashboard.dashboard(admin, first, last_text)
        active = board.measures["active"].rows[-1]
        print(f"  last week: {active[5]:,} of {active[4]:,} people active ({active[6]:.0%})")
        statements = capture(lambda: dashboard.dashboard(admin, first, last_text))
        db.session.rollback()
        raw = db.engine.raw_connection()
        client = app.test_client()
        with client.session_transaction() as session:  # logged in as the administrator, as the site does
            session["_user_id"] = sessions.start_login(admin).login_secret
        page_url = f"/admin/dashboard?from={first}&to={last_text}"
        assert client.get(page_url).status_code == 200
        expected = replay(raw, statements)
        samples: dict[str, list[float]] = {"service": [], "bare": [], "page": []}
        per_statement: list[list[float]] = [[] for _ in statements]
        differed = 0
        for n in range(args.samples):
            order = ["service", "bare", "page"]
            for key in order if n % 2 else order[::-1]:
                if key == "service":
                    ms, _ = timed(lambda: dashboard.dashboard(admin, first, last_text))
                    db.session.rollback()
                elif key == "bare":
                    ms, rows = timed(lambda: replay(raw, statements, per_statement))
                    differed += _unordered(rows) != _unordered(expected)
                else:
                    ms, response = timed(lambda: client.get(page_url))
                    assert response.status_code == 200
                samples[key].append(ms)
        raw.close()
        db.session.remove()
        db.engine.dispose()
    print(f"  {args.samples} rounds, {len(statements)} statements; replays that differed: {differed}")
    print("  (ms)                       p50 /     p99")
    for key, what in (
        ("service", "service (all measures)"),
        ("bare", "bare SQL (replayed)"),
        ("page", "page GET"),
    ):
        print(f"  {what:24} {fmt(samples[key])}")
    print("  each statement, p50 (ms):")
    for (sql, _), times in sorted(
        zip(statements, per_statement, strict=True), key=lambda s: -statistics.median(s[1])
    ):
        print(f"    {_label(sql):22} {statistics.median(times):7.2f}")
    met = all(statistics.median(samples[k]) < TARGET_MS for k in ("service", "page"))
    print(f"  target: service and page p50 < {TARGET_MS:.0f} ms: {'met' if met else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=30, help="rounds timed (each: service, bare, page)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "out-dashboard", help="SQLite file and data dir"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this (empty or seeded) PostgreSQL database"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"dashboard benchmark: {args.users:,} people, {args.posts:,} posts, {args.samples} rounds")
    if not args.no_sqlite:
        run("SQLite", f"sqlite:///{args.out / f'dashboard-{args.users}-{args.posts}.db'}", args)
    if args.postgres:
        run("PostgreSQL", args.postgres, args)


if __name__ == "__main__":
    main()
