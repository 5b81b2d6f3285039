"""The deployment under load: nginx in front of one gunicorn process, then two, on PostgreSQL + Redis.

    .venv/bin/python bench/deploy.py                     # 2,000 users, 200,000 posts, 16 clients
    .venv/bin/python bench/deploy.py --duration 30 --websockets 2000 --hold 60

Data: the demo set in --postgres (created, seeded and its post_search built on first
use by bench.api), cloned per run (CREATE DATABASE ... TEMPLATE), dropped afterwards.
Servers: N `gunicorn -c deploy/gunicorn.conf.py` (one gevent worker each) with the
production settings of deploy/microblog.env.example (JSON logs, MICROBLOG_PROXY_HOPS=1,
Redis as queue and rate-limit storage, search backend `postgres`) and the API rate
limit raised to "1000000 per minute", behind nginx running deploy/nginx/microblog.conf
(tests/nginx.py).  Everything goes through nginx.  For N = 1, then 2:
 - --clients threads, each a demo user with its own personal access token, fetch the
   stylesheet that nginx serves itself: nginx's own cost, the first baseline
 - they POST /api/v1/statuses, then GET /api/v1/timelines/home?limit=20 once the search
   outbox is drained; then the same against bench.api:bare_app (a real status's and
   home page's bytes) behind the same site: the second baseline
 - a gevent child process opens --websockets Socket.IO connections (Engine.IO 4 over a
   raw websocket, the token in the CONNECT packet, subscribed to the public stream),
   each from its own 127.1.x.y address, so that the site's `hash $remote_addr` spreads
   them as it spreads users; after --hold s: each process's microblog_socketio_clients
   (its own /metrics) and RSS, and the time from a POST to each connection's update.
   Baseline: bench.websockets:bare_realtime() (python-socketio on Redis, no database).
Any non-2xx answer counts as an error; posts stored must equal the 2xx answers.
Targets (the issue), two processes: >= 400 posts/s and >= 1,500 home pages/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import api, load, servers, websockets  # noqa: E402
from bench.fanout import rss_mib  # noqa: E402
from bench.stats import fmt, pct  # noqa: E402
from tests.nginx import NGINX, nginx_available, running_nginx  # noqa: E402

STATIC = "/static/css/site.css?v=x"
PRODUCTION = {"MICROBLOG_LOG_FORMAT": "json", "MICROBLOG_PROXY_HOPS": "1"}  # as microblog.env.example
NGINX_WORKERS = "auto"
TARGETS = {"post": 400, "home": 1500}  # req/s with two processes on PostgreSQL + Redis (the issue)

# -- deployments and phases --------------------------------------------------------------------


@dataclass
class Deployment:
    """N server processes behind nginx: where clients connect, what is measured."""

    port: int
    ports: list[int]
    pids: list[int]
    nginx_pid: int


@contextmanager
def behind_nginx(app_spec: str, env: dict, count: int, folder: Path, ready: str) -> Iterator[Deployment]:
    """Run `count` gunicorn processes serving app_spec behind nginx with the shipped site."""
    folder.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        started = servers.start_servers(stack, app_spec, env, count, folder, ready)
        ports, port, nginx_dir = [p for _, p, _ in started], servers.free_port(), folder / "nginx"
        stack.enter_context(running_nginx(nginx_dir, port, ports, workers=NGINX_WORKERS))
        yield Deployment(
            port, ports, [proc.pid for proc, _, _ in started], int((nginx_dir / "nginx.pid").read_text())
        )
        check_logs(folder, nginx_dir)


def check_logs(folder: Path, nginx_dir: Path) -> None:
    """Print the errors in the servers' logs (text or JSON) and in nginx's."""
    logs = sorted(folder.glob("*.log"))
    api.check_logs(logs)
    for log in logs:
        if errors := log.read_text(errors="replace").count('"level": "ERROR"'):
            print(f"  ! {log.name}: {errors} JSON log lines at level ERROR")
    levels = re.compile(r"\[(error|crit|alert|emerg)\]")
    if lines := [line for line in (nginx_dir / "error.log").read_text().splitlines() if levels.search(line)]:
        print(f"  ! nginx error.log: {len(lines)} lines at level error or worse; the first: {lines[0]}")


class SiteClient(load.Client):
    """A benchmark client that also fetches the site's stylesheet, which nginx serves itself."""

    def static(self) -> tuple[int, bytes]:
        return self.call("GET", STATIC)


def phase(clients: list[SiteClient], action: str, seconds: float, site: Deployment) -> load.Phase:
    """Run one bench.api phase through nginx; add nginx's CPU (master and workers) to its figures."""
    before = load.cpu_seconds([site.nginx_pid])
    result = load.run_phase(clients, action, seconds, site.pids)
    result.cpu["nginx"] = (load.cpu_seconds([site.nginx_pid]) - before) / result.seconds
    return result


