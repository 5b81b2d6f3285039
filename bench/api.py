"""The JSON API under 8 concurrent clients, through real server processes, next to a bare Flask app.

    .venv/bin/python bench/api.py                        # SQLite + Whoosh, 5,000 users, 1,000,000 posts
    .venv/bin/python bench/api.py --postgres URL         # ... and PostgreSQL (postgres search backend) too
    .venv/bin/python bench/api.py --duration 60 --clients 8

Data: the demo set of bench/timeline.py (bench/out/timeline-<users>-<posts>.db and
its Whoosh index bench/out/search, seeded there once if missing), or the given
PostgreSQL database (seeded `--no-index` once; its post_search index built once).
Every run works on a copy, deleted afterwards, so the posts it writes never reach
the cached data: the SQLite file and index directory are copied to a temporary
directory, a PostgreSQL database is cloned with CREATE DATABASE ... TEMPLATE.

Servers, the production way: two gunicorn processes, each `-c deploy/gunicorn.conf.py`
(one gevent worker per process, scale out by processes), MICROBLOG_ENV=production,
sharing Redis (--redis) as Socket.IO queue and rate-limit storage; half of the
clients talk to each process, as sticky routing in front would.  The API rate
limit is raised to MICROBLOG_API_RATE_LIMIT="1000000 per minute" (the default,
300 per 5 minutes per token, would throttle the run).

Clients: threads of this process, each a different demo user with its own token
(`flask users token`; the OAuth password grant where that command is missing)
and one persistent HTTP/1.1 connection (http.client).  Phases, in this order:
 1. POST /api/v1/statuses for --duration s, as fast as they can: texts like the
    demo's (some @mention demo users, most carry #tags, popular tags more often);
    indexing (search outbox) and realtime fan-out happen as in production
 2. GET /api/v1/timelines/home?limit=20 for --duration s, once the outbox is drained
 3. both again with one client for --unloaded s (latency without queueing)
The bare baseline: the same clients and phases against bench.api:bare_app under
the same gunicorn setup, answering the exact bytes of one real home page and one
real status.  Any non-2xx answer counts as an error.  Targets (the issue): POST
p50 < 20 ms, home p50 < 25 ms, >= 200 posts/s sustained (with the 8 clients).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from itertools import cycle
from pathlib import Path
from subprocess import PIPE

from flask import Flask, Response, request

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The end-to-end tests' server helpers: one way to pick a port, wait for a server and stop it.
from tests.server import free_port, running_search_worker, stop, wait_until_answering  # noqa: E402

PY = sys.executable
GUNICORN = [PY, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
RATE_LIMIT = "1000000 per minute"
HOME = "/api/v1/timelines/home?limit=20"
STATUSES = "/api/v1/statuses"
TARGET_POST_P50, TARGET_HOME_P50, TARGET_POSTS_PER_S = 20.0, 25.0, 200.0

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
    """Fill in the site's usernames and tag names (by id: the demo's popular ones first)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(site.url)
    with engine.connect() as connection:
        site.usernames = list(connection.scalars(text("SELECT username FROM users ORDER BY id")))
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


