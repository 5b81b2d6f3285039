"""Home-timeline latency at scale, next to the bare SQL that returns the same rows.

    .venv/bin/python bench/timeline.py                # SQLite: 5,000 users, 1,000,000 posts, 300 communities
    .venv/bin/python bench/timeline.py --postgres URL # ... and PostgreSQL too

Seeds `demo seed --no-index` data (with --communities, a third private, each
person a member of ~5) into bench/out/ (SQLite) or the given PostgreSQL
database once and reuses it.  For 1,000 random people it times, on each
database: the service call (microblog.services.timelines.home_timeline:
posts, authors, tags, likes and communities, only what the reader may see),
page 1 and a page 5 deep; the bare SQL of the same shape returning the same
rows through the DB-API cursor; and the whole HTTP page GET / through the WSGI
stack (Flask test client, logged in).  Service and bare SQL must return the
same posts; the run counts any page where they differ.

Each is also timed, call by call on the same people, with the visibility rule
off (bench/rule.py: the predicate replaced by a no-op; the bare SQL without its
condition), which gives what the rule costs.  Prints p50/p99 in milliseconds.
Targets: service p50 under 5 ms and within 3x of the bare SQL; the rule adds at
most 20%.
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
from bench.rule import RuleSwitch, overhead  # noqa: E402
from bench.stats import fmt, timed  # noqa: E402
from config import Config  # noqa: E402
from microblog import create_app  # noqa: E402
from microblog.database import db  # noqa: E402
from microblog.services import sessions, timelines  # noqa: E402
from microblog.services.timelines import Cursor  # noqa: E402
from models import User  # noqa: E402
from models.user import PERSON  # noqa: E402

# The bare query: the same rows as the service (a page of posts with author, tag names and the
# viewer's like), in the shape each database runs best (../shared/MEASUREMENTS.md), hand-written
# and run straight through the DB-API cursor.
# {visible} is the visibility rule (services.visibility), or nothing for the bare SQL without it.
VISIBLE = "AND ({p}.visibility = 'public' OR {p}.community_id IN ({joined}))"
JOINED = "SELECT followee_id FROM follows WHERE follower_id = :u"
BARE_IDS = {
    "sqlite": """
        SELECT p.id FROM posts p
        WHERE (p.author_id = :u
               OR p.author_id IN ({joined})
               OR p.community_id IN ({joined})
               OR EXISTS (SELECT 1 FROM post_tags pt WHERE pt.post_id = p.id
                          AND pt.tag_id IN (SELECT tag_id FROM tag_follows WHERE user_id = :u))
               OR EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = p.id AND m.user_id = :u))
          {visible_p} AND p.id < :max_id
        ORDER BY p.id DESC LIMIT 20""",
    "postgresql": """
        SELECT id FROM (
          (SELECT id FROM posts p WHERE author_id IN ({joined} UNION ALL SELECT :u)
             {visible_p} AND id < :max_id ORDER BY id DESC LIMIT 20)
          UNION
          (SELECT cp.id FROM follows f JOIN communities c ON c.id = f.followee_id
             CROSS JOIN LATERAL (SELECT id FROM posts p WHERE community_id = f.followee_id
                 {visible_p} AND id < :max_id ORDER BY id DESC LIMIT 20) cp
             WHERE f.follower_id = :u)
          UNION
          (SELECT pt.post_id FROM post_tags pt JOIN posts tp ON tp.id = pt.post_id
             WHERE pt.tag_id IN (SELECT tag_id FROM tag_follows WHERE user_id = :u)
             {visible_tp} AND pt.post_id < :max_id ORDER BY pt.post_id DESC LIMIT 20)
          UNION
          (SELECT m.post_id FROM mentions m JOIN posts mp ON mp.id = m.post_id WHERE m.user_id = :u
             {visible_mp} AND m.post_id < :max_id ORDER BY m.post_id DESC LIMIT 20)
        ) ids ORDER BY id DESC LIMIT 20""",
}
AGGREGATE = {"sqlite": "group_concat(t.name, ' ')", "postgresql": "string_agg(t.name, ' ')"}
BARE_PAGE = """
    SELECT p.id, p.text, p.html, p.created_at, p.in_reply_to_id, p.conversation_id, p.like_count,
           p.reply_count, p.author_id, u.username, u.display_name, u.is_active,
           (SELECT {aggregate} FROM post_tags pt JOIN tags t ON t.id = pt.tag_id
             WHERE pt.post_id = p.id) AS tags,
           EXISTS (SELECT 1 FROM likes l WHERE l.post_id = p.id AND l.user_id = :u) AS liked,
           p.visibility, c.id, c.username, c.display_name, c.locked,
           p.is_question, p.accepted_answer_id, p.posted_by_id
    FROM posts p JOIN users u ON u.id = p.author_id LEFT JOIN users c ON c.id = p.community_id
    WHERE p.id IN ({ids})
    ORDER BY p.id DESC"""
MAX_ID = 2**62
TARGET_MS, TARGET_RATIO, TARGET_RULE = 5.0, 3.0, 0.20


def bare_statement(dialect: str, *, rule: bool = True) -> str:
    """Return the hand-written statement in the driver's parameter style (rule: with the visibility rule)."""
    visible = {
        f"visible_{alias}": VISIBLE.format(p=alias, joined=JOINED) if rule else ""
        for alias in ("p", "tp", "mp")
    }
    ids = BARE_IDS[dialect].format(joined=JOINED, **visible)
    sql = BARE_PAGE.format(aggregate=AGGREGATE[dialect], ids=ids)
    if dialect == "sqlite":
        return sql
    return sql.replace(":u", "%(u)s").replace(":max_id", "%(max_id)s")


