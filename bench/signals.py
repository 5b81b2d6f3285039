"""Saved searches at scale: what matching a new post against 10,000 of them adds to indexing it.

    .venv/bin/python bench/signals.py                          # SQLite + Whoosh
    .venv/bin/python bench/signals.py --postgres URL           # ... and PostgreSQL + its full-text search
    .venv/bin/python bench/signals.py --postgres URL --no-sqlite

Seeds a `demo seed` data set (--users, --posts, indexed) once into
bench/out-signals/ or the given PostgreSQL database, and saves --searches
saved searches of mixed syntax for random people (QUERY_SHAPES): mostly what
people listen for, the name of a customer, product or system (SIGNALS: 3,000
words of their own, one of which 30% of the new posts name), alone or with a
word, a project with a word, #tags, from: and @ a colleague; and everyday
words, phrases of the demo's posts, is:question, is:unanswered, exclusions and
dates.  Words come from the English and Norwegian vocabulary (wordfreq's lists,
~50,000 words, the demo posts' among them): a company's searches span the
language, while the demo's posts are made of twenty sentences.

Then for each of --new posts (demo text, random authors), written through
services.posts.post_status (untimed), it times in the same round:

- index: the search worker applying that post alone (search.indexer.drain_batch,
  its commit included): the baseline;
- match: the percolator's part (has any saved search changed?, the post's
  document and analysis, the candidate searches under its keys, each tested);
- deliver: recording the hits the owners may see, their notifications and
  stream events (services.signals.deliver), written to the database but not
  committed: a serving process commits them with the percolation rows it took
  (search.percolation; the commit and the events after it are untimed here);
- match + deliver: what saved searches cost a serving process per new post.

Prints p50/p99 in milliseconds, the hits and the candidates tested per post,
and how long compiling all saved searches took (once per process, and again
whenever one changes).  Target: match + deliver under 2 ms p50 and 20 ms p99.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, func, select  # noqa: E402

from bench.data import ensure_data  # noqa: E402
from bench.stats import fmt, timed  # noqa: E402
from config import Config  # noqa: E402
from microblog import create_app  # noqa: E402
from microblog.cli.demo import ENGLISH, NORWEGIAN, PROJECTS, TAG_WORDS, _post_text, _tag_names  # noqa: E402
from microblog.database import db  # noqa: E402
from microblog.services import posts, signals  # noqa: E402
from models import ListHit, Notification, PercolationOutbox, Post, SearchOutbox, TimelineList, User  # noqa: E402
from models.timeline_list import SEARCH  # noqa: E402
from models.user import PERSON  # noqa: E402
from search import indexer  # noqa: E402
from search.analysis import wordlists  # noqa: E402
from search.documents import load_documents  # noqa: E402
from search.percolator import post_facts  # noqa: E402


def _vocabulary() -> list[str]:
    """Return the words people's searches are made of: the English and Norwegian words of wordfreq's lists.

    About 50,000 words, the demo posts' few hundred among them: a company's searches
    span the language, while the demo posts are made of twenty sentences.
    """
    english, norwegian = wordlists()
    return sorted(w for w in english | norwegian if len(w) > 3 and w.isalpha())


WORDS = _vocabulary()


def _phrase(rng: random.Random) -> str:
    words = rng.choice(ENGLISH + NORWEGIAN).split()
    start = rng.randrange(max(1, len(words) - 2))
    return " ".join(w.strip(",.:") for w in words[start : start + 2])


# Names of customers, products and systems people listen for: words of their own, which most posts
# do not contain (a new post mentions one in SIGNAL_SHARE of the cases).
SIGNALS = [f"{a}{b}" for a in ("nord", "fjell", "kyst", "sol", "vind", "is") for b in range(500)]
SIGNAL_SHARE = 0.3

# (share, shape): how people write the searches they follow.
QUERY_SHAPES = [
    (35, lambda r, t, u: r.choice(SIGNALS)),
    (8, lambda r, t, u: f"{r.choice(SIGNALS)} {r.choice(WORDS)}"),
    (8, lambda r, t, u: f"{r.choice(PROJECTS)} {r.choice(WORDS)}"),
    (12, lambda r, t, u: f"#{r.choice(t)}"),
    (3, lambda r, t, u: f"#{r.choice(t)} {r.choice(WORDS)}"),
    (6, lambda r, t, u: f"from:{r.choice(u)}"),
    (2, lambda r, t, u: f"from:{r.choice(u)} {r.choice(WORDS)}"),
    (7, lambda r, t, u: f"@{r.choice(u)}"),
    (4, lambda r, t, u: r.choice(WORDS)),
    (1, lambda r, t, u: f'"{_phrase(r)}"'),
    (4, lambda r, t, u: f"is:question {r.choice(WORDS)}"),
    (2, lambda r, t, u: "is:unanswered #" + r.choice(t)),
    (3, lambda r, t, u: f"{r.choice(SIGNALS)} -{r.choice(WORDS)}"),
    (1, lambda r, t, u: f"{r.choice(PROJECTS)} after:2026-01-01"),
]


def new_post_text(rng: random.Random, usernames: list[str], tags: list[str]) -> str:
    """Return a demo post's text, naming a customer or product (SIGNALS) in SIGNAL_SHARE of the posts."""
    text = _post_text(rng, usernames, tags, len(usernames))
    if rng.random() < SIGNAL_SHARE:
        named = f"{text} {rng.choice(SIGNALS)}"
        text = named if len(named) <= 140 else f"{rng.choice(SIGNALS)}: {text[:100]}"
    return text


