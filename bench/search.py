"""Full-text search at scale: index build, query latency and single-post indexing, next to bare SQL.

    .venv/bin/python bench/search.py                        # Whoosh over SQLite, 5,000 users, 1,000,000 posts
    .venv/bin/python bench/search.py --postgres URL         # ... and the postgres backend too
    .venv/bin/python bench/search.py --postgres URL --no-whoosh --reindex

Seeds `demo seed --no-index` data (with --communities, a third private, each
person a member of ~5) once into bench/out-search/ (SQLite, the Whoosh index
in bench/out-search/search/) and into the given PostgreSQL database (the
postgres backend: post_search, tsvector + GIN), and reuses it.
On each backend it:

1. builds the index with search.rebuild(procs=2) (1M posts; target under 15 minutes)
   and reports the time and the size on disk (the Whoosh directory, or
   pg_total_relation_size('post_search')).  A complete index is reused unless
   --reindex is given; the build time printed then is the one recorded when it
   was last really built (bench/out-search/build-*.json).  On PostgreSQL the
   build is followed by an untimed ANALYZE post_search, so that every run
   plans with statistics of the full table.
2. times the same 200 deterministic queries built from the demo vocabulary
   (English and Norwegian words, tags, authors, dates; 7 shapes, each by
   relevance and newest first), each by a random person and run once untimed
   first: the search step (the reader from services.visibility.search_reader,
   then search.search_posts: the ids of the first 20 hits the person may see)
   and the search plus hydrating those posts with timelines.post_views (the
   search as the page sees it), next to a bare lookup of 20 posts by primary
   key (with authors) through the DB-API cursor.  Targets: p50 under 30 ms,
   p99 under 150 ms.  Each query is also timed, right after or before, with
   the visibility rule off (bench/rule.py): what the rule costs (target: at
   most 20%).
3. publishes N posts through posts.post_status and times search.drain() right
   after each (the post reaching the index), next to the post_status call
   itself; checks each post is found right after; then deletes them again
   (posts.delete_post + drain) so that reruns stay comparable.

Prints p50/p99 in milliseconds, overall and by query shape.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402

import search  # noqa: E402
from bench.data import ensure_data  # noqa: E402
from bench.rule import RuleSwitch, overhead  # noqa: E402
from bench.stats import fmt, pct, timed  # noqa: E402
from config import Config  # noqa: E402
from microblog import create_app  # noqa: E402
from microblog.cli.demo import ENGLISH, NORWEGIAN, PROJECTS  # noqa: E402
from microblog.database import db  # noqa: E402
from microblog.services import posts, timelines, visibility  # noqa: E402
from models import Post, PostSearch, Tag, User  # noqa: E402
from models.user import PERSON  # noqa: E402
from search import PageRequest, parse_query  # noqa: E402
from search.analysis import analyzed_terms  # noqa: E402
from search.whoosh_backend import REBUILD_MARKER  # noqa: E402

SHAPES = ("1 word", "2 words", "phrase", "word #tag", "word from:", "word -excl", "word dates")
ORDERS = ("relevance", "newest")
# The bare query: 20 posts by primary key with their authors, straight through the DB-API cursor.
BARE_LOOKUP = """
    SELECT p.id, p.text, p.html, p.created_at, p.like_count, p.reply_count,
           u.id, u.username, u.display_name
    FROM posts p JOIN users u ON u.id = p.author_id
    WHERE p.id IN ({ids})"""
BENCH_MARK = " (search bench)"  # ends every post this benchmark publishes, so leftovers can be found
TARGET_P50, TARGET_P99, TARGET_BUILD_S, TARGET_RULE = 30.0, 150.0, 15 * 60, 0.20
SWITCH = RuleSwitch()


# -- data ------------------------------------------------------------------


def make_app(url: str, backend: str, out: Path):
    config = Config(
        {"MICROBLOG_DATABASE_URL": url, "MICROBLOG_DATA_DIR": str(out), "MICROBLOG_SEARCH_BACKEND": backend}
    )
    config.SEARCH_PERCOLATOR = False  # nothing in the background: the benchmark drains itself
    return create_app(config)


def remove_leftovers() -> None:
    """Delete posts an interrupted earlier run published (and drain their removal)."""
    search.drain()
    left = db.session.execute(
        select(Post.id, Post.author_id).where(Post.text.endswith(BENCH_MARK)).order_by(Post.id)
    ).all()
    for post_id, author_id in left:
        posts.delete_post(db.session.get(User, author_id), post_id)
    search.drain()
    if left:
        print(f"  removed {len(left)} posts left over by an interrupted run")


# -- index build -----------------------------------------------------------


def dir_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def index_state(kind: str, app) -> tuple[bool, str]:
    """Return whether the index holds every post, and its size on disk now."""
    count = db.session.scalar(select(func.count()).select_from(Post)) or 0
    serves = search.status() is None  # also False for an index of another schema or language
    if kind == "whoosh":
        path = app.config["DATA_DIR"] / "search"
        if not whoosh_index.exists_in(str(path)):
            return False, "none"
        docs = whoosh_index.open_dir(str(path)).doc_count()
        complete = serves and docs == count and not (path / REBUILD_MARKER).exists()
        return complete, f"{dir_mib(path):,.0f} MiB on disk ({docs:,} documents)"
    rows = db.session.scalar(select(func.count()).select_from(PostSearch)) or 0
    size = db.session.scalar(text("SELECT pg_total_relation_size('post_search')")) or 0
    complete = serves and rows == count
    return complete, f"{size / 2**20:,.0f} MiB pg_total_relation_size('post_search') ({rows:,} rows)"


def ensure_index(kind: str, app, args: argparse.Namespace) -> dict:
    """Build the index unless it is complete (or --reindex); return the recorded build."""
    record_path = args.out / f"build-{kind}.json"
    with app.app_context():
        complete, size = index_state(kind, app)
        if complete and not args.reindex and record_path.exists():
            record = json.loads(record_path.read_text())
            print(f"  index complete, reused: {size}")
            seconds, when = record["seconds"], record["when"]
            print(f"  index build (recorded {when}): {record['posts']:,} posts in {seconds:.0f} s")
            return record
        existing = (
            db.session.scalar(select(func.count()).select_from(PostSearch)) if kind == "postgres" else 0
        )
        total = db.session.scalar(select(func.count()).select_from(Post)) or 0
        db.session.rollback()
        print(
            f"  building the index of {total:,} posts"
            + (f" over {existing:,} existing rows" if existing else "")
        )
        started = time.perf_counter()
        done = [0, 0]  # posts indexed, next report

        def progress(n: int) -> None:
            done[0] += n
            if done[0] >= done[1]:
                print(f"    {done[0]:>9,} posts  {time.perf_counter() - started:6.0f} s")
                done[1] += 100_000

        count = search.rebuild(progress, procs=args.procs)
        seconds = time.perf_counter() - started
        if kind == "postgres":
            db.session.commit()
            analyzed = time.perf_counter()
            db.session.execute(text("ANALYZE post_search"))
            db.session.commit()
            print(f"  ANALYZE post_search (untimed above): {time.perf_counter() - analyzed:.1f} s")
        record = {
            "posts": count,
            "seconds": seconds,
            "when": datetime.now().strftime("%Y-%m-%d %H:%M"),
            "over_existing": existing,
        }
        _, size = index_state(kind, app)
        record["size"] = size
        record_path.write_text(json.dumps(record, indent=1) + "\n")
        verdict = "under" if seconds < TARGET_BUILD_S else "OVER"
        minutes = f"{seconds / 60:.1f} min, {verdict} the 15 min target"
        print(f"  index build: {count:,} posts in {seconds:.0f} s ({minutes})")
        print(f"  index size: {size}")
        db.session.remove()
        return record


# -- queries ---------------------------------------------------------------


def sentence_words(sentence: str) -> list[str]:
    """Return the words of a demo sentence that the analyzer keeps (no stop words, 3+ letters)."""
    return [w for w in re.findall(r"[^\W\d_]+", sentence) if len(w) >= 3 and analyzed_terms(w, "english")]


def build_queries(count: int, seed: int) -> list[tuple[str, str, bool]]:
    """Return (shape, raw query, newest_first) for `count` queries from this database's demo data."""
    rng = random.Random(seed)
    english = sorted({w.lower() for s in ENGLISH for w in sentence_words(s)})
    norwegian = sorted({w.lower() for s in NORWEGIAN for w in sentence_words(s)})
    sentences = ENGLISH + NORWEGIAN
    usernames = list(db.session.scalars(select(User.username).where(User.kind == PERSON).order_by(User.id)))
    tags = list(db.session.scalars(select(Tag.name).order_by(Tag.id)))
    first, last = db.session.execute(select(func.min(Post.created_at), func.max(Post.created_at))).one()
    span = (last - first).days

    def word() -> str:
        pool = rng.choices((english, norwegian, PROJECTS), weights=(5, 3, 1))[0]
        return rng.choice(pool)

    def phrase() -> str:
        while True:
            raw = re.findall(r"[^\W\d_]+", rng.choice(sentences).lower())
            i = rng.randrange(len(raw) - 1)
            if analyzed_terms(f"{raw[i]} {raw[i + 1]}", "english"):
                return f'"{raw[i]} {raw[i + 1]}"'

    def other(than: str) -> str:
        while (w := word()) == than:
            pass
        return w

    def make(shape: str) -> str:
        w = word()
        if shape == "1 word":
            return w
        if shape == "2 words":
            return f"{w} {other(w)}"
        if shape == "phrase":
            return phrase()
        if shape == "word #tag":
            return f"{w} #{rng.choice(tags[:40] if rng.random() < 0.5 else tags)}"
        if shape == "word from:":  # half from the busiest authors (the demo skews towards the first)
            return f"{w} from:{rng.choice(usernames[:10] if rng.random() < 0.5 else usernames)}"
        if shape == "word -excl":
            return f"{w} -{other(w)}"
        start = first.date() + timedelta(days=rng.randrange(max(1, span - 30)))
        end = start + timedelta(days=rng.choice((1, 7, 30)))
        return f"{w} after:{start.isoformat()} before:{end.isoformat()}"

    queries = []
    for i in range(count):
        shape = SHAPES[i % len(SHAPES)]
        queries.append((shape, make(shape), (i // len(SHAPES)) % 2 == 1))
    return queries


def of_kind(queries: list[tuple[str, str, bool]], shape: str, order: str) -> list[int]:
    """Return the positions of the queries of this shape and order."""
    return [i for i, (s, _, newest) in enumerate(queries) if s == shape and newest == (order == "newest")]


def bare_lookup(raw, ids: list[int]) -> list[tuple]:
    cursor = raw.cursor()
    cursor.execute(BARE_LOOKUP.format(ids=", ".join(str(int(i)) for i in ids)))
    rows = cursor.fetchall()
    cursor.close()
    return rows


def search_page(query, page: PageRequest, viewer: User) -> tuple[float, float, list[int], int, tuple]:
    """Search as the search page does, for this viewer; return the ms of the step and in all, and the hits."""
    start = time.perf_counter()
    hits = search.search_posts(query, page, reader=SWITCH.reader(viewer))
    middle = time.perf_counter()
    views = timelines.post_views(hits.ids, viewer)
    end = time.perf_counter()
    return (middle - start) * 1000, (end - start) * 1000, hits.ids, len(views), hits.notes


def run_queries(queries: list[tuple[str, str, bool]], seed: int) -> dict:
    """Time every query by a random person: the search step, search + post_views, and the bare lookup.

    Each query runs with the visibility rule and without it (in alternating order), on the same data.
    """
    page = PageRequest(limit=20)
    parsed = [parse_query(raw, newest_first=newest) for _, raw, newest in queries]
    people = list(db.session.scalars(select(User.id).where(User.kind == PERSON).order_by(User.id)))
    rng = random.Random(seed)
    viewer_ids = [rng.choice(people) for _ in parsed]
    viewers = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(viewer_ids)))}
    db.session.expunge_all()
    for query, viewer_id in zip(parsed, viewer_ids, strict=True):  # warm-up: every query once, untimed
        for off in (False, True):
            SWITCH.off = off
            search_page(query, page, db.session.merge(viewers[viewer_id], load=False))
    SWITCH.off = False
    db.session.remove()
    max_id = db.session.scalar(select(func.max(Post.id))) or 1
    raw = db.engine.raw_connection()
    bare_lookup(raw, [rng.randint(1, max_id) for _ in range(20)])
    result: dict = {"search": [], "full": [], "bare": [], "hits": [], "ids": [], "short": 0, "notes": {}}
    result |= {"search_off": [], "full_off": [], "hidden": 0}
    for n, (query, viewer_id) in enumerate(zip(parsed, viewer_ids, strict=True)):
        viewer = db.session.merge(viewers[viewer_id], load=False)
        for off in (False, True) if n % 2 else (True, False):
            SWITCH.off = off
            step, full, ids, shown, notes = search_page(query, page, viewer)
            if off:
                result["search_off"].append(step)
                result["full_off"].append(full)
                off_ids = ids
                continue
            result["search"].append(step)
            result["full"].append(full)
            result["hits"].append(len(ids))
            result["ids"].append(ids)
            result["short"] += shown != len(ids)
            for note in notes:  # e.g. the index could not answer: the query returned nothing
                result["notes"][note] = result["notes"].get(note, 0) + 1
        SWITCH.off = False
        result["hidden"] += off_ids != result["ids"][-1]  # the rule left out someone else's private posts
        ms, _ = timed(lambda: bare_lookup(raw, [rng.randint(1, max_id) for _ in range(20)]))
        result["bare"].append(ms)
        db.session.expunge_all()
    raw.close()
    db.session.remove()
    return result