def http_phases(clients: list[SiteClient], site: Deployment, args, drained=None) -> dict:
    """Warm up (untimed), then POST, wait for the search outbox to drain, then GET home."""
    results = {
        "warm-up post": phase(clients, "post", 2, site),
        "warm-up home": phase(clients, "home", 2, site),
    }
    results["post"] = phase(clients, "post", args.duration, site)
    results["drain"] = drained() if drained else None
    results["home"] = phase(clients, "home", args.duration, site)
    return results


def socketio_clients(port: int) -> int:
    """Return microblog_socketio_clients from one process's own /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    return int(float(re.search(r"^microblog_socketio_clients (\S+)$", text, re.M).group(1)))


def hold_websockets(site: Deployment, tokens: list[str], author: str, args) -> dict:
    """Open websockets through nginx, hold them, count them per process, time posts by `author` (a token)."""
    idle = [rss_mib(pid) for pid in site.pids]
    command = websockets.worker_command()
    worker = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        worker.stdin.write(json.dumps({"port": site.port, "tokens": tokens}) + "\n")
        worker.stdin.flush()
        result = json.loads(worker.stdout.readline())
        time.sleep(args.hold)
        result["per process"] = [socketio_clients(port) for port in site.ports]
        result["rss"] = list(zip(idle, [rss_mib(pid) for pid in site.pids], strict=True))
        sent, poster = {}, SiteClient(site.port, author, [])  # a new connection: idle ones time out
        for i in range(args.deliveries + 1):  # the first one warms up, untimed
            mark = websockets.new_mark()
            started = time.time()
            status, _ = poster.call(
                "POST", load.STATUSES, urllib.parse.urlencode({"status": f"Check {mark}"})
            )
            if status == 200 and i:
                sent[mark] = started
            time.sleep(2)
        worker.stdin.write("DONE\n")
        worker.stdin.flush()
        result.update(json.loads(worker.stdout.readline()))
        worker.wait(timeout=60)
    finally:
        servers.stop(worker)
    result["posts"], arrivals = len(sent), result["arrivals"]
    result["ms"] = [(t - sent[m]) * 1000 for m in sent for t in arrivals.get(m, [])]
    result["last ms"] = [(max(arrivals.get(m, [0])) - sent[m]) * 1000 for m in sent]
    return result


def microblog_runs(count: int, site: api.Site, env: dict, people: dict, args, tmp: Path) -> dict:
    """Measure nginx's static file, then microblog's API and websockets, with `count` processes."""
    with behind_nginx("wsgi:app", env, count, tmp / f"microblog-{count}", "/api/v1/instance") as deployment:
        clients = [SiteClient(deployment.port, token, people["texts"][i]) for i, token in people["http"]]
        out = {"static": phase(clients, "static", args.duration, deployment)}
        before = api.table_count(site.url, "posts")
        out.update(http_phases(clients, deployment, args, lambda: api.wait_drained(site.url)))
        out["stored"] = api.table_count(site.url, "posts") - before
        out["answered"] = len(out["warm-up post"].ms) + len(out["post"].ms)
        for key, (status, body) in {"HOME": clients[0].home(), "STATUS": clients[0].post()}.items():
            assert status == 200, (key, status, body[:300])
            (tmp / f"bare-{key}.json").write_bytes(body)
        out["static bytes"] = len(clients[0].static()[1])
        out["ws"] = hold_websockets(deployment, people["ws"], people["http"][0][1], args)
    return out


def bare_runs(count: int, env: dict, people: dict, args, tmp: Path) -> dict:
    """Measure bench.api's bare app, then the bare Socket.IO app, with `count` processes."""
    env = {**env, **{f"BENCH_BARE_{k}": str(tmp / f"bare-{k}.json") for k in ("HOME", "STATUS")}}
    with behind_nginx("bench.api:bare_app", env, count, tmp / f"bare-{count}", load.HOME) as deployment:
        clients = [SiteClient(deployment.port, token, people["texts"][i]) for i, token in people["http"]]
        out = http_phases(clients, deployment, args)
    realtime = tmp / f"bare-realtime-{count}"
    with behind_nginx("bench.websockets:bare_realtime()", env, count, realtime, "/metrics") as deployment:
        out["ws"] = hold_websockets(deployment, people["ws"], "", args)
    return out


# -- data and tokens ---------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    """Create the benchmark's PostgreSQL database when it does not exist (it is seeded on first use)."""
    from sqlalchemy import create_engine, make_url, text

    source = make_url(url)
    admin = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = text("SELECT 1 FROM pg_database WHERE datname = :name")
        if not connection.scalar(exists, {"name": source.database}):
            connection.execute(text(f'CREATE DATABASE "{source.database}"'))
    admin.dispose()