def saved_queries(rng: random.Random, count: int, tags: list[str], usernames: list[str]) -> list[str]:
    """Return `count` saved searches of mixed syntax (QUERY_SHAPES)."""
    shapes = [shape for share, shape in QUERY_SHAPES for _ in range(share)]
    return [rng.choice(shapes)(rng, tags, usernames) for _ in range(count)]


def ensure_searches(rng: random.Random, count: int, people: list[int], usernames: list[str]) -> None:
    """Save `count` searches for random people, in place of any saved before (the mix is this file's)."""
    db.session.execute(delete(TimelineList))
    tags = _tag_names(500) + TAG_WORDS
    rows = [
        {"user_id": rng.choice(people), "kind": SEARCH, "title": q, "query": q}
        for q in saved_queries(rng, count, tags, usernames)
    ]
    db.session.execute(
        TimelineList.__table__.insert(),
        [dict(r, replies_policy="list", last_read_id=0, **_now()) for r in rows],
    )
    db.session.commit()


def _now() -> dict:
    from models.base import utcnow

    now = utcnow()
    return {"created_at": now, "changed_at": now}


def run(label: str, url: str, backend: str, args: argparse.Namespace) -> None:
    print(f"\n== {label}: {url.split('@')[-1]}, search backend {backend}")
    config = Config(
        {
            "MICROBLOG_DATABASE_URL": url,
            "MICROBLOG_DATA_DIR": str(args.out),
            "MICROBLOG_SEARCH_BACKEND": backend,
        }
    )
    config.SEARCH_PERCOLATOR = False  # this script drains, one post at a time
    config.SERVER_NAME = "localhost"  # the links of posts and stream events
    app = create_app(config)
    ensure_data(app, args.users, args.posts, "--communities", "30")
    rng = random.Random(7)
    with app.app_context():
        people = list(db.session.scalars(select(User.id).where(User.kind == PERSON).order_by(User.id)))
        usernames = list(db.session.scalars(select(User.username).where(User.kind == PERSON)))
        ensure_searches(rng, args.searches, people, usernames)
        state = app.extensions["search"]
        started = time.perf_counter()
        state.percolator.refresh()
        print(
            f"  compiled {state.percolator.size:,} saved searches in {(time.perf_counter() - started):.2f} s"
        )
        backend_impl = state.backend
        authors = people[:200]
        tags = _tag_names(500)
        samples: dict[str, list[float]] = {"index": [], "match": [], "deliver": [], "match + deliver": []}
        hit_counts, candidates = [], []
        for _ in range(args.new):
            text = new_post_text(rng, usernames, tags)
            post = posts.post_status(db.session.get_one(User, rng.choice(authors)), text)
            ms_index, _ = timed(lambda: indexer.drain_batch(backend_impl))  # the worker's part: the baseline
            before = db.session.scalar(select(func.count()).select_from(ListHit))

            ms_match, matches = timed(partial(_match, state.percolator, post.id))
            ms_deliver, _ = timed(partial(_deliver, matches))
            db.session.execute(delete(PercolationOutbox))  # matched here, as a serving process would
            db.session.commit()  # the matching's own commit, untimed
            samples["index"].append(ms_index)
            samples["match"].append(ms_match)
            samples["deliver"].append(ms_deliver)
            samples["match + deliver"].append(ms_match + ms_deliver)
            hit_counts.append(db.session.scalar(select(func.count()).select_from(ListHit)) - before)
            candidates.append(_candidates(state.percolator, post.id))
            db.session.remove()  # as the worker does after each round: a fresh session
        assert db.session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
        print(f"  {'ms, p50 / p99':<18} {'':>17}")
        for name, values in samples.items():
            print(f"  {name:<18} {fmt(values)}")
        ratio = statistics.median(samples["match + deliver"]) / statistics.median(samples["index"])
        print(f"  saved searches add {ratio:.2f}x the median indexing time of a post")
        print(
            f"  per post: {statistics.mean(hit_counts):.1f} hits (max {max(hit_counts)}),"
            f" {statistics.mean(candidates):.0f} candidate searches tested (max {max(candidates)})"
        )
        notes = db.session.scalar(select(func.count()).select_from(Notification))
        posts_total = db.session.scalar(select(func.count()).select_from(Post))
        print(f"  data set now: {posts_total:,} posts, {notes:,} notifications")


def _match(percolator, post_id: int) -> list:
    """The percolator's part of indexing a post: the same calls as search._percolate makes."""
    percolator.refresh()
    return percolator.match(load_documents([post_id]))


def _deliver(matches: list) -> None:
    """Record, notify and stream what matched (in a savepoint, as search._percolate does), not committed."""
    if matches:
        with db.session.begin_nested():
            signals.deliver(matches)


def _candidates(percolator, post_id: int) -> int:
    """Return how many saved searches a post is tested against (untimed; as Percolator.match picks them)."""
    (doc,) = load_documents([post_id])
    facts = post_facts(doc, percolator.analysis.post_terms([doc])[doc.id])
    return len({c.search.list_id for key in facts.keys() for c in percolator.by_key.get(key, ())})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=10_000)
    parser.add_argument("--new", type=int, default=1000, help="new posts, each indexed and matched alone")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "out-signals", help="SQLite file and data dir"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on this (empty or seeded) PostgreSQL database"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"saved searches benchmark: {args.users:,} users, {args.posts:,} posts,"
        f" {args.searches:,} saved searches, {args.new:,} new posts"
    )
    if not args.no_sqlite:
        run("SQLite", f"sqlite:///{args.out / f'signals-{args.users}-{args.posts}.db'}", "whoosh", args)
    if args.postgres:
        run("PostgreSQL", args.postgres, "postgres", args)


if __name__ == "__main__":
    main()