def print_queries(queries: list[tuple[str, str, bool]], result: dict) -> None:
    n = len(queries)
    print(f"  {n} queries, first page of 20 (ms)          p50 /     p99")
    median = statistics.median
    for label, key in (
        ("search step (reader + search_posts)", "search"),
        ("search + post_views (the page)", "full"),
        ("bare SQL: 20 posts by primary key", "bare"),
    ):
        print(f"  {label:36} {fmt(result[key])}")
    for label, key in (("search step, rule off", "search"), ("search + post_views, rule off", "full")):
        rule = overhead(median(result[key]), median(result[f"{key}_off"]))
        print(f"  {label:36} {fmt(result[f'{key}_off'])}   the rule adds {rule} (p50)")
    print(f"  queries whose hits the rule changed (others' private posts left out): {result['hidden']}/{n}")
    p50, p99 = median(result["full"]), pct(result["full"], 99)
    verdict = "met" if p50 < TARGET_P50 and p99 < TARGET_P99 else "MISSED"
    print(f"  target p50 < {TARGET_P50:.0f} / p99 < {TARGET_P99:.0f} ms (search + post_views): {verdict}")
    added = median(result["full"]) / median(result["full_off"]) - 1
    verdict = "met" if added <= TARGET_RULE else "MISSED"
    print(f"  target: the rule adds <= {TARGET_RULE:.0%} (search + post_views, p50): {verdict}")
    if result["short"]:
        print(f"  {result['short']} queries had ids that post_views did not find")
    for note, count in result["notes"].items():
        print(f"  {count} queries came back with the note: {note}")
    print("  by shape (p99 of ~14 is their max)   n   search p50 /    p99    +views p50 /    p99  hits")
    for shape in SHAPES:
        for order in ORDERS:
            picked = of_kind(queries, shape, order)
            search_ms = [result["search"][i] for i in picked]
            full_ms = [result["full"][i] for i in picked]
            hits = statistics.median(result["hits"][i] for i in picked)
            kind = f"{shape}, {order}"
            print(f"  {kind:34} {len(picked):3}   {fmt(search_ms)}   {fmt(full_ms)}  {hits:4.0f}")
    slowest = sorted(range(n), key=lambda i: result["search"][i], reverse=True)[:8]
    print("  slowest search steps:")
    for i in slowest:
        shape, raw, newest = queries[i]
        order = "newest" if newest else "relevance"
        print(f"    {result['search'][i]:8.1f} ms  {raw!r} ({order}, {result['hits'][i]} hits)")


