"""The JSON API under 8 concurrent clients, through real server processes, next to a bare Flask app.

    .venv/bin/python bench/api.py                        # SQLite + Whoosh, 5,000 users, 1,000,000 posts
    .venv/bin/python bench/api.py --servers make-run     # only `make run`'s one process
    .venv/bin/python bench/api.py --curve                # ... and the follower curve (bench/curve.py)
    .venv/bin/python bench/api.py --peer gotosocial=/tmp/gts/gotosocial   # ... and GoToSocial beside it
    .venv/bin/python bench/api.py --postgres URL         # ... and PostgreSQL (postgres search backend) too
    .venv/bin/python bench/api.py --py-spy bench/out/spy # py-spy over a server in the loaded phases

Data: the demo set of bench/timeline.py (bench/out/timeline-<users>-<posts>.db and
its Whoosh index bench/out/search, seeded there once if missing), or the given
PostgreSQL database (seeded `--no-index` once; its post_search index built once).
Every run works on a copy, deleted afterwards, so the posts it writes never reach
the cached data: the SQLite file and index directory are copied to a temporary
directory, a PostgreSQL database is cloned with CREATE DATABASE ... TEMPLATE.  The
server kinds of one run share that copy, one after the other (each adds a few
thousand posts to a million).

Servers (--servers, bench/servers.py), each kind in turn:
 - gunicorn: two gunicorn processes, each `-c deploy/gunicorn.conf.py` (one gevent
   worker per process, scale out by processes), MICROBLOG_ENV=production, sharing
   Redis (--redis) as Socket.IO queue and rate-limit storage; half of the clients talk
   to each process, as sticky routing in front would (one process without Redis)
 - make-run: one `flask --app wsgi serve` process, as `make run` serves (werkzeug, a
   thread per connection, development settings, no Redis); every client talks to it
With `flask search worker` in the CLI, one such process runs beside either kind.  The
API rate limit is raised to MICROBLOG_API_RATE_LIMIT="1000000 per minute" (the
default, 300 per 5 minutes per token, would throttle the run).

Clients: threads of this process, each a different demo user with its own token
(`flask users token`; the OAuth password grant where that command is missing)
and one persistent HTTP/1.1 connection (http.client).  Phases, in this order:
 1. POST /api/v1/statuses for --duration s, as fast as they can: texts like the
    demo's (some @mention demo users, most carry #tags, popular tags more often);
    indexing (search outbox) and realtime fan-out happen as in production
 2. GET /api/v1/timelines/home?limit=20 for --duration s, once the outbox is drained
 3. both again with one client for --unloaded s (latency without queueing)
The bare baseline: the same clients and phases against bench.api:bare_app under
the same kind of server, answering the exact bytes of one real home page and one
real status.  Any non-2xx answer counts as an error.  Targets (the issue), 8 clients:
home >= 2,500 req/s and p50 < 3 ms with two processes, >= 1,200 req/s under `make
run`, < 1 ms with one client; POST >= 500 posts/s, p50 < 10 ms, p99 < 100 ms, one
client < 3 ms, under both.

--curve then times posts by authors with 1 to 5,000 followers to 1,000 connected
followers (bench/curve.py); --peer gotosocial=PATH runs the same load against a
GoToSocial binary (bench/gotosocial.py), printed beside these figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from subprocess import PIPE

from flask import Flask, Response, request

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import HOME, Client, Phase, measure  # noqa: E402
from bench.servers import KINDS, Kind, kinds, start_servers, stop  # noqa: E402
from bench.stats import fmt, pct  # noqa: E402

PY = sys.executable
RATE_LIMIT = "1000000 per minute"
RATE_NOTE = "sampled 100 times a second"
MICROBLOG_APP = "wsgi:app"
# The targets, 8 clients: (phase, figure) -> (bound, "<" or ">=") for each server kind.
TARGETS: dict[str, dict[tuple[str, str], tuple[float, str]]] = {
    "gunicorn": {
        ("home", "req/s"): (2500, ">="),
        ("home", "p50"): (3, "<"),
        ("home 1", "p50"): (1, "<"),
        ("post", "req/s"): (500, ">="),
        ("post", "p50"): (10, "<"),
        ("post", "p99"): (100, "<"),
        ("post 1", "p50"): (3, "<"),
    },
    "make-run": {
        ("home", "req/s"): (1200, ">="),
        ("home 1", "p50"): (1, "<"),
        ("post", "req/s"): (500, ">="),
        ("post", "p50"): (10, "<"),
        ("post", "p99"): (100, "<"),
        ("post 1", "p50"): (3, "<"),
    },
}

# -- the bare baseline: gunicorn imports this module as `bench.api:bare_app` ------------------

bare_app = Flask("bench-bare")


@cache
def _bare_body(name: str) -> bytes:
    return Path(os.environ[f"BENCH_BARE_{name}"]).read_bytes()


@bare_app.get("/api/v1/timelines/home")
def bare_home() -> Response:
    """Answer a real home page's bytes."""
    return Response(_bare_body("HOME"), mimetype="application/json")