def make_tokens(site: api.Site, names: list[str]) -> list[str]:
    """Return a new personal access token for each user (the service `flask users token` calls)."""
    from sqlalchemy import select

    from microblog.database import db
    from microblog.services.tokens import create_personal_token
    from models import User

    app = api.demo_app(site.url, site.data_dir, site.backend)
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_(names)))}
        values = [create_personal_token(users[name], "deploy bench")[1] for name in names]
        db.session.remove()
        db.engine.dispose()
    return values


def people_for(site: api.Site, args) -> dict:
    """Pick the users (the HTTP clients' first), make their tokens, and the clients' texts to post."""
    api.read_names(site)
    count = min(len(site.usernames), max(args.clients, args.websockets))
    names = random.Random(args.seed).sample(site.usernames, count)
    started = time.perf_counter()
    tokens = make_tokens(site, names)
    print(f"  {len(tokens):,} personal access tokens made in {time.perf_counter() - started:.0f} s")
    texts = [
        api.status_texts(random.Random(args.seed + i), site.usernames, site.tags, 500)
        for i in range(args.clients)
    ]
    ws = [tokens[i % len(tokens)] for i in range(args.websockets)]
    return {"http": list(enumerate(tokens[: args.clients])), "texts": texts, "ws": ws}


# -- report ------------------------------------------------------------------------------------


def report_http(results: dict, args) -> None:
    """Print the HTTP figures, each next to the bare app's and nginx's static file's of the same run."""
    size = next(iter(results.values()))["microblog"]["static bytes"]
    print(f"\n== HTTP through nginx, {args.clients} clients (static: {STATIC}, {size:,} bytes)")
    print(
        "  (ms: p50 / p99)         microblog req/s     p50 /     p99   bare req/s     p50 /     p99"
        "   static req/s     p50 /     p99  req/s: /bare /static  p50: /bare"
    )
    for key, label in (("post", "POST statuses"), ("home", "GET home")):
        for n, run in results.items():
            ours, bare, static = run["microblog"][key], run["bare"][key], run["microblog"]["static"]
            print(
                f"  {label:13} {n} proc{'s' if n > 1 else ' '} {ours.rate:10.1f}  {fmt(ours.ms)}"
                f" {bare.rate:12.1f}  {fmt(bare.ms)} {static.rate:14.1f}  {fmt(static.ms)}"
                f"  {ours.rate / bare.rate:11.3f}x {ours.rate / static.rate:6.3f}x"
                f" {pct(ours.ms, 50) / pct(bare.ms, 50):9.1f}x"
            )
    if {1, 2} <= results.keys():
        for key in ("post", "home"):
            scale = {
                who: results[2][who][key].rate / results[1][who][key].rate for who in ("microblog", "bare")
            }
            static = results[2]["microblog"]["static"].rate / results[1]["microblog"]["static"].rate
            print(
                f"  {key} req/s, 2 processes / 1: microblog {scale['microblog']:.2f}x,"
                f" bare {scale['bare']:.2f}x, nginx static (same setup both times) {static:.2f}x"
            )
    if 2 in results:
        ours = results[2]["microblog"]
        said = [
            f"{key} >= {bound:,} req/s: {rate:,.0f} {'met' if rate >= bound else 'MISSED'}"
            for key, bound in TARGETS.items()
            if (rate := ours[key].rate) is not None
        ]
        print(f"  targets (the issue), 2 processes through nginx: {'; '.join(said)}")


def report_checks(results: dict) -> None:
    """Print posts stored next to 2xx answers, the search outbox's drain, each phase's CPU and errors."""
    for n, run in results.items():
        ours = run["microblog"]
        print(
            f"  {n} proc: posts stored {ours['stored']:,}, 2xx answers to POST {ours['answered']:,}"
            f" ({'equal' if ours['stored'] == ours['answered'] else 'DIFFERENT'}); search outbox after"
            f" the POST phase {ours['drain'][0]:,} rows, drained in {ours['drain'][1]:.1f} s"
        )
    print("  CPU cores busy (client threads / gunicorn processes / nginx / whole machine) and errors:")
    rows = (("microblog", "static"), *((w, k) for k in ("post", "home") for w in ("microblog", "bare")))
    for n, run in results.items():
        for who, key in rows:
            cpu, errors = (
                run[who][key].cpu,
                ", ".join(f"{k}: {v}" for k, v in sorted(run[who][key].errors.items())),
            )
            print(
                f"    {n} proc {key:6} {'nginx' if key == 'static' else who:9} {cpu['client']:.2f} /"
                f" {cpu['servers']:.2f} / {cpu['nginx']:.2f} / {cpu['machine']:.2f};"
                f" errors: {errors or 'none'}"
            )
            if run[who][key].sample_error:
                print(f"             first error body: {run[who][key].sample_error!r}")