# -- single-post indexing --------------------------------------------------


def run_indexing(count: int, seed: int) -> dict:
    """Publish `count` posts, draining the outbox after each; then delete them again."""
    rng = random.Random(seed)
    sentences = ENGLISH + NORWEGIAN
    user_ids = list(db.session.scalars(select(User.id).where(User.kind == PERSON).order_by(User.id)))
    result: dict = {"post": [], "drain": [], "delete": [], "drain_delete": [], "found": 0}
    published: list[tuple[int, int]] = []
    for i in range(count + 5):  # the first 5 warm up, untimed
        user = db.session.get(User, rng.choice(user_ids))
        sentence = rng.choice(sentences)
        body = sentence[0].upper() + sentence[1:] + BENCH_MARK
        ms_post, post = timed(lambda user=user, body=body: posts.post_status(user, body))
        post_id, username = post.id, user.username
        ms_drain, drained = timed(search.drain)
        assert drained == 1, drained
        published.append((post_id, user.id))
        word = sentence_words(sentence)[0]
        reader = visibility.search_reader(user)
        found = search.search_posts(
            parse_query(f"{word} from:{username}", newest_first=True), reader=reader
        ).ids
        if i >= 5:
            result["post"].append(ms_post)
            result["drain"].append(ms_drain)
            result["found"] += bool(found) and found[0] == post_id
        db.session.expunge_all()
    for i, (post_id, user_id) in enumerate(published):
        user = db.session.get(User, user_id)
        start = time.perf_counter()
        posts.delete_post(user, post_id)
        middle = time.perf_counter()
        drained = search.drain()
        end = time.perf_counter()
        assert drained == 1, drained
        if i >= 5:
            result["delete"].append((middle - start) * 1000)
            result["drain_delete"].append((end - middle) * 1000)
        db.session.expunge_all()
    db.session.remove()
    return result


