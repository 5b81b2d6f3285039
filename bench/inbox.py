"""A team's inbox, its figures and the company's unanswered questions at scale, next to the bare SQL.

    .venv/bin/python bench/inbox.py                    # SQLite: 5,000 users, 1,000,000 posts, 300 communities
    .venv/bin/python bench/inbox.py --postgres URL     # ... and PostgreSQL too
    .venv/bin/python bench/inbox.py --postgres URL --no-sqlite

Seeds `demo seed --no-index` data once into bench/out-inbox/ (SQLite) or the
given PostgreSQL database and reuses it: @it-support's inbox holds 50,000
items (@hr's 10,000) in every state, and 200,000 posts are questions, about a
third with an accepted answer, some in private communities (--inbox-items,
--questions).  Figures are "as of" the newest post of the data set, so a data
set seeded days ago gives the same 30-day window.

For --samples rounds it times, on each database, each service call next to a
hand-written statement returning the same rows through the DB-API cursor, in
the same round (the order alternating), and counts the rounds where the two
returned different ids or figures:

- inbox page 1: services.inbox.list_items(member, @it-support, filter="open"),
  oldest first (40 items with their posts as the team sees them, askers and
  assignees), for a random member; bare: the same columns by hand (the items
  joined with their posts as feeds return them, see POST, and assignees,
  while the member is on the team), the page's ids taken one page per
  waiting state (open, assigned) and merged;
- inbox deep: the page after a random open item (`after`);
- figures: services.inbox.figures(@it-support, 30): received, answered, median
  and p90 time to first answer; bare: the count and the ordered waits;
- unanswered page 1: services.timelines.unanswered_questions(reader) for a
  random person (nearly all are members of private communities); bare: the
  page of posts with the same columns as timelines.py's (POST);
- unanswered deep: the page 5 deep (max_id, walked untimed).

Prints p50/p99 in milliseconds.  Targets: service p50 under 10 ms and within
3x of the bare SQL, on both databases.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.data import ensure_data  # noqa: E402
from bench.stats import fmt, timed  # noqa: E402
from config import Config  # noqa: E402
from microblog import create_app  # noqa: E402
from microblog.database import db  # noqa: E402
from microblog.services import inbox, timelines  # noqa: E402
from microblog.services.timelines import Cursor  # noqa: E402
from models import InboxItem, Post, TeamMember, User  # noqa: E402
from models.user import PERSON  # noqa: E402

AGGREGATE = {"sqlite": "group_concat({0}, ' ')", "postgresql": "string_agg({0}, ' ')"}
VISIBLE = (
    "(p.visibility = 'public' OR p.community_id IN (SELECT followee_id FROM follows WHERE follower_id = :v))"
)
# A post as the feeds return it (timelines._with_posts): its columns, its author's, its tag names, the
# reader's like, whom it mentions, whom it replies to, its community, and its question and team columns.
POST = """
    p.id, p.text, p.html, p.created_at, p.in_reply_to_id, p.conversation_id, p.like_count, p.reply_count,
    u.id, u.username, u.display_name, u.is_active, u.bio, u.created_at, u.posts_count, u.followers_count,
    u.following_count, u.kind, u.locked,
    (SELECT {tags} FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id),
    EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.user_id = :v),
    (SELECT {mentions} FROM mentions m JOIN users mu ON mu.id = m.user_id WHERE m.post_id = p.id),
    pa.id, pa.username, p.visibility, c.id, c.username, c.display_name, c.locked,
    p.is_question, p.accepted_answer_id, p.posted_by_id"""
POST_JOINS = """
    JOIN users u ON u.id = p.author_id LEFT JOIN users c ON c.id = p.community_id
    LEFT JOIN posts parent ON parent.id = p.in_reply_to_id LEFT JOIN users pa ON pa.id = parent.author_id"""
# The open inbox, oldest first, for a member: the items with their posts (as the team sees them; the
# asker is the post's author) and assignees; the page's ids in the shape both databases run best: one
# page per waiting state (index range scans on inbox_items(team_id, state, id)), merged, where
# `state IN (...)` sorts the whole backlog first.
BARE_INBOX = f"""
    SELECT i.id, {POST}, i.state, i.received_at, i.answered_at, i.changed_at, i.closed_reason,
           i.answer_post_id, s.id, s.username, s.display_name, s.is_active, s.bio, s.created_at,
           s.posts_count, s.followers_count, s.following_count, s.kind, s.locked
    FROM inbox_items i JOIN posts p ON p.id = i.post_id {POST_JOINS} LEFT JOIN users s ON s.id = i.assignee_id
    WHERE i.id IN (
        SELECT id FROM (SELECT id FROM inbox_items WHERE team_id = :v AND state = 'open' AND id > :after
                        ORDER BY id LIMIT 40) o
        UNION ALL
        SELECT id FROM (SELECT id FROM inbox_items WHERE team_id = :v AND state = 'assigned' AND id > :after
                        ORDER BY id LIMIT 40) a)
      AND EXISTS (SELECT 1 FROM team_members WHERE team_id = :v AND user_id = :m) AND {VISIBLE}
    ORDER BY i.id LIMIT 40"""
BARE_RECEIVED = (
    "SELECT count(*) FROM inbox_items WHERE team_id = :v AND received_at >= :since AND received_at < :until"
)
BARE_WAITS = """
    SELECT first_answer_seconds FROM inbox_items
    WHERE team_id = :v AND received_at >= :since AND received_at < :until AND first_answer_seconds IS NOT NULL
    ORDER BY first_answer_seconds"""
QUESTION = {"sqlite": "p.is_question = 1", "postgresql": "p.is_question"}
# The newest open questions the reader may see, as the feeds return them.
BARE_QUESTIONS = f"""
    SELECT {POST}
    FROM posts p {POST_JOINS}
    WHERE p.id IN (
        SELECT p.id FROM posts p
        WHERE {{question}} AND p.accepted_answer_id IS NULL AND {VISIBLE} AND p.id < :max_id
        ORDER BY p.id DESC LIMIT 20)
    ORDER BY p.id DESC"""
MAX_ID = 2**62
TARGET_MS, TARGET_RATIO = 10.0, 3.0
FIGURES = ("inbox page 1", "inbox deep", "figures 30 d", "unanswered p1", "unanswered p5")


def statement(sql: str, dialect: str) -> str:
    """Return the hand-written statement in the driver's parameter style."""
    aggregate = AGGREGATE[dialect]
    mentions = aggregate.format("CAST(mu.id AS VARCHAR) || ':' || mu.username")
    sql = sql.format(tags=aggregate.format("t.name"), mentions=mentions, question=QUESTION[dialect])
    if dialect == "sqlite":
        return sql
    return re.sub(r":(v|m|after|since|until|max_id)\b", r"%(\1)s", sql)