def report_websockets(results: dict, args) -> None:
    """Print the websockets held per process and their deliveries, microblog next to bare Socket.IO."""
    print(f"\n== Socket.IO websockets through nginx: {args.websockets:,} asked, held {args.hold:.0f} s")
    print(
        "  server            opened in s  failed  alive  per process (/metrics)  RSS MiB per process:"
        " idle -> held (KiB/conn)  delivery p50 / p99 ms, last p50 (missing)"
    )
    for n, run in results.items():
        for who in ("microblog", "bare"):
            ws = run[who]["ws"]
            alive = ws["opened"] - sum(ws["dropped"].values())
            rss = ", ".join(f"{a:.0f} -> {b:.0f}" for a, b in ws["rss"])
            per_conn = sum(b - a for a, b in ws["rss"]) * 1024 / max(1, sum(ws["per process"]))
            delivery = f"{fmt(ws['ms'])}, {pct(ws['last ms'], 50):7.1f}" if ws["ms"] else "none arrived"
            print(
                f"  {who:9} {n} proc {ws['opened']:6,} {ws['seconds']:5.1f}  {sum(ws['failed'].values()):6}"
                f" {alive:6,}  {' + '.join(map(str, ws['per process'])):22}  {rss:>22} ({per_conn:4.0f})"
                f"        {delivery} ({ws['posts'] * alive - len(ws['ms'])})"
            )
            for what in ("failed", "dropped"):
                if ws[what]:
                    print(f"            {what}: {ws[what]}")
    print(
        f"  delivery: POST through nginx to the update arriving, {args.deliveries} posts per row (after one"
        " untimed), over every (connection, post); `last`: the slowest connection, per post"
    )


# -- main --------------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15, help="seconds per HTTP phase")
    parser.add_argument("--websockets", type=int, default=2000, help="Socket.IO connections, in total")
    parser.add_argument("--hold", type=float, default=30, help="seconds to hold them (pings come every 25 s)")
    parser.add_argument("--deliveries", type=int, default=3, help="posts timed to every websocket")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=7, help="same seed, same users and texts")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5", help="queue and rate-limit storage")
    default = "postgresql+psycopg://postgres@127.0.0.1:5432/microblog_deploy_bench"
    parser.add_argument("--postgres", metavar="URL", default=default, help="seeded on first use")
    return parser.parse_args()


def print_setup(args) -> None:
    """Print what runs: the command, the machine's load, the servers and their settings."""
    version = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip()
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    settings = ", ".join(f"{k}={v}" for k, v in PRODUCTION.items())
    print(
        f"Deploy benchmark: {args.users:,} users, {args.posts:,} posts, PostgreSQL + Redis, {args.clients}"
        f" clients, {args.duration:.0f} s per phase\n"
        f"  command: {shlex.join([os.path.relpath(sys.executable), *sys.argv])}\n"
        f"  machine: {os.cpu_count()} cores, load average {load}\n"
        f"  servers: N x gunicorn -c deploy/gunicorn.conf.py (1 gevent worker each); {version},"
        f" worker_processes {NGINX_WORKERS}, deploy/nginx/microblog.conf via tests/nginx.py\n"
        f"  MICROBLOG_ENV=production, {settings}, MICROBLOG_REDIS_URL={args.redis},\n"
        f'  MICROBLOG_API_RATE_LIMIT="{api.RATE_LIMIT}" for the run'
        " (the default, 300 per 5 minutes per token, would throttle it)"
    )


def main() -> None:
    args = arguments()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    if not api.redis_available(args.redis) or not nginx_available():
        raise SystemExit(f"needs Redis at {args.redis} and nginx at {NGINX}")
    print_setup(args)
    ensure_database(args.postgres)
    with tempfile.TemporaryDirectory(prefix="deploy-bench-") as tmp, ExitStack() as stack:
        site = api.postgres_site(args, Path(tmp), stack)
        env = {**api.server_env(site, args, True), **PRODUCTION}
        people = people_for(site, args)
        results = {}
        for n in args.processes:
            print(f"  measuring with {n} process{'es' if n > 1 else ''} (load {os.getloadavg()[0]:.2f})")
            results[n] = {"microblog": microblog_runs(n, site, env, people, args, Path(tmp))}
            results[n]["bare"] = bare_runs(n, env, people, args, Path(tmp))
    report_http(results, args)
    report_checks(results)
    report_websockets(results, args)
    print(f"  load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