def bare_page(raw, statement: str, user_id: int, max_id: int) -> list[tuple]:
    cursor = raw.cursor()
    cursor.execute(statement, {"u": user_id, "max_id": max_id})
    rows = cursor.fetchall()
    cursor.close()
    return rows


KEYS = ("svc1", "bare1", "svc5", "bare5", "http")


def walk_to_page_5(user: User) -> Cursor:
    """Return the cursor of the page 5 deep (walked untimed)."""
    cursor = Cursor()
    for _ in range(4):
        walked = timelines.home_timeline(user, cursor)
        if walked.next_max_id is None:
            break
        cursor = Cursor(max_id=walked.next_max_id)
    return cursor


def run(label: str, url: str, args: argparse.Namespace, switch: RuleSwitch) -> dict:
    print(f"\n== {label}: {url.split('@')[-1]}")
    config = Config({"MICROBLOG_DATABASE_URL": url, "MICROBLOG_DATA_DIR": str(args.out)})
    config.SEARCH_PERCOLATOR = False  # no matching of saved searches in the background: not measured here
    app = create_app(config)
    ensure_data(app, args.users, args.posts, "--communities", str(args.communities), "--no-index")
    # with the rule ("on") and without it ("off"), each figure timed call by call on the same people
    results: dict[str, dict[str, list[float]]] = {mode: {k: [] for k in KEYS} for mode in ("on", "off")}
    with app.app_context():
        dialect = db.engine.dialect.name
        statements = {"on": bare_statement(dialect), "off": bare_statement(dialect, rule=False)}
        ids = list(db.session.scalars(select(User.id).where(User.kind == PERSON).order_by(User.id)))
        sample = random.Random(7).sample(ids, min(args.samples, len(ids)))
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(sample)))}
        db.session.expunge_all()
        raw = db.engine.raw_connection()
        mismatches = 0
        for n, uid in enumerate(sample):
            user = db.session.merge(users[uid], load=False)
            switch.off = False
            cursor = walk_to_page_5(user)
            max_id = cursor.max_id or MAX_ID
            for mode in ("on", "off") if n % 2 else ("off", "on"):  # alternate which runs first
                switch.off = mode == "off"
                timed_ = results[mode]
                ms, page = timed(lambda user=user: timelines.home_timeline(user))
                timed_["svc1"].append(ms)
                ms, rows = timed(lambda uid=uid, st=statements[mode]: bare_page(raw, st, uid, MAX_ID))
                timed_["bare1"].append(ms)
                ms, page5 = timed(lambda user=user, cursor=cursor: timelines.home_timeline(user, cursor))
                timed_["svc5"].append(ms)
                ms, rows5 = timed(lambda uid=uid, st=statements[mode], m=max_id: bare_page(raw, st, uid, m))
                timed_["bare5"].append(ms)
                if mode == "on":
                    mismatches += [p.id for p in page.posts] != [r[0] for r in rows]
                    mismatches += [p.id for p in page5.posts] != [r[0] for r in rows5]
            db.session.expunge_all()
        switch.off = False
        raw.close()
        client = app.test_client()
        for n, uid in enumerate(sample[: args.http_samples]):
            with client.session_transaction() as session:
                session["_user_id"] = sessions.start_login(users[uid]).login_secret
                session["_fresh"] = True
            for mode in ("on", "off") if n % 2 else ("off", "on"):
                switch.off = mode == "off"
                ms, response = timed(lambda: client.get("/"))
                assert response.status_code == 200, response.status_code
                results[mode]["http"].append(ms)
        switch.off = False
        db.session.remove()
        db.engine.dispose()
    n = len(sample)
    on, off = results["on"], results["off"]
    print(f"  {n} people; service and bare SQL returned different posts for {mismatches} pages")
    print(
        "  home timeline (ms)               p50 /     p99   service/bare p50"
        "   rule off: p50 /    p99   rule adds"
    )
    p50 = statistics.median
    for page_label, svc, bare in (("page 1", "svc1", "bare1"), ("page 5 deep", "svc5", "bare5")):
        ratio = p50(on[svc]) / p50(on[bare])
        print(
            f"  {page_label:12} service       {fmt(on[svc])}   {ratio:8.1f}x          "
            f"{fmt(off[svc])}   {overhead(p50(on[svc]), p50(off[svc])):>6}"
        )
        print(
            f"  {page_label:12} bare SQL      {fmt(on[bare])}                      "
            f"{fmt(off[bare])}   {overhead(p50(on[bare]), p50(off[bare])):>6}"
        )
    print(
        f"  GET / (whole page, WSGI)   {fmt(on['http'])}                      {fmt(off['http'])}"
        f"   {overhead(p50(on['http']), p50(off['http'])):>6}   over {len(on['http'])} people"
    )
    svc, bare = p50(on["svc1"]), p50(on["bare1"])
    met = svc < TARGET_MS and svc <= TARGET_RATIO * bare
    print(
        f"  target: service p50 < {TARGET_MS:.0f} ms and <= {TARGET_RATIO:.0f}x bare (page 1): "
        + ("met" if met else "MISSED")
    )
    rule = p50(on["svc1"]) / p50(off["svc1"]) - 1
    print(
        f"  target: the rule adds <= {TARGET_RULE:.0%} (service, page 1): "
        + ("met" if rule <= TARGET_RULE else "MISSED")
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=300, help="communities, a third private")
    parser.add_argument("--samples", type=int, default=1000, help="random people timed")
    parser.add_argument("--http-samples", type=int, default=300, help="people whose GET / is timed")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="SQLite file and data dir")
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this (empty or seeded) PostgreSQL database"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"home timeline benchmark: {args.users:,} users, {args.posts:,} posts, "
        f"{args.communities} communities, {args.samples} sampled people"
    )
    switch = RuleSwitch()
    if not args.no_sqlite:
        path = args.out / f"timeline-{args.users}-{args.posts}-c{args.communities}.db"
        run("SQLite", f"sqlite:///{path}", args, switch)
    if args.postgres:
        run("PostgreSQL", args.postgres, args, switch)


if __name__ == "__main__":
    main()