@bare_app.post("/api/v1/statuses")
def bare_post() -> Response:
    """Parse the form as the real endpoint does; answer a real status's bytes."""
    request.form.get("status")
    return Response(_bare_body("STATUS"), mimetype="application/json")


# -- data ------------------------------------------------------------------------------------


@dataclass
class Site:
    """A copy of the demo data that servers run on."""

    label: str
    url: str
    data_dir: Path
    backend: str
    usernames: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def demo_app(url: str, data_dir: Path, backend: str):
    from config import Config
    from microblog import create_app

    env = {
        "MICROBLOG_DATABASE_URL": url,
        "MICROBLOG_DATA_DIR": str(data_dir),
        "MICROBLOG_SEARCH_BACKEND": backend,
        "MICROBLOG_SECRET_KEY": secrets.token_hex(32),
    }
    config = Config(env)
    config.SEARCH_PERCOLATOR = False
    return create_app(config)


def read_names(site: Site) -> None:
    """Fill in the site's people's usernames and tag names (by id: the demo's popular ones first)."""
    from sqlalchemy import create_engine, text

    from models.user import PERSON

    engine = create_engine(site.url)
    with engine.connect() as connection:
        # People only: a community's @handle in a text would address the post to it (a 422 for a non-member).
        people = text("SELECT username FROM users WHERE kind = :kind ORDER BY id")
        site.usernames = list(connection.scalars(people, {"kind": PERSON}))
        site.tags = list(connection.scalars(text("SELECT name FROM tags ORDER BY id")))
    engine.dispose()


def sqlite_site(args: argparse.Namespace, tmp: Path) -> Site:
    """Seed (once) the timeline benchmark's demo data; return a copy of it in tmp."""
    from whoosh import index as whoosh_index

    from bench.data import ensure_data
    from search.whoosh_backend import REBUILD_MARKER

    source = args.out / f"timeline-{args.users}-{args.posts}.db"
    app = demo_app(f"sqlite:///{source}", args.out, "whoosh")
    ensure_data(app, args.users, args.posts)
    with app.app_context():
        from microblog.database import db

        db.engine.dispose()
    index = args.out / "search"
    if not whoosh_index.exists_in(str(index)) or (index / REBUILD_MARKER).exists():
        raise SystemExit(f"no complete Whoosh index in {index}: run `flask search reindex` on {source}")
    documents = whoosh_index.open_dir(str(index)).doc_count()
    if documents < args.posts:
        raise SystemExit(f"the Whoosh index in {index} holds {documents:,} posts, fewer than {args.posts:,}")
    started = time.perf_counter()
    copy = tmp / "api.db"
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    shutil.copytree(index, tmp / "search")
    print(f"  copied {source.name} and its Whoosh index to {tmp} in {time.perf_counter() - started:.0f} s")
    return Site("SQLite + Whoosh", f"sqlite:///{copy}", tmp, "whoosh")