def bare(raw, sql: str, **params: object) -> list[tuple]:
    cursor = raw.cursor()
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    cursor.close()
    return rows


def nearest_rank(ordered: list[int], percent: int) -> int | None:
    """Return the nearest-rank percentile of an ascending list, as services.inbox does."""
    return ordered[max(1, -(-percent * len(ordered) // 100)) - 1] if ordered else None


def bare_figures(raw, sql: dict[str, str], team_id: int, since, until) -> tuple:
    received = bare(raw, sql["received"], v=team_id, since=since, until=until)[0][0]
    waits = [row[0] for row in bare(raw, sql["waits"], v=team_id, since=since, until=until)]
    return received, len(waits), nearest_rank(waits, 50), nearest_rank(waits, 90)


def bare_since(since: datetime, dialect: str) -> object:
    """Return the period's start as the driver compares it with stored times (SQLite: naive UTC text)."""
    if dialect == "sqlite":
        return since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return since


Calls = dict[str, tuple[Callable[[], object], Callable[[], object]]]


def calls(
    raw, sql: dict[str, str], member: User, team: User, reader: User, after: int, deep: Cursor, as_of, since
) -> Calls:
    """Return each figure's service call and its bare SQL, for one round."""
    return {
        "inbox page 1": (
            lambda: [i.id for i in inbox.list_items(member, team, filter="open")],
            lambda: [r[0] for r in bare(raw, sql["inbox"], v=team.id, m=member.id, after=0)],
        ),
        "inbox deep": (
            lambda: [i.id for i in inbox.list_items(member, team, filter="open", after=after)],
            lambda: [r[0] for r in bare(raw, sql["inbox"], v=team.id, m=member.id, after=after)],
        ),
        "figures 30 d": (
            lambda: _figures(inbox.figures(team, 30, now=as_of)),
            lambda: bare_figures(raw, sql, team.id, *since),
        ),
        "unanswered p1": (
            lambda: [p.id for p in timelines.unanswered_questions(reader).posts],
            lambda: [r[0] for r in bare(raw, sql["questions"], v=reader.id, max_id=MAX_ID)],
        ),
        "unanswered p5": (
            lambda: [p.id for p in timelines.unanswered_questions(reader, deep).posts],
            lambda: [r[0] for r in bare(raw, sql["questions"], v=reader.id, max_id=deep.max_id or MAX_ID)],
        ),
    }


def run(label: str, url: str, args: argparse.Namespace) -> None:
    print(f"\n== {label}: {url.split('@')[-1]}")
    config = Config({"MICROBLOG_DATABASE_URL": url, "MICROBLOG_DATA_DIR": str(args.out)})
    config.SEARCH_PERCOLATOR = False  # no matching of saved searches in the background: not measured here
    app = create_app(config)
    options = ["--communities", str(args.communities), "--no-index"]
    options += ["--inbox-items", str(args.inbox_items), "--questions", str(args.questions)]
    ensure_data(app, args.users, args.posts, *options)
    samples: dict[str, list[float]] = {}
    mismatches = dict.fromkeys(FIGURES, 0)
    with app.app_context():
        dialect = db.engine.dialect.name
        sql = {
            "inbox": statement(BARE_INBOX, dialect),
            "received": statement(BARE_RECEIVED, dialect),
            "waits": statement(BARE_WAITS, dialect),
            "questions": statement(BARE_QUESTIONS, dialect),
        }
        team = db.session.scalars(select(User).where(User.username == "it-support")).one()
        members = list(db.session.scalars(select(TeamMember.user_id).where(TeamMember.team_id == team.id)))
        items = db.session.scalar(select(func.count()).where(InboxItem.team_id == team.id))
        open_ids = list(
            db.session.scalars(
                select(InboxItem.id)
                .where(InboxItem.team_id == team.id, InboxItem.state.in_(inbox.WAITING))
                .order_by(InboxItem.id)
            )
        )
        questions = db.session.scalar(select(func.count()).where(Post.is_question.is_(True)))
        unanswered = db.session.scalar(
            select(func.count()).where(Post.is_question.is_(True), Post.accepted_answer_id.is_(None))
        )
        as_of = db.session.scalar(select(func.max(Post.created_at)))
        since = (bare_since(as_of - timedelta(days=30), dialect), bare_since(as_of, dialect))
        print(
            f"  @it-support: {items:,} items ({len(open_ids):,} open), {len(members)} members;"
            f" {questions:,} questions ({unanswered:,} unanswered); figures as of {as_of:%Y-%m-%d %H:%M}"
        )
        people = list(db.session.scalars(select(User.id).where(User.kind == PERSON).order_by(User.id)))
        rng = random.Random(15)
        readers = [rng.choice(people) for _ in range(args.samples)]
        db.session.expunge_all()
        raw = db.engine.raw_connection()

        for n in range(args.samples):
            member = db.session.get_one(User, members[n % len(members)])
            team = db.session.get_one(User, team.id)
            reader = db.session.get_one(User, readers[n])
            after = rng.choice(open_ids[: max(1, len(open_ids) - 40)])
            walked = Cursor()
            for _ in range(4):  # the page 5 deep, untimed
                page = timelines.unanswered_questions(reader, walked)
                walked = Cursor(max_id=page.next_max_id) if page.next_max_id else walked
            round_ = calls(raw, sql, member, team, reader, after, walked, as_of, since)
            for name, (service, hand) in round_.items():
                order = (("service", service), ("bare", hand))
                got = {}
                for key, fn in order if n % 2 else order[::-1]:  # alternate which runs first
                    ms, got[key] = timed(fn)
                    samples.setdefault(f"{name}/{key}", []).append(ms)
                mismatches[name] += got["service"] != got["bare"]
            db.session.expunge_all()
        raw.close()
        db.session.remove()
        db.engine.dispose()
    print(f"  {args.samples} rounds; service and bare SQL differed in: {mismatches}")
    print("  (ms)                 service p50 /  p99      bare p50 /  p99   service/bare p50   target")
    for name in FIGURES:
        svc, raw_ = samples[f"{name}/service"], samples[f"{name}/bare"]
        ratio = statistics.median(svc) / statistics.median(raw_)
        met = statistics.median(svc) < TARGET_MS and ratio <= TARGET_RATIO
        print(f"  {name:16}   {fmt(svc)}     {fmt(raw_)}   {ratio:12.1f}x      {'met' if met else 'MISSED'}")
    print(f"  target: service p50 < {TARGET_MS:.0f} ms and <= {TARGET_RATIO:.0f}x the bare SQL")


def _figures(figures: inbox.Figures) -> tuple:
    return figures.received, figures.answered, figures.median_seconds, figures.p90_seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=300, help="communities, a third private")
    parser.add_argument("--inbox-items", type=int, default=50_000, help="@it-support's inbox (@hr: a fifth)")
    parser.add_argument("--questions", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=300, help="rounds timed (each: every call)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "out-inbox", help="SQLite file and data dir"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this (empty or seeded) PostgreSQL database"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"inbox and questions benchmark: {args.users:,} users, {args.posts:,} posts,"
        f" {args.communities} communities, {args.inbox_items:,} inbox items,"
        f" {args.questions:,} questions, {args.samples} rounds"
    )
    if not args.no_sqlite:
        run("SQLite", f"sqlite:///{args.out / f'inbox-{args.users}-{args.posts}.db'}", args)
    if args.postgres:
        run("PostgreSQL", args.postgres, args)


if __name__ == "__main__":
    main()