def start_servers(stack: ExitStack, app_spec: str, env: dict, count: int, logs: Path, ready: str) -> list:
    """Start `count` gunicorn processes serving app_spec; return (process, port, log) once `ready` answers.

    microblog's (wsgi:app) get the installation's search worker beside them, as deployed.
    """
    if app_spec == "wsgi:app":
        stack.enter_context(running_search_worker(env))
    servers = []
    for i in range(count):
        port = free_port()
        log = logs / f"{app_spec.replace(':', '-')}-{i}.log"
        out = stack.enter_context(log.open("w"))
        proc = subprocess.Popen(
            [*GUNICORN, app_spec],
            cwd=ROOT,
            env={**env, "MICROBLOG_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        stack.callback(stop, proc)
        servers.append((proc, port, log))
    for proc, port, log in servers:
        wait_until_answering(f"http://127.0.0.1:{port}{ready}", proc, log, timeout=60)
    return servers


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


# -- clients and phases -----------------------------------------------------------------------


class Client:
    """One benchmark client: a user's token, texts to post and a persistent connection to one server."""

    def __init__(self, port: int, token: str, texts: list[str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.texts = cycle(texts)

    def call(self, method: str, path: str, body: str | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the next call reconnects
            raise

    def post(self) -> tuple[int, bytes]:
        return self.call("POST", STATUSES, urllib.parse.urlencode({"status": next(self.texts)}))

    def home(self) -> tuple[int, bytes]:
        return self.call("GET", HOME)


@dataclass
class Phase:
    """What one phase measured: latencies of the 2xx answers (ms), errors, seconds and CPU."""

    ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    sample_error: bytes = b""
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return len(self.ms) / self.seconds


def cpu_seconds(pids: list[int]) -> float:
    """Return the CPU seconds used so far by these processes and their children (gunicorn workers)."""
    total = 0
    for pid in pids:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for p in [pid, *map(int, children)]:
            try:
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """Return (busy, total) CPU seconds of the whole machine so far."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:8]]
    tick = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / tick, sum(ticks) / tick  # idle and iowait are not busy


def run_phase(clients: list[Client], action: str, seconds: float, server_pids: list[int]) -> Phase:
    """Let every client call `action` (post or home) back to back for `seconds`; return what they measured."""
    phase = Phase()
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients) + 1)

    def work(client: Client) -> None:
        call, mine, errors, sample = getattr(client, action), [], Counter(), b""
        barrier.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                status, body = call()
            except (OSError, http.client.HTTPException) as error:
                errors[type(error).__name__] += 1
                continue
            if 200 <= status < 300:
                mine.append((time.perf_counter() - start) * 1000)
            else:
                errors[str(status)] += 1
                sample = body[:300]
        with lock:
            phase.ms.extend(mine)
            phase.errors.update(errors)
            phase.sample_error = phase.sample_error or sample

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    server_before, machine_before = cpu_seconds(server_pids), machine_busy()
    client_before = time.process_time()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    busy, total = (now - before for now, before in zip(machine_busy(), machine_before, strict=True))
    phase.cpu = {
        "client": (time.process_time() - client_before) / phase.seconds,
        "servers": (cpu_seconds(server_pids) - server_before) / phase.seconds,
        "machine": busy / total * (os.cpu_count() or 1),
    }
    return phase


def measure(clients: list[Client], single: list[Client], pids: list[int], args, drained=None) -> dict:
    """Run the phases (warm-up first, untimed); `drained` waits for the search outbox before the reads."""
    results = {"warm-up post": run_phase(clients, "post", 2, pids)}
    results["warm-up home"] = run_phase(clients, "home", 2, pids)
    results["post"] = run_phase(clients, "post", args.duration, pids)
    results["drain"] = drained() if drained else None
    results["home"] = run_phase(clients, "home", args.duration, pids)
    results["post 1"] = run_phase(single, "post", args.unloaded, pids)
    results["home 1"] = run_phase(single, "home", args.unloaded, pids)
    return results


# -- one site ---------------------------------------------------------------------------------


def run(site: Site, args: argparse.Namespace, tmp: Path, redis_ok: bool) -> None:
    read_names(site)
    rng = random.Random(args.seed)
    names = rng.sample(site.usernames, args.clients)
    texts = [
        status_texts(random.Random(args.seed + i), site.usernames, site.tags, 500) for i in range(len(names))
    ]
    env = server_env(site, args, redis_ok)
    processes = 2 if redis_ok else 1
    with ExitStack() as stack:
        servers = start_servers(stack, "wsgi:app", env, processes, tmp, "/api/v1/instance")
        how, tokens = tokens_for(env, servers[0][1], names)
        print(f"  {args.clients} users, tokens {how}: {', '.join(names)}")
        ports = [port for _, port, _ in servers]

        def clients_on(ports: list[int]) -> list[Client]:
            return [Client(ports[i % len(ports)], t, texts[i]) for i, t in enumerate(tokens)]

        clients = clients_on(ports)
        before = table_count(site.url, "posts")
        pids = [proc.pid for proc, _, _ in servers]
        ours = measure(clients, clients[:1], pids, args, lambda: wait_drained(site.url))
        bodies = {"HOME": clients[0].home(), "STATUS": clients[0].post()}
        stored = table_count(site.url, "posts") - before
        answered = 1 + sum(len(ours[key].ms) for key in ("warm-up post", "post", "post 1"))
        for key, (status, body) in bodies.items():
            assert status == 200, (key, status, body[:300])
            (tmp / f"bare-{key}.json").write_bytes(body)
        check_logs([log for _, _, log in servers])
        for proc, _, _ in servers:
            stop(proc)
        bare_env = {**env, **{f"BENCH_BARE_{k}": str(tmp / f"bare-{k}.json") for k in bodies}}
        bare_servers = start_servers(stack, "bench.api:bare_app", bare_env, processes, tmp, HOME)
        bare_clients = clients_on([port for _, port, _ in bare_servers])
        bare = measure(bare_clients, bare_clients[:1], [proc.pid for proc, _, _ in bare_servers], args)
    sizes = {k: len(body) for k, (_, body) in bodies.items()}
    report(ours, bare, sizes, args)
    print(f"  posts stored by the run: {stored:,}; 2xx answers to POST counted: {answered:,}")


def check_logs(logs: list[Path]) -> None:
    """Print the server errors the logs hold (a benchmark must not hide them)."""
    for log in logs:
        text = log.read_text(errors="replace")
        failures = text.count("Traceback") + text.count("[ERROR]")
        if failures:
            first = text[max(0, text.find("Traceback")) :][:1500]
            print(f"  ! {log.name}: {failures} errors/tracebacks in the server log; the first:\n{first}")


# -- report -----------------------------------------------------------------------------------


def report(ours: dict, bare: dict, sizes: dict, args: argparse.Namespace) -> None:
    from bench.stats import fmt

    def p50(phase: Phase) -> float:
        return sorted(phase.ms)[len(phase.ms) // 2]

    print(f"  bare bodies: home page {sizes['HOME']:,} bytes, status {sizes['STATUS']:,} bytes")
    print(
        "  (ms, p50 / p99)                 microblog req/s     p50 /     p99"
        "       bare req/s     p50 /     p99   p50 ratio  req/s ratio"
    )
    for key, label in (
        ("post", f"POST statuses, {args.clients} clients"),
        ("home", f"GET home, {args.clients} clients"),
        ("post 1", "POST statuses, 1 client"),
        ("home 1", "GET home, 1 client"),
    ):
        a, b = ours[key], bare[key]
        print(
            f"  {label:30} {a.rate:10.1f}  {fmt(a.ms)}   {b.rate:10.1f}  {fmt(b.ms)}"
            f"   {p50(a) / p50(b):8.1f}x  {a.rate / b.rate:10.3f}x"
        )
    for key in ("post", "home", "post 1", "home 1"):
        for who, phase in (("microblog", ours[key]), ("bare", bare[key])):
            cpu = phase.cpu
            line = f"client {cpu['client']:.2f}, servers {cpu['servers']:.2f}, machine {cpu['machine']:.2f}"
            errors = ", ".join(f"{k}: {n}" for k, n in sorted(phase.errors.items())) or "none"
            print(f"    {key:7} {who:9} CPU cores busy: {line}; errors: {errors}")
            if phase.sample_error:
                print(f"            first error body: {phase.sample_error!r}")
    backlog, waited = ours["drain"]
    print(f"  search outbox after the POST phase: {backlog:,} rows, drained in {waited:.1f} s")
    post, home = ours["post"], ours["home"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    print(
        f"  targets ({args.clients} clients): POST p50 < {TARGET_POST_P50:.0f} ms: {p50(post):.1f} "
        f"{verdict(p50(post) < TARGET_POST_P50)}; home p50 < {TARGET_HOME_P50:.0f} ms: {p50(home):.1f} "
        f"{verdict(p50(home) < TARGET_HOME_P50)}; >= {TARGET_POSTS_PER_S:.0f} posts/s: {post.rate:.0f} "
        f"{verdict(post.rate >= TARGET_POSTS_PER_S)}"
    )


def redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.RedisError:
        return False


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20, help="seconds per 8-client phase")
    parser.add_argument("--unloaded", type=float, default=5, help="seconds per 1-client phase")
    parser.add_argument("--seed", type=int, default=7, help="same seed, same users and texts")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5", help="queue and rate-limit storage")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="SQLite file and data dir")
    parser.add_argument("--postgres", metavar="URL", help="also run on this (empty or seeded) database")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    redis_ok = redis_available(args.redis)
    print(
        f"API benchmark: {args.users:,} users, {args.posts:,} posts; {args.clients} clients, "
        f"{args.duration:.0f} s per phase ({args.unloaded:.0f} s with 1 client)"
    )
    if redis_ok:
        print(f"  servers: 2 x gunicorn -c deploy/gunicorn.conf.py (1 gevent worker each), {args.redis}")
    else:
        print(f"  servers: 1 x gunicorn -c deploy/gunicorn.conf.py: no Redis at {args.redis} to share")
    print(f'  MICROBLOG_ENV=production, MICROBLOG_API_RATE_LIMIT="{RATE_LIMIT}" (default 300 per 5 minutes)')
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
            print(f"\n== SQLite + Whoosh: {args.out / f'timeline-{args.users}-{args.posts}.db'}")
            run(sqlite_site(args, Path(tmp)), args, Path(tmp), redis_ok)
    if args.postgres:
        with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp, ExitStack() as stack:
            print(f"\n== PostgreSQL + post_search: {args.postgres.split('@')[-1]}")
            run(postgres_site(args, Path(tmp), stack), args, Path(tmp), redis_ok)


if __name__ == "__main__":
    main()