def postgres_site(args: argparse.Namespace, tmp: Path, stack: ExitStack) -> Site:
    """Seed (once) the PostgreSQL database and its post_search index; return a clone of it."""
    from sqlalchemy import create_engine, func, make_url, select, text

    import search
    from bench.data import ensure_data
    from microblog.database import db
    from models import Post, PostSearch

    app = demo_app(args.postgres, tmp, "postgres")
    ensure_data(app, args.users, args.posts, "--no-index")
    with app.app_context():
        posts = db.session.scalar(select(func.count()).select_from(Post)) or 0
        indexed = db.session.scalar(select(func.count()).select_from(PostSearch)) or 0
        if indexed < posts:
            print(f"  building post_search for {posts:,} posts (once)")
            started = time.perf_counter()
            search.rebuild(procs=2)
            db.session.commit()
            db.session.execute(text("ANALYZE post_search"))
            db.session.commit()
            print(f"  post_search built in {time.perf_counter() - started:.0f} s")
        db.session.remove()
        db.engine.dispose()
    source = make_url(args.postgres)
    clone = f"{source.database}_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{clone}" TEMPLATE "{source.database}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)'))
        admin.dispose()

    stack.callback(drop)
    seconds = time.perf_counter() - started
    print(f"  cloned {source.database} to {clone} in {seconds:.0f} s (dropped at the end)")
    url = source.set(database=clone).render_as_string(hide_password=False)
    return Site("PostgreSQL + post_search", url, tmp, "postgres")


def skewed(rng: random.Random, items: list[str]) -> str:
    """Return an item, the first ones far more often (as the demo draws authors and tags)."""
    if rng.random() < 0.5:
        return items[min(len(items) - 1, int(rng.paretovariate(1.1)) - 1)]
    return rng.choice(items)


def status_texts(rng: random.Random, usernames: list[str], tags: list[str], count: int) -> list[str]:
    """Return post texts like the demo's: 1-2 sentences, 25% @mention someone, 0-2 #tags (skewed)."""
    from microblog.cli.demo import ENGLISH, NORWEGIAN
    from microblog.services.errors import ValidationError
    from microblog.services.validation import check_post_text

    texts: list[str] = []
    while len(texts) < count:
        picked = rng.sample(ENGLISH + NORWEGIAN, rng.choice((1, 1, 2)))
        text = ". ".join(s[0].upper() + s[1:] for s in picked)
        if rng.random() < 0.25:
            text = f"@{rng.choice(usernames)} {text}"
        chosen = {skewed(rng, tags) for _ in range(rng.choice((0, 1, 1, 2)))}
        text += "".join(f" #{name}" for name in sorted(chosen))
        try:
            texts.append(check_post_text(text))
        except ValidationError:
            continue  # over the length limit: draw again
    return texts