def print_indexing(result: dict) -> None:
    n = len(result["post"])
    print(f"  single-post indexing, {n} posts (ms)      p50 /     p99")
    print(f"  post_status (commit, outbox row)     {fmt(result['post'])}")
    print(f"  search.drain() right after           {fmt(result['drain'])}")
    print(f"  delete_post                          {fmt(result['delete'])}")
    print(f"  search.drain() after the delete      {fmt(result['drain_delete'])}")
    print(f"  found by a search right after the drain: {result['found']}/{n}")


# -- main ------------------------------------------------------------------


def run(label: str, kind: str, url: str, args: argparse.Namespace, queries: list) -> dict:
    print(f"\n== {label}: {url.split('@')[-1]}")
    app = make_app(url, kind, args.out)
    ensure_data(app, args.users, args.posts, "--communities", str(args.communities), "--no-index")
    with app.test_request_context("/"):
        remove_leftovers()
        db.session.remove()
    build = ensure_index(kind, app, args)
    with app.app_context():
        if not queries:
            queries.extend(build_queries(args.queries, args.seed))
        result = run_queries(queries, args.seed)
        print_queries(queries, result)
    with app.test_request_context("/"):  # as in a request: post_status builds absolute URLs
        indexing = run_indexing(args.index_samples, args.seed)
        print_indexing(indexing)
        db.session.remove()
        db.engine.dispose()
    return {"build": build, "queries": result, "indexing": indexing}


