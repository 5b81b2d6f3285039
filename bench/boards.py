"""Status boards at scale: a tag's and a community's board, next to the bare aggregate SQL, p50/p99.

    .venv/bin/python bench/boards.py                 # SQLite: 5,000 users, 1,000,000 posts, 300 communities
    .venv/bin/python bench/boards.py --postgres URL  # ... and PostgreSQL too
    .venv/bin/python bench/boards.py --postgres URL --no-sqlite

Seeds `demo seed --no-index` data once into bench/out-boards/ (SQLite) or the
given PostgreSQL database and reuses it.  The boards are those of the most
used tag (in the demo, about a fifth of all posts carry it) and of the
community with the most posts, "as of" the local day of the newest post, so a
data set seeded days ago gives the same 90 days.

For --samples rounds it times, on each database, in the same round (the order
alternating), for a random person (the community's board: a random member):

- the service call: services.boards.tag_board / community_board, the whole
  board (access check, posts per day, open questions and most active
  authors in one statement, the authors, the growth of the followers or
  members, the newest open questions);
- the bare aggregate SQL: the posts per hour of the 90 days that the
  reader may see, hand-written as anyone would (a join, the visibility rule,
  GROUP BY the hour) and run through the DB-API cursor; its hours are summed
  into local days and compared with the board's posts per day, and the run
  counts the rounds where they differ.

Then --http-samples whole pages through the WSGI stack (Flask test client,
logged in): GET /tags/<tag> and GET /@<community>, the board above the first
page of posts (the pages count their days up to today, not the data set's).

Prints p50/p99 in milliseconds, the load average before and after (the
machine may be busy with other work), and the CPU time the service took in
this process (SQLite's work included; PostgreSQL's is in its server).
Target: a board's service p50 under 200 ms on both databases.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.data import ensure_data  # noqa: E402
from bench.stats import fmt, timed  # noqa: E402
from config import Config  # noqa: E402
from microblog import create_app  # noqa: E402
from microblog.database import db  # noqa: E402
from microblog.services import boards, sessions  # noqa: E402
from models import Follow, Post, Tag, User, post_tags  # noqa: E402
from models.user import PERSON  # noqa: E402

HOUR = {
    "sqlite": "unixepoch(p.created_at) / 3600",
    "postgresql": "floor(extract(epoch FROM p.created_at) / 3600)::bigint",
}
VISIBLE = (
    "(p.visibility = 'public' OR p.community_id IN (SELECT followee_id FROM follows WHERE follower_id = :v))"
)
# The posts per hour of a tag (a community) that the reader may see, in the period.
BARE = {
    "tag": """
        SELECT {hour} AS hour, count(*) FROM post_tags pt JOIN posts p ON p.id = pt.post_id
        WHERE pt.tag_id = :s AND p.created_at >= :since AND p.created_at < :until AND {visible}
        GROUP BY 1""",
    "community": """
        SELECT {hour} AS hour, count(*) FROM posts p
        WHERE p.community_id = :s AND p.created_at >= :since AND p.created_at < :until AND {visible}
        GROUP BY 1""",
}
TARGET_MS = 200.0
FIGURES = ("tag", "community")


def statement(kind: str, dialect: str) -> str:
    """Return the bare aggregate in the driver's parameter style."""
    sql = BARE[kind].format(hour=HOUR[dialect], visible=VISIBLE)
    if dialect == "sqlite":
        return sql
    for name in ("s", "v", "since", "until"):
        sql = sql.replace(f":{name} ", f"%({name})s ").replace(f":{name})", f"%({name})s)")
    return sql


def bare_days(raw, sql: str, subject: int, viewer: int, since, until, zone) -> dict[date, int]:
    """Run the bare aggregate; return its posts per local day (days without posts left out).

    On PostgreSQL never as a prepared statement: psycopg prepares a statement
    on its fifth run, and PostgreSQL's generic plan for it reads every post of
    the period from the table (the board writes its period into its SQL for that).
    """
    cursor = raw.cursor()
    params = {"s": subject, "v": viewer, "since": since, "until": until}
    if isinstance(since, datetime):  # psycopg (SQLite gets text)
        cursor.execute(sql, params, prepare=False)
    else:
        cursor.execute(sql, params)
    days: dict[date, int] = {}
    for hour, count in cursor.fetchall():
        day = datetime.fromtimestamp(int(hour) * 3600, UTC).astimezone(zone).date()
        days[day] = days.get(day, 0) + count
    cursor.close()
    return days