def table_count(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0
    engine.dispose()
    return count


def wait_drained(url: str, timeout: float = 600) -> tuple[int, float]:
    """Wait until the search outbox is empty; return the rows it held at first and the seconds waited."""
    started = time.perf_counter()
    backlog = left = table_count(url, "search_outbox")
    while left and time.perf_counter() - started < timeout:
        time.sleep(0.2)
        left = table_count(url, "search_outbox")
    return backlog, time.perf_counter() - started


# -- servers and tokens -----------------------------------------------------------------------


def server_env(site: Site, args: argparse.Namespace, redis_ok: bool) -> dict[str, str]:
    """Return the production environment of the site's server processes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROBLOG_")}
    env.update(
        MICROBLOG_ENV="production",
        MICROBLOG_SECRET_KEY=secrets.token_hex(32),
        MICROBLOG_SECURE_COOKIES="off",  # plain HTTP on loopback
        MICROBLOG_DATABASE_URL=site.url,
        MICROBLOG_DATA_DIR=str(site.data_dir),
        MICROBLOG_SEARCH_BACKEND=site.backend,
        MICROBLOG_HOST="127.0.0.1",
        MICROBLOG_API_RATE_LIMIT=RATE_LIMIT,
    )
    if redis_ok:
        env.update(MICROBLOG_REDIS_URL=args.redis, MICROBLOG_REDIS_CHANNEL=f"api-bench-{uuid.uuid4().hex}")
    return env


def tokens_for(env: dict, port: int, names: list[str]) -> tuple[str, list[str]]:
    """Return how the tokens were made and one token per user: `flask users token`, else OAuth password."""
    flask = [PY, "-m", "flask", "--app", "wsgi", "users", "token"]
    options = {"cwd": ROOT, "env": env, "stdout": PIPE, "stderr": PIPE}
    if subprocess.run([*flask, "--help"], **options).returncode == 0:
        procs = [subprocess.Popen([*flask, name, "--name", "api bench"], **options) for name in names]
        values = [proc.communicate()[0].decode().split("\n")[0].strip() for proc in procs]
        if all(proc.returncode == 0 and value for proc, value in zip(procs, values, strict=True)):
            return "personal (flask users token)", values
    from microblog.cli.demo import DEMO_PASSWORD

    def form(path: str, **data: str) -> dict:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = urllib.parse.urlencode(data)
        connection.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        payload = json.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"POST {path}: {response.status} {payload}")
        return payload

    oob = "urn:ietf:wg:oauth:2.0:oob"
    client = form("/api/v1/apps", client_name="api bench", redirect_uris=oob, scopes="read write")
    grant = {"grant_type": "password", "client_id": client["client_id"], "scope": "read write"}
    grant["client_secret"] = client["client_secret"]
    values = [
        form("/oauth/token", **grant, username=f"{name}@example.com", password=DEMO_PASSWORD)["access_token"]
        for name in names
    ]
    return "OAuth password grant", values


# -- one site, one kind of server ---------------------------------------------------------------


def search_worker(stack: ExitStack, env: dict, kind: Kind, logs: Path) -> bool:
    """Start `flask --app wsgi search worker` beside the servers when the CLI has it; say whether."""
    flask = [PY, "-m", "flask", "--app", "wsgi", "search"]
    env = kind.environment(env)
    listed = subprocess.run([*flask, "--help"], cwd=ROOT, env=env, capture_output=True, text=True).stdout
    if not any(line.split()[:1] == ["worker"] for line in listed.splitlines()):
        return False
    out = stack.enter_context((logs / f"{kind.key}-search-worker.log").open("w"))
    proc = subprocess.Popen([*flask, "worker"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    stack.callback(stop, proc)
    return True


def run(site: Site, kind: Kind, args: argparse.Namespace, tmp: Path, redis_ok: bool) -> dict:
    """Measure microblog, then the bare app, served the `kind` way; print and return both."""
    read_names(site)
    rng = random.Random(args.seed)
    names = rng.sample(site.usernames, args.clients)
    texts = [
        status_texts(random.Random(args.seed + i), site.usernames, site.tags, 500) for i in range(len(names))
    ]
    env = server_env(site, args, redis_ok)
    print(f"\n-- {kind.label} (load average {' '.join(f'{v:.2f}' for v in os.getloadavg())})")
    with ExitStack() as stack:
        servers = start_servers(stack, MICROBLOG_APP, env, kind.processes, tmp, "/api/v1/instance", kind)
        if search_worker(stack, env, kind, tmp):
            print("  one `flask --app wsgi search worker` process beside the servers")
        how, tokens = tokens_for(env, servers[0][1], names)
        print(f"  {args.clients} users, tokens {how}: {', '.join(names)}")
        ports = [port for _, port, _ in servers]

        def clients_on(ports: list[int]) -> list[Client]:
            return [Client(ports[i % len(ports)], t, texts[i]) for i, t in enumerate(tokens)]

        clients = clients_on(ports)
        before = table_count(site.url, "posts")
        pids = [proc.pid for proc, _, _ in servers]
        spied = f"{site.backend}-{kind.key}"
        spy = spy_on(pids, args, spied) if args.py_spy else None
        ours = measure(clients, clients[:1], pids, args, lambda: wait_drained(site.url), spy)
        if args.py_spy:
            summarize_spy(args.py_spy, spied, ours, pids)
        bodies = {"HOME": clients[0].home(), "STATUS": clients[0].post()}
        stored = table_count(site.url, "posts") - before
        answered = 1 + sum(len(ours[key].ms) for key in ("warm-up post", "post", "post 1"))
        for key, (status, body) in bodies.items():
            assert status == 200, (key, status, body[:300])
            (tmp / f"bare-{key}.json").write_bytes(body)
        check_logs([log for _, _, log in servers])
        stack.close()
        bare_env = {**env, **{f"BENCH_BARE_{k}": str(tmp / f"bare-{k}.json") for k in bodies}}
        bare_servers = start_servers(stack, "bench.api:bare_app", bare_env, kind.processes, tmp, HOME, kind)
        bare_clients = clients_on([port for _, port, _ in bare_servers])
        bare = measure(bare_clients, bare_clients[:1], [proc.pid for proc, _, _ in bare_servers], args)
    sizes = {k: len(body) for k, (_, body) in bodies.items()}
    report(ours, bare, sizes, kind, args)
    print(f"  posts stored by the run: {stored:,}; 2xx answers to POST counted: {answered:,}")
    return {"microblog": ours, "bare": bare}


def spy_on(pids: list[int], args: argparse.Namespace, name: str):
    """Return spy(phase, seconds) for measure(): py-spy records the servers (and workers) meanwhile."""
    from bench.profiling import py_spy

    return lambda phase, seconds: py_spy(pids, seconds, args.py_spy / f"{name}-{phase}")


def summarize_spy(folder: Path, name: str, results: dict, pids: list[int]) -> None:
    """Print and keep (DIR/NAME-PHASE.summary) py-spy's top functions per request of each phase."""
    from bench.profiling import summarize_raw

    for phase in ("post", "home"):
        files = [folder / f"{name}-{phase}-{pid}.txt" for pid in pids]
        summary = summarize_raw([f for f in files if f.exists()], len(results[phase].ms))
        (folder / f"{name}-{phase}.summary").write_text(summary + "\n")
        print(f"  py-spy, {phase} phase (servers' CPU, {RATE_NOTE}):\n{summary}")


def check_logs(logs: list[Path]) -> None:
    """Print the server errors the logs hold (a benchmark must not hide them)."""
    for log in logs:
        text = log.read_text(errors="replace")
        failures = text.count("Traceback") + text.count("[ERROR]")
        if failures:
            first = text[max(0, text.find("Traceback")) :].splitlines()
            # Its head and the exception it ends with (the first line that is not indented).
            end = next((i for i, line in enumerate(first[1:], 1) if not line.startswith(" ")), len(first) - 1)
            shown = "\n".join(first[:4] + ["  ..."] + first[max(4, end - 4) : end + 1])
            print(f"  ! {log.name}: {failures} errors/tracebacks in the server log; the first:\n{shown}")


# -- report -----------------------------------------------------------------------------------


def p50(phase: Phase) -> float:
    return pct(phase.ms, 50)


PHASES = (
    ("post", "POST statuses, {n} clients"),
    ("home", "GET home, {n} clients"),
    ("post 1", "POST statuses, 1 client"),
    ("home 1", "GET home, 1 client"),
)


def report(ours: dict, bare: dict, sizes: dict, kind: Kind, args: argparse.Namespace) -> None:
    print(f"  bare bodies: home page {sizes['HOME']:,} bytes, status {sizes['STATUS']:,} bytes")
    print(
        "  (ms, p50 / p99)                 microblog req/s     p50 /     p99"
        "       bare req/s     p50 /     p99   p50 ratio  req/s ratio"
    )
    for key, label in PHASES:
        a, b = ours[key], bare[key]
        print(
            f"  {label.format(n=args.clients):30} {a.rate:10.1f}  {fmt(a.ms)}   {b.rate:10.1f}  {fmt(b.ms)}"
            f"   {p50(a) / p50(b):8.1f}x  {a.rate / b.rate:10.3f}x"
        )
    for key, _label in PHASES:
        for who, phase in (("microblog", ours[key]), ("bare", bare[key])):
            cpu = phase.cpu
            line = f"client {cpu['client']:.2f}, servers {cpu['servers']:.2f}, machine {cpu['machine']:.2f}"
            # Server CPU per answer: what a busy machine (other work taking cores) changes least.
            line += f"; servers' CPU ms per 2xx answer {cpu['servers'] * 1000 / max(phase.rate, 1e-9):.2f}"
            errors = ", ".join(f"{k}: {n}" for k, n in sorted(phase.errors.items())) or "none"
            print(f"    {key:7} {who:9} CPU cores busy: {line}; errors: {errors}")
            if phase.sample_error:
                print(f"            first error body: {phase.sample_error!r}")
    backlog, waited = ours["drain"]
    print(f"  search outbox after the POST phase: {backlog:,} rows, drained in {waited:.1f} s")
    print(f"  targets ({args.clients} clients, {kind.label}): {verdicts(ours, kind.key)}")


def verdicts(results: dict, kind: str) -> str:
    """Return each of the issue's targets for this kind of server: the figure, and met or MISSED."""
    figures = {"req/s": lambda p: p.rate, "p50": lambda p: pct(p.ms, 50), "p99": lambda p: pct(p.ms, 99)}
    said = []
    for (key, figure), (bound, sign) in TARGETS.get(kind, {}).items():
        value = figures[figure](results[key])
        ok = value >= bound if sign == ">=" else value < bound
        unit = "" if figure == "req/s" else " ms"
        said.append(f"{key} {figure} {sign} {bound:g}{unit}: {value:.1f} {'met' if ok else 'MISSED'}")
    return "; ".join(said)


def redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20, help="seconds per 8-client phase")
    parser.add_argument("--unloaded", type=float, default=5, help="seconds per 1-client phase")
    parser.add_argument("--seed", type=int, default=7, help="same seed, same users and texts")
    parser.add_argument("--servers", nargs="+", choices=KINDS, default=list(KINDS), help="server kinds")
    parser.add_argument("--no-load", action="store_true", help="only --curve and --peer")
    parser.add_argument("--curve", action="store_true", help="the follower curve too (bench/curve.py)")
    parser.add_argument("--connected", type=int, default=1000, help="--curve: followers connected")
    parser.add_argument("--curve-posts", type=int, default=30, help="--curve: posts timed per author")
    parser.add_argument("--curve-gap", type=float, default=0.5, help="--curve: seconds between posts")
    parser.add_argument("--hold", type=float, default=3, help="--curve: seconds connected before posting")
    parser.add_argument("--curve-clients", type=int, default=1, help="--curve: client processes")
    parser.add_argument("--peer", action="append", default=[], metavar="gotosocial=PATH")
    parser.add_argument("--gts-people", type=int, default=40, help="--peer: GoToSocial accounts")
    parser.add_argument("--gts-follows", type=int, default=20, help="--peer: people each one follows")
    parser.add_argument("--gts-posts", type=int, default=2000, help="--peer: seed posts")
    parser.add_argument("--gts-web", type=Path, help="--peer: its web/ folder (default: beside it)")
    parser.add_argument("--py-spy", type=Path, metavar="DIR", help="py-spy in loaded phases")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5", help="queue and rate-limit storage")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="SQLite file and data dir")
    parser.add_argument("--postgres", metavar="URL", help="also run on this (empty or seeded) database")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    for peer in args.peer:
        name, _, path = peer.partition("=")
        if name != "gotosocial" or not Path(path).is_file():
            parser.error(f"--peer {peer}: expected gotosocial=PATH of a GoToSocial binary")
    return args