def print_summary(queries: list, results: dict[str, dict]) -> None:
    labels = list(results)
    print("\n== summary (ms, p50 / p99)" + "".join(f"   {label:>26}" for label in labels))
    for name, key in (
        ("search step, all", "search"),
        ("search + post_views, all", "full"),
        ("  rule off: search step", "search_off"),
        ("  rule off: + post_views", "full_off"),
    ):
        print(f"  {name:26}" + "".join(f"   {fmt(r['queries'][key]):>26}" for r in results.values()))
    for name, key in (("  rule adds: search step", "search"), ("  rule adds: + post_views", "full")):
        cells = [
            overhead(statistics.median(r["queries"][key]), statistics.median(r["queries"][f"{key}_off"]))
            for r in results.values()
        ]
        print(f"  {name:26}" + "".join(f"   {cell:>26}" for cell in cells))
    print(
        f"  {'bare 20 posts by PK':26}"
        + "".join(f"   {fmt(r['queries']['bare']):>26}" for r in results.values())
    )
    print(
        f"  {'drain after one post':26}"
        + "".join(f"   {fmt(r['indexing']['drain']):>26}" for r in results.values())
    )
    print("  search step by shape")
    for shape in SHAPES:
        for order in ORDERS:
            picked = of_kind(queries, shape, order)
            cells = "".join(
                f"   {fmt([r['queries']['search'][i] for i in picked]):>26}" for r in results.values()
            )
            print(f"    {shape + ', ' + order:24}{cells}")
    builds = "".join(f"   {r['build']['seconds']:>26.0f}" for r in results.values())
    print(f"  {'index build (s)':26}{builds}")
    if len(results) == 2:
        first, second = (r["queries"] for r in results.values())
        newest = [i for i, (_, _, n) in enumerate(queries) if n]
        same = sum(first["ids"][i] == second["ids"][i] for i in newest)
        print(f"  newest-first queries where both backends returned the same ids: {same}/{len(newest)}")
        for i in [i for i in newest if first["ids"][i] != second["ids"][i]][:8]:
            print(f"    differ: {queries[i][1]!r}: {len(first['ids'][i])} and {len(second['ids'][i])} hits")