def driver_time(moment: datetime, dialect: str) -> object:
    """Return a moment as the driver compares it with stored times (SQLite: naive UTC text)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else moment


def subjects() -> tuple[Tag, User]:
    """Return the most used tag and the community with the most posts."""
    tag_id = db.session.scalar(
        select(post_tags.c.tag_id).group_by(post_tags.c.tag_id).order_by(func.count().desc()).limit(1)
    )
    community_id = db.session.scalar(
        select(Post.community_id)
        .where(Post.community_id.is_not(None))
        .group_by(Post.community_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    return db.session.get_one(Tag, tag_id), db.session.get_one(User, community_id)


def load() -> str:
    """Return the machine's load averages (1, 5, 15 minutes): the figures are as busy as the machine."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def run(label: str, url: str, args: argparse.Namespace) -> None:
    print(f"\n== {label}: {url.split('@')[-1]}  (load average {load()}, {os.cpu_count()} cores)")
    config = Config({"MICROBLOG_DATABASE_URL": url, "MICROBLOG_DATA_DIR": str(args.out)})
    config.SEARCH_PERCOLATOR = False  # no matching of saved searches in the background: not measured here
    app = create_app(config)
    ensure_data(app, args.users, args.posts, "--communities", str(args.communities), "--no-index")
    samples: dict[str, list[float]] = {}
    mismatches = dict.fromkeys(FIGURES, 0)
    with app.app_context():
        dialect = db.engine.dialect.name
        sql = {kind: statement(kind, dialect) for kind in FIGURES}
        tag, community = subjects()
        zone = boards.reader_zone(None)
        newest = db.session.scalar(select(func.max(Post.created_at)))
        today = newest.astimezone(zone).date()
        since = datetime.combine(today - timedelta(days=boards.DAYS - 1), datetime.min.time(), zone)
        until = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
        bounds = (driver_time(since, dialect), driver_time(until, dialect))
        tagged = db.session.scalar(select(func.count()).where(post_tags.c.tag_id == tag.id))
        in_community = db.session.scalar(select(func.count()).where(Post.community_id == community.id))
        people = list(db.session.scalars(select(User.id).where(User.kind == PERSON).order_by(User.id)))
        members = list(
            db.session.scalars(
                select(Follow.follower_id)
                .where(Follow.followee_id == community.id)
                .order_by(Follow.follower_id)
            )
        )
        kind = "private" if community.locked else "public"
        print(
            f"  #{tag.name}: {tagged:,} posts; @{community.username} ({kind}, {len(members):,} members):"
            f" {in_community:,} posts; 90 days to {today} ({zone.key})"
        )
        rng = random.Random(16)
        rounds = [(rng.choice(people), rng.choice(members)) for _ in range(args.samples)]
        names = {"tag": tag.name, "community": community.username}
        ids = {"tag": tag.id, "community": community.id}
        service = {"tag": boards.tag_board, "community": boards.community_board}
        db.session.expunge_all()
        raw = db.engine.raw_connection()
        posts_seen = {}
        for n, (person, member) in enumerate(rounds):
            for figure, viewer_id in (("tag", person), ("community", member)):
                viewer = db.session.get_one(User, viewer_id)
                got: dict[str, object] = {}
                order = ["service", "bare"] if n % 2 else ["bare", "service"]  # alternate which runs first
                for key in order:
                    if key == "service":
                        call = service[figure]
                        cpu = time.process_time()
                        ms, (_, board) = timed(lambda c=call, v=viewer, f=figure: c(v, names[f], today=today))
                        samples.setdefault(f"{figure}/cpu", []).append((time.process_time() - cpu) * 1000)
                        got[key] = {day: count for day, count in board.posts_per_day if count}
                        posts_seen[figure] = board.posts
                    else:
                        ms, got[key] = timed(
                            lambda f=figure, v=viewer_id: bare_days(raw, sql[f], ids[f], v, *bounds, zone)
                        )
                    samples.setdefault(f"{figure}/{key}", []).append(ms)
                mismatches[figure] += got["service"] != got["bare"]
                db.session.expunge_all()
        raw.close()
        pages = http_samples(app, rounds[: args.http_samples], f"/tags/{tag.name}", f"/@{community.username}")
        db.session.remove()
        db.engine.dispose()
    print(f"  {args.samples} rounds; the board's posts per day and the bare SQL's differed in: {mismatches}")
    print(f"  posts in the 90 days (last round's reader): {posts_seen}")
    print("  board (ms)          service p50 /    p99   bare SQL p50 /    p99   service/bare p50   target")
    for figure in FIGURES:
        svc, bare = samples[f"{figure}/service"], samples[f"{figure}/bare"]
        ratio = statistics.median(svc) / statistics.median(bare)
        met = "met" if statistics.median(svc) < TARGET_MS else "MISSED"
        print(f"  {figure:12}        {fmt(svc)}        {fmt(bare)}   {ratio:12.2f}x      {met}")
    # What other work on the machine cannot inflate: this process's CPU (with SQLite's, not PostgreSQL's).
    cpu = {figure: statistics.median(samples[f"{figure}/cpu"]) for figure in FIGURES}
    print("  service CPU of this process, p50 (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
    for path, times in pages.items():
        print(f"  GET {path:30} {fmt(times)}   (whole page, WSGI, {len(times)} readers)")
    print(f"  target: a board's service p50 < {TARGET_MS:.0f} ms  (load average at the end {load()})")


def http_samples(app, rounds: list[tuple[int, int]], tag_path: str, community_path: str) -> dict[str, list]:
    """Time the whole pages with the boards through the WSGI stack, logged in."""
    client = app.test_client()
    pages: dict[str, list[float]] = {tag_path: [], community_path: []}
    for person, member in rounds:
        for path, viewer_id in ((tag_path, person), (community_path, member)):
            with client.session_transaction() as session:
                session["_user_id"] = sessions.start_login(db.session.get_one(User, viewer_id)).login_secret
                session["_fresh"] = True
            ms, response = timed(lambda path=path: client.get(path))
            assert response.status_code == 200, (path, response.status_code)
            pages[path].append(ms)
            db.session.expunge_all()
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=300, help="communities, a third private")
    parser.add_argument("--samples", type=int, default=100, help="rounds timed (each: both boards)")
    parser.add_argument("--http-samples", type=int, default=30, help="readers whose pages are timed")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "out-boards", help="SQLite file and data dir"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this (empty or seeded) PostgreSQL database"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"status board benchmark: {args.users:,} users, {args.posts:,} posts,"
        f" {args.communities} communities, {args.samples} rounds"
    )
    if not args.no_sqlite:
        run("SQLite", f"sqlite:///{args.out / f'boards-{args.users}-{args.posts}.db'}", args)
    if args.postgres:
        run("PostgreSQL", args.postgres, args)


if __name__ == "__main__":
    main()