def measure_site(site: Site, args: argparse.Namespace, tmp: Path, redis_ok: bool) -> dict:
    """Run every server kind asked for on the site's copy, then the curve; return the results by kind."""
    results = {}
    for kind in kinds(args.servers, redis_ok):
        if not args.no_load:
            results[kind.label] = run(site, kind, args, tmp, redis_ok)
    if args.curve:
        from bench import curve

        curve.run_curves(site, kinds(args.servers, redis_ok), server_env(site, args, redis_ok), args, tmp)
    return results


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    args = arguments()
    args.out.mkdir(parents=True, exist_ok=True)
    redis_ok = redis_available(args.redis)
    print(
        f"API benchmark: {args.users:,} users, {args.posts:,} posts; {args.clients} clients, "
        f"{args.duration:.0f} s per phase ({args.unloaded:.0f} s with 1 client)\n"
        f"  command: {shlex.join([os.path.relpath(sys.executable), *sys.argv])}\n"
        f"  machine: {os.cpu_count()} cores, load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    for kind in kinds(args.servers, redis_ok):
        print(f"  servers: {kind.label}" + (f", {args.redis}" if kind.processes > 1 else ""))
    if "gunicorn" in args.servers and not redis_ok:
        print(f"  (no Redis at {args.redis} to share: one gunicorn process)")
    print(f'  MICROBLOG_API_RATE_LIMIT="{RATE_LIMIT}" (default 300 per 5 minutes)')
    results = {}
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
            print(f"\n== SQLite + Whoosh: {args.out / f'timeline-{args.users}-{args.posts}.db'}")
            results = measure_site(sqlite_site(args, Path(tmp)), args, Path(tmp), redis_ok)
    if args.postgres:
        with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp, ExitStack() as stack:
            print(f"\n== PostgreSQL + post_search: {args.postgres.split('@')[-1]}")
            measure_site(postgres_site(args, Path(tmp), stack), args, Path(tmp), redis_ok)
    for peer in args.peer:
        from bench import gotosocial

        gotosocial.side_by_side(Path(peer.partition("=")[2]), results, args)
    print(f"\n  load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