def code_version() -> str:
    """Return the commit and whether search/ differs from it: the code measured."""
    git = ["git", "-C", str(ROOT)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        diff = subprocess.run([*git, "diff", "HEAD", "--", "search"], capture_output=True, text=True)
    except OSError:
        return "unknown"
    if not diff.stdout:
        return f"{head.stdout.strip()} (search/ unchanged)"
    digest = hashlib.sha1(diff.stdout.encode()).hexdigest()[:10]
    return f"{head.stdout.strip()} + uncommitted changes in search/ (diff sha1 {digest})"


MAIN_PID = os.getpid()


def stopped(signum: int, _frame: object) -> None:
    if os.getpid() != MAIN_PID:  # a forked worker (a rebuild's pool ends its workers with SIGTERM)
        os._exit(128 + signum)
    print(f"\nstopped by signal {signum} at {datetime.now():%H:%M:%S}")
    raise SystemExit(128 + signum)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  # progress into a log file
    signal.signal(signal.SIGTERM, stopped)  # say so in the log when someone ends a long run
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=300, help="communities, a third private")
    parser.add_argument("--queries", type=int, default=200, help="queries timed")
    parser.add_argument("--index-samples", type=int, default=200, help="posts published and drained")
    parser.add_argument("--seed", type=int, default=7, help="same seed, same queries")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "out-search", help="SQLite file and data dir"
    )
    parser.add_argument("--postgres", metavar="URL", help="also run the postgres backend on this database")
    parser.add_argument("--no-whoosh", action="store_true", help="skip Whoosh (SQLite)")
    parser.add_argument("--reindex", action="store_true", help="rebuild the indexes even when complete")
    parser.add_argument("--procs", type=int, default=2, help="processes building the Whoosh index")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"search benchmark: {args.users:,} users, {args.posts:,} posts, {args.communities} communities, "
        f"{args.queries} queries, "
        f"{args.index_samples} posts indexed one by one"
    )
    print(f"code: {code_version()}; started {datetime.now():%Y-%m-%d %H:%M}")
    queries: list[tuple[str, str, bool]] = []
    results: dict[str, dict] = {}
    if not args.no_whoosh:
        path = args.out / f"search-{args.users}-{args.posts}-c{args.communities}.db"
        results["Whoosh (SQLite)"] = run("Whoosh (SQLite)", "whoosh", f"sqlite:///{path}", args, queries)
    if args.postgres:
        results["PostgreSQL"] = run("PostgreSQL", "postgres", args.postgres, args, queries)
    print_summary(queries, results)


if __name__ == "__main__":
    main()
