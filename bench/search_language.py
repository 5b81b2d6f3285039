"""What MICROBLOG_SEARCH_LANGUAGE costs: index size, build and query time per setting, same data and run.

    .venv/bin/python bench/search_language.py                          # Whoosh, 100,000 posts
    .venv/bin/python bench/search_language.py --posts 50000 --postgres URL
    .venv/bin/python bench/search_language.py --languages english,both,both:nocompounds

`both:nocompounds` is `both` without splitting Norwegian compounds (what the split costs).

Posts are the demo generator's (microblog.cli.demo: English and Norwegian
sentences, mentions, links, tags).  For each setting it builds a Whoosh index
of their text in a temporary directory (one process, one segment) and, with
--postgres, a table of tsvectors with a GIN index as the postgres backend
writes them (pg_total_relation_size); then it times the same queries
(demo words in both languages, one and two words and a phrase) on each:
the top 20 by relevance and the 20 newest, the text match alone (no
visibility rule, no hydration).  Prints p50 / p99 ms.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Text, cast, create_engine, select, text  # noqa: E402
from whoosh import index as whoosh_index  # noqa: E402

from bench.stats import fmt, timed  # noqa: E402
from microblog.cli.demo import ENGLISH, NORWEGIAN, PROJECTS, _post_text, _tag_names, _usernames  # noqa: E402
from search import analysis  # noqa: E402
from search.analysis import LANGUAGES  # noqa: E402
from search.postgres_backend import PostgresBackend  # noqa: E402
from search.query import parse_query  # noqa: E402
from search.whoosh_schema import compile_query, schema  # noqa: E402

QUERIES_PER_SHAPE = 60
_compound_parts = analysis.compound_parts


def _no_parts(word: str) -> tuple[str, ...]:
    return ()


def make_posts(count: int) -> list[str]:
    rng = random.Random(14)
    users, tags = _usernames(5000), _tag_names(500)
    return [_post_text(rng, users, tags, len(users)) for _ in range(count)]


def make_queries() -> list[tuple[str, str]]:
    rng = random.Random(41)
    words = sorted(
        {w.strip(",.:").lower() for s in ENGLISH + NORWEGIAN for w in s.split() if len(w) > 3} | set(PROJECTS)
    )
    sentences = ENGLISH + NORWEGIAN
    queries = []
    for _ in range(QUERIES_PER_SHAPE):
        queries.append(("1 word", rng.choice(words)))
        queries.append(("2 words", f"{rng.choice(words)} {rng.choice(words)}"))
        parts = rng.choice(sentences).replace(",", "").split()
        start = rng.randrange(len(parts) - 1)
        queries.append(("phrase", f'"{parts[start]} {parts[start + 1]}"'))
    return queries


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir())


def whoosh_run(language: str, posts: list[str], queries: list[tuple[str, str]]) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix=f"mb-lang-{language}-"))
    try:
        ix = whoosh_index.create_in(str(folder), schema(language))
        start = time.perf_counter()
        writer = ix.writer(limitmb=512)
        for i, body in enumerate(posts, 1):
            writer.add_document(id=i, text=body)
        writer.commit()
        build = time.perf_counter() - start
        size = dir_size(folder)
        with ix.searcher() as searcher:
            terms = searcher.reader().field_length("text")
            times: dict[str, list[float]] = {}
            hits = 0
            for newest in (False, True):
                for shape, raw in queries:
                    compiled = compile_query(parse_query(raw), language)
                    if compiled is None:
                        continue
                    kwargs = {"sortedby": "id", "reverse": True} if newest else {}
                    searcher.search(compiled, limit=20, **kwargs)  # warm
                    ms, result = timed(lambda c=compiled, k=kwargs: searcher.search(c, limit=20, **k))
                    hits += result.scored_length()
                    times.setdefault(f"{shape}, {'newest' if newest else 'relevance'}", []).append(ms)
        return {"build s": build, "size": size, "postings": terms, "times": times, "hits": hits}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def postgres_run(
    url: str, language: str, posts: list[str], queries: list[tuple[str, str]]
) -> dict[str, object]:
    engine = create_engine(url)
    backend = PostgresBackend(language)
    table = f"bench_lang_{language.replace('+', '_')}"
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(text(f"CREATE TABLE {table} (post_id bigint PRIMARY KEY, document tsvector NOT NULL)"))
        conn.execute(text(f"CREATE INDEX {table}_gin ON {table} USING gin (document)"))
    insert = text(f"INSERT INTO {table} (post_id, document) VALUES (:id, {backend.document_sql})")
    start = time.perf_counter()
    with engine.begin() as conn:
        for first in range(0, len(posts), 5000):
            batch = posts[first : first + 5000]
            rows = [backend.document_params(first + i + 1, body) for i, body in enumerate(batch)]
            conn.execute(insert, rows)
    build = time.perf_counter() - start
    times: dict[str, list[float]] = {}
    hits = 0
    with engine.begin() as conn:
        conn.execute(text(f"ANALYZE {table}"))
        size = conn.scalar(text(f"SELECT pg_total_relation_size('{table}')"))
        for newest in (False, True):
            for shape, raw in queries:
                parsed = parse_query(raw)
                tsquery = _tsquery_sql(conn, backend, parsed)
                if tsquery is None:
                    continue
                order = "post_id DESC" if newest else "ts_rank_cd(document, q) DESC, post_id DESC"
                sql = text(
                    f"SELECT post_id FROM {table}, CAST(:q AS tsquery) q WHERE document @@ q"
                    f" ORDER BY {order} LIMIT 20"
                )
                conn.execute(sql, {"q": tsquery}).all()  # warm
                ms, rows = timed(lambda s=sql, t=tsquery: conn.execute(s, {"q": t}).all())
                hits += len(rows)
                times.setdefault(f"{shape}, {'newest' if newest else 'relevance'}", []).append(ms)
        conn.execute(text(f"DROP TABLE {table}"))
    engine.dispose()
    return {"build s": build, "size": size, "times": times, "hits": hits}


def _tsquery_sql(conn, backend: PostgresBackend, parsed) -> str | None:  # type: ignore[no-untyped-def]
    """The tsquery the backend would search with, as text (computed by PostgreSQL)."""
    conditions = backend._conditions(parsed)
    if conditions is None or conditions[1] is None:
        return None
    return conn.scalar(select(cast(conditions[1], Text)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+psycopg://...) to measure it too")
    parser.add_argument("--languages", default=",".join(LANGUAGES))
    args = parser.parse_args()
    posts = make_posts(args.posts)
    ms, _ = timed(analysis.wordlists)  # loaded once per process, before any build is timed
    print(f"word lists loaded in {ms:.0f} ms")
    queries = make_queries()
    print(f"{len(posts):,} posts, {sum(map(len, posts)) / len(posts):.0f} characters on average")
    for label in ("whoosh", "postgres"):
        if label == "postgres" and not args.postgres:
            continue
        for setting in args.languages.split(","):
            language, _, variant = setting.partition(":")
            analysis.compound_parts = _no_parts if variant == "nocompounds" else _compound_parts
            if label == "whoosh":
                result = whoosh_run(language, posts, queries)
            else:
                result = postgres_run(args.postgres, language, posts, queries)
            size = int(result["size"])  # type: ignore[call-overload]
            print(
                f"\n{label} {setting}: build {result['build s']:.1f} s, {size / 2**20:.1f} MiB,"
                f" {result.get('postings', '-')} terms indexed, {result['hits']} hits"
            )
            for key, samples in result["times"].items():  # type: ignore[attr-defined]
                print(f"  {key:22} {fmt(samples)} ms")


if __name__ == "__main__":
    main()
