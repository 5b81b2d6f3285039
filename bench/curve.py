"""The follower curve: POST latency and live delivery for authors with 1 to 5,000 followers.

    .venv/bin/python bench/api.py --curve --no-load               # only the curve, both server kinds
    .venv/bin/python bench/api.py --curve --servers gunicorn --connected 1000 --curve-posts 30

Run by bench/api.py on its copy of the demo set, after its loaded phases.  Before
the servers start, four demo people become authors with exactly 1, 100, 1,000 and
5,000 followers (capped at the people there are): their follows rows are written
straight into the copy, from one shuffled order of the other people, so that the
first --connected of them follow every author with that many followers or more.
Their counters are set to match.

For each server kind of bench/servers.py, microblog first, then its bare baseline:
 - --curve-clients gevent child processes (bench/websockets.py) open --connected Socket.IO websockets,
   one per follower, each with its own personal access token, left on its `user`
   stream (their home timelines), spread over the kind's processes as bench/api.py
   spreads its clients; each process's own memory (RssAnon) is read idle and with them held
 - each author in turn posts --curve-posts marked texts (no tags, no mentions: the
   followers are the audience), one at a time, --curve-gap s apart, after two untimed
   ones, through the first process; POST latency is timed by the poster, delivery from
   before the POST to each connected follower's `update` (over every (follower, post))
 - bare: bench.websockets:bare_realtime() under the same kind (python-socketio, no
   database), the same connections in one room each, a POST emitting one update (the
   bytes of one of microblog's curve statuses) to as many rooms as the author has
   followers, one per follower, as microblog does
The clients' own CPU per update received is printed: on two cores they share the
machine with the servers, and with 1,000 connections in one Python process their
reading is part of every delivery time, the bare baseline's too.
Targets (the issue): POST p50 at 5,000 followers within 1.5x of 1 follower; delivery
p99 < 250 ms to every connected follower.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
import urllib.parse
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from bench import websockets
from bench.api import Site, check_logs, search_worker
from bench.load import STATUSES, Client, cpu_seconds
from bench.servers import ROOT, Kind, start_servers, stop
from bench.stats import fmt, pct

LEVELS = (1, 100, 1000, 5000)
BARE = "bench.websockets:bare_realtime()"
TARGET_RATIO, TARGET_DELIVERY_P99 = 1.5, 250.0
FOLLOW = "(follower_id, followee_id, created_at) VALUES (:f, :a, CURRENT_TIMESTAMP)"


def make_followers(site: Site, args) -> dict:
    """Give four people exactly LEVELS followers in the copy; return them, the connected, and tokens."""
    from sqlalchemy import create_engine, text

    from bench.deploy import make_tokens
    from models.user import PERSON

    engine = create_engine(site.url)
    with engine.begin() as connection:
        people = list(
            connection.execute(
                text("SELECT id, username FROM users WHERE kind = :k ORDER BY id"), {"k": PERSON}
            )
        )
        random.Random(args.seed + 1).shuffle(people)
        authors, others = people[: len(LEVELS)], people[len(LEVELS) :]
        levels = []
        for n, (author_id, _name) in zip(LEVELS, authors, strict=True):
            pool = others + [a for a in authors if a[0] != author_id]
            followers = pool[: min(n, len(pool))]
            levels.append(len(followers))
            connection.execute(text("DELETE FROM follows WHERE followee_id = :a"), {"a": author_id})
            connection.execute(
                text(f"INSERT INTO follows {FOLLOW}"),
                [{"f": f, "a": author_id} for f, _ in followers],
            )
        counted = "(SELECT count(*) FROM follows WHERE {} = users.id)"
        connection.execute(
            text(
                f"UPDATE users SET followers_count = {counted.format('followee_id')},"
                f" following_count = {counted.format('follower_id')}"
            )
        )
    engine.dispose()
    connected = [name for _, name in others[: args.connected]]
    started = time.perf_counter()
    tokens = make_tokens(site, [name for _, name in authors] + connected)
    print(
        f"  curve: authors {', '.join(f'{a[1]} ({n:,})' for a, n in zip(authors, levels, strict=True))};"
        f" {len(connected):,} followers' tokens made in {time.perf_counter() - started:.0f} s"
    )
    return {"levels": levels, "authors": tokens[: len(LEVELS)], "connected": tokens[len(LEVELS) :]}


def anon_mib(pid: int) -> float:
    """Return a process's anonymous resident memory (RssAnon: its own state, not mapped files) in MiB.

    gunicorn's workers are counted with their master.  RSS would also count the pages of the
    SQLite file and the Whoosh segments that the process has mapped and read.
    """
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    total = 0
    for p in [pid, *map(int, children)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        total += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("RssAnon:"))
    return total / 1024


def open_followers(
    ports: list[int], tokens: list[str], processes: int
) -> tuple[list[subprocess.Popen], dict]:
    """Start gevent client processes with one websocket per token (dealt out), on its `user` stream."""
    workers, result = [], {"opened": 0, "failed": Counter(), "seconds": 0.0}
    for share in range(processes):
        worker = subprocess.Popen(
            websockets.worker_command(), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert worker.stdin is not None
        spec = {"ports": ports, "tokens": tokens[share::processes], "subscribe": False}
        worker.stdin.write(json.dumps(spec) + "\n")
        worker.stdin.flush()
        workers.append(worker)
    for worker in workers:
        assert worker.stdout is not None
        opened = json.loads(worker.stdout.readline())
        result["opened"] += opened["opened"]
        result["failed"].update(opened["failed"])
        result["seconds"] = max(result["seconds"], opened["seconds"])
    return workers, result


def close_followers(workers: list[subprocess.Popen], result: dict) -> None:
    """Tell the client processes to report; add their arrivals and dropped connections to result."""
    result["dropped"], result["arrivals"], result["received"] = Counter(), {}, Counter()
    for worker in workers:
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write("DONE\n")
        worker.stdin.flush()
        done = json.loads(worker.stdout.readline())
        result["dropped"].update(done["dropped"])
        result["received"].update(done["received"])
        for mark, times in done["arrivals"].items():
            result["arrivals"].setdefault(mark, []).extend(times)
        worker.wait(timeout=60)


def post_marked(
    port: int, token: str, count: int, gap: float, audience: int | None, keep: Path | None = None
) -> tuple[dict, list]:
    """Post `count` marked texts (after two untimed); return {mark: sent at} and POST latencies (ms).

    `keep`: where to write the first answer's body (a real Status, for the bare baseline to send).
    """
    poster, sent, ms = Client(port, token, []), {}, []
    for i in range(count + 2):
        mark = websockets.new_mark()
        form = {"status": f"Curve check {mark}, nothing to see here"}
        if audience is not None:
            form["audience"] = str(audience)
        started = time.time()
        clock = time.perf_counter()
        status, body = poster.call("POST", STATUSES, urllib.parse.urlencode(form))
        took = (time.perf_counter() - clock) * 1000
        if status != 200:
            raise SystemExit(f"POST {STATUSES}: {status} {body[:300]!r}")
        if keep is not None and i == 0:
            keep.write_bytes(body)
        if i >= 2:
            sent[mark], ms = started, [*ms, took]
        time.sleep(gap)
    return sent, ms


def one_curve(kind: Kind, app_spec: str, env: dict, people: dict, args, logs: Path) -> dict:
    """Serve app_spec the kind's way, hold the followers' websockets, post as each author in turn."""
    bare = app_spec == BARE
    ready = "/metrics" if bare else "/api/v1/instance"
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        servers = start_servers(stack, app_spec, env, kind.processes, logs, ready, kind)
        if not bare:
            search_worker(stack, env, kind, logs)
        ports, pids = [port for _, port, _ in servers], [proc.pid for proc, _, _ in servers]
        idle = [anon_mib(pid) for pid in pids]
        tokens = [str(i) for i in range(len(people["connected"]))] if bare else people["connected"]
        workers, result = open_followers(ports, tokens, args.curve_clients)
        for worker in workers:
            stack.callback(stop, worker)
        time.sleep(args.hold)
        result["rss"] = list(zip(idle, [anon_mib(pid) for pid in pids], strict=True))
        result["per process"] = [websockets.metric(port, "microblog_socketio_clients") for port in ports]
        sent, result["post ms"] = {}, {}
        client_before = cpu_seconds([w.pid for w in workers])
        for level, n, token in zip(LEVELS, people["levels"], people["authors"], strict=True):
            keep = None if bare or level != LEVELS[-1] else logs.parent / "curve-STATUS.json"
            marks, result["post ms"][level] = post_marked(
                ports[0], token, args.curve_posts, args.curve_gap, n if bare else None, keep
            )
            sent[level] = marks
        result["client cpu"] = cpu_seconds([w.pid for w in workers]) - client_before
        close_followers(workers, result)
        check_logs([log for _, _, log in servers])
    arrivals, alive = result["arrivals"], result["opened"] - sum(result["dropped"].values())
    result["delivery ms"], result["last ms"], result["missing"] = {}, {}, {}
    for (level, marks), n in zip(sent.items(), people["levels"], strict=True):
        result["delivery ms"][level] = [(t - marks[m]) * 1000 for m in marks for t in arrivals.get(m, [])]
        result["last ms"][level] = [(max(arrivals.get(m, [0])) - marks[m]) * 1000 for m in marks]
        result["missing"][level] = len(marks) * min(n, alive) - len(result["delivery ms"][level])
    return result


def run_curves(site: Site, kinds: list[Kind], env: dict, args, tmp: Path) -> None:
    """Measure the curve under each server kind, microblog next to the bare baseline; print it."""
    people = make_followers(site, args)
    status = tmp / "curve-STATUS.json"  # a status of the curve's, written by microblog's run
    for kind in kinds:
        print(f"\n-- curve, {kind.label} (load average {' '.join(f'{v:.2f}' for v in os.getloadavg())})")
        ours = one_curve(kind, "wsgi:app", env, people, args, tmp / f"curve-{kind.key}")
        bare_env = {**env, "BENCH_BARE_STATUS": str(status)}
        bare = one_curve(kind, BARE, bare_env, people, args, tmp / f"curve-bare-{kind.key}")
        report(kind, ours, bare, people["levels"], args)


def delivered(run: dict) -> int:
    """Return how many updates the followers received in all."""
    return sum(len(times) for times in run["arrivals"].values())


def report(kind: Kind, ours: dict, bare: dict, levels: list[int], args) -> None:
    """Print the connections and memory, then one line per follower count, microblog next to bare."""
    for who, run in (("microblog", ours), ("bare", bare)):
        held = sum(run["per process"])
        rss = ", ".join(f"{a:.0f} -> {b:.0f}" for a, b in run["rss"])
        per_conn = sum(b - a for a, b in run["rss"]) * 1024 / max(1, held)
        print(
            f"  {who:9} websockets opened {run['opened']:,} in {run['seconds']:.1f} s, failed"
            f" {sum(run['failed'].values())}, dropped {sum(run['dropped'].values())}; per process"
            f" {' + '.join(f'{v:.0f}' for v in run['per process'])}; RssAnon MiB idle -> held {rss}"
            f" ({per_conn:.0f} KiB per connection); the clients' CPU"
            f" {run['client cpu'] * 1000 / max(1, delivered(run)):.2f} ms per update received"
        )
        kinds = ", ".join(f"{k!r} {n:,}" for k, n in run["received"].most_common(6) if k != "bytes")
        print(f"            messages received: {kinds}; {run['received']['bytes'] / 1e6:.1f} MB in all")
    print(
        f"  {args.curve_posts} posts per author, {args.curve_gap:g} s apart, one at a time\n"
        "  followers connected   POST p50 /     p99   bare p50 /     p99"
        "   delivery p50 /     p99   bare p50 /     p99   last p50  missing"
    )
    alive = ours["opened"] - sum(ours["dropped"].values())
    for n, followers in zip(ours["post ms"], levels, strict=True):
        print(
            f"  {followers:9,} {min(followers, alive):9,}"
            f"      {fmt(ours['post ms'][n])}   {fmt(bare['post ms'][n])}"
            f"        {fmt(ours['delivery ms'][n]) if ours['delivery ms'][n] else '   none arrived  '}"
            f"   {fmt(bare['delivery ms'][n]) if bare['delivery ms'][n] else '   none arrived  '}"
            f"   {pct(ours['last ms'][n], 50):8.1f} {ours['missing'][n]:8}"
        )
    first, last = min(ours["post ms"]), max(ours["post ms"])
    ratio = pct(ours["post ms"][last], 50) / pct(ours["post ms"][first], 50)
    worst = max(pct(ms, 99) for ms in ours["delivery ms"].values() if ms)
    print(
        f"  targets: POST p50 at {levels[-1]:,} followers / at {levels[0]}: {ratio:.2f}x,"
        f" {'met' if ratio <= TARGET_RATIO else 'MISSED'} (<= {TARGET_RATIO}x); delivery p99, worst"
        f" level: {worst:.0f} ms, {'met' if worst < TARGET_DELIVERY_P99 else 'MISSED'}"
        f" (< {TARGET_DELIVERY_P99:.0f} ms); missing deliveries: {sum(ours['missing'].values())}"
    )
