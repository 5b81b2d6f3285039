"""Websockets for the benchmarks: Socket.IO's, and Mastodon's streaming WebSocket next to it.

    .venv/bin/python bench/websockets.py --clients 2000    Mastodon's WebSocket next to Socket.IO, one process
    gunicorn ... "bench.websockets:bare_realtime()"        python-socketio on Redis, no database
    python -m gevent.monkey bench/websockets.py --worker   the clients (main() and bench/deploy.py start it)

The client process reads {"port": ..., "tokens": [...], "protocol": "socketio" or
"mastodon"} on stdin (optionally "ports": [...], connection i to the i-th modulo, and
"subscribe": false, Socket.IO connections left on their `user` stream) and opens one raw
websocket per token, each from its own 127.1.x.y address, subscribed to the public
stream: Engine.IO 4 with the token in the Socket.IO
CONNECT packet, or Mastodon's `/api/v1/streaming?stream=public` with the token as the
subprotocol (as masto.js sends it).  It prints how many it opened, answers pings, and on
`DONE` prints when each update carrying a MARK arrived, and how many messages of each
kind (their first 12 characters) it received.

main() measures both protocols in one run, each against a fresh gunicorn process
(deploy/gunicorn.conf.py: one gevent worker) on the same SQLite site: --clients
connections opened and held --hold s, the process's RSS and its own count of them
(/metrics), then an author posts --posts marked posts through the API, --gap s apart
(after one untimed), and each connection notes when each arrives.  Delivery: from
before the POST to the update's arrival, over every (connection, post); `last`: the
slowest connection's, per post.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOCKET_IO = "/socket.io/?EIO=4&transport=websocket"
MASTODON = "/api/v1/streaming?stream=public"
MARK = re.compile(r"deploybench[0-9a-f]{12}")
PROTOCOLS = ("socketio", "mastodon")
# Each protocol's count of its connections in a process's /metrics.
METRIC = {"socketio": "microblog_socketio_clients", "mastodon": "microblog_streaming_websockets"}


def new_mark() -> str:
    """Return a fresh marker to put in a post, which the clients time the arrival of."""
    return f"deploybench{os.urandom(6).hex()}"


# -- the baseline: gunicorn calls `bench.websockets:bare_realtime()` ----------------------------


def bare_realtime():
    """Return a bare python-socketio app: anyone connects, a POST emits one update.

    Under gevent (gunicorn's worker) on Redis, else (`python -m bench.servers`) on threads in
    memory, as microblog picks.  A connection's token names its room ("user:TOKEN"); a POST with
    `audience` N emits once to rooms user:0 .. user:N-1 (as microblog emits to each follower's
    room), else to the `public` room of the connections that subscribed.
    """
    import socketio
    from gevent import monkey

    env = os.environ
    if monkey.is_module_patched("socket"):
        mode, manager = (
            "gevent",
            socketio.RedisManager(env["MICROBLOG_REDIS_URL"], channel=env["MICROBLOG_REDIS_CHANNEL"]),
        )
    else:
        mode, manager = "threading", None
    sio = socketio.Server(async_mode=mode, client_manager=manager)
    status = json.loads(Path(env["BENCH_BARE_STATUS"]).read_bytes())

    @sio.on("connect")
    def connect(sid, environ, auth=None):
        if isinstance(auth, dict) and "token" in auth:
            sio.enter_room(sid, f"user:{auth['token']}")

    @sio.on("subscribe")
    def subscribe(sid, data):
        sio.enter_room(sid, "public")
        return {"ok": True}

    def http(environ, start_response):
        if environ["PATH_INFO"] == "/metrics":
            body = f"microblog_socketio_clients {len(sio.manager.rooms.get('/', {}).get(None, {}))}\n"
        else:
            form = urllib.parse.parse_qs(environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)))
            payload = dict(status, content=f"<p>{form[b'status'][0].decode()}</p>")
            audience = int(form.get(b"audience", [b"-1"])[0])
            rooms = [f"user:{i}" for i in range(audience)] if audience >= 0 else "public"
            sio.emit("update", {"stream": ["public"], "payload": payload}, to=rooms)
            body = json.dumps(payload)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]

    return socketio.WSGIApp(sio, http)


# -- the clients: this file under `python -m gevent.monkey` ---------------------------------------


def open_websocket(port: int, i: int, token: str, protocol: str = "socketio", subscribe: bool = True):
    """Connect (from address 127.1.x.y), authenticate with the token, subscribe to the public stream.

    Without `subscribe`, a Socket.IO connection stays on its `user` stream (its home timeline).
    """
    import socket

    import websocket

    source = (f"127.1.{i // 250}.{i % 250 + 1}", 0)
    # websocket-client checks each text frame's UTF-8 in pure Python (~0.2 ms per 1.4 KB status):
    # the client's own CPU would be a large part of every delivery time measured.
    fast = {"skip_utf8_validation": True}
    sock = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=source)
    if protocol == "mastodon":  # subscribed by its URL; pings are websocket pings, answered by recv()
        url = f"ws://127.0.0.1:{port}{MASTODON}"
        return websocket.create_connection(
            url, socket=sock, timeout=60, suppress_origin=True, subprotocols=[token], **fast
        )
    url = f"ws://127.0.0.1:{port}{SOCKET_IO}"
    ws = websocket.create_connection(url, socket=sock, timeout=60, suppress_origin=True, **fast)
    if not ws.recv().startswith("0"):
        raise ConnectionError("no Engine.IO open packet")
    ws.send("40" + json.dumps({"token": token}))
    if not ws.recv().startswith("40"):
        raise ConnectionRefusedError("Socket.IO CONNECT refused")
    if not subscribe:
        return ws
    ws.send('421["subscribe",{"stream":"public"}]')
    while not (reply := ws.recv()).startswith("431"):  # its ack
        if reply == "2":
            ws.send("3")
    return ws


def listen(
    ws,
    dropped: Counter,
    arrivals: dict[str, list[float]],
    protocol: str = "socketio",
    received: Counter | None = None,
) -> None:
    """Answer pings and note when each marked update arrives, until the connection ends.

    `received` counts every message by its first 12 characters (what kind it is) and their bytes.
    """
    update = '{"stream":["public"],"event":"update"' if protocol == "mastodon" else '42["update"'
    seen: set[str] = set()  # home and public streams may both carry a post
    while True:
        try:
            message = ws.recv()
        except Exception as error:
            dropped[type(error).__name__] += 1
            return
        if not message:
            dropped["closed"] += 1
            return
        if received is not None:
            received[message[:12]] += 1
            received["bytes"] += len(message)
        if message == "2":
            ws.send("3")  # Engine.IO pong
        elif message.startswith(update) and (mark := MARK.search(message)):
            if mark.group() not in seen:
                seen.add(mark.group())
                arrivals.setdefault(mark.group(), []).append(time.time())


def ws_worker() -> None:
    """Open the websockets stdin asks for, answer pings, note marked updates; report on `DONE`."""
    import gevent
    from gevent import select
    from gevent.lock import BoundedSemaphore

    spec = json.loads(sys.stdin.readline())
    protocol = spec.get("protocol", "socketio")
    ports = spec.get("ports") or [spec["port"]]  # connection i goes to ports[i % len(ports)]
    gate = BoundedSemaphore(50)  # handshakes at a time: no stampede on the accept queues
    held, failed, dropped, arrivals, received = [], Counter(), Counter(), {}, Counter()

    def hold(i: int, token: str) -> None:
        try:
            with gate:
                ws = open_websocket(ports[i % len(ports)], i, token, protocol, spec.get("subscribe", True))
        except Exception as error:
            failed[type(error).__name__] += 1
            return
        held.append(ws)
        listen(ws, dropped, arrivals, protocol, received)

    started = time.perf_counter()
    for i, token in enumerate(spec["tokens"]):
        gevent.spawn(hold, i, token)
    while len(held) + sum(failed.values()) < len(spec["tokens"]) and time.perf_counter() - started < 300:
        gevent.sleep(0.1)
    opened = {"opened": len(held), "failed": dict(failed), "seconds": time.perf_counter() - started}
    print(json.dumps(opened), flush=True)
    select.select([sys.stdin], [], [])  # wait cooperatively: the connections keep answering pings
    sys.stdin.readline()
    print(json.dumps({"dropped": dict(dropped), "arrivals": arrivals, "received": received}), flush=True)
    # Exiting closes every connection, as users leaving would.


# -- Mastodon's WebSocket next to Socket.IO: `python bench/websockets.py` ------------------------


def worker_command() -> list[str]:
    """Return the command that starts the client process (a gevent-patched Python)."""
    return [sys.executable, "-m", "gevent.monkey", str(Path(__file__).resolve()), "--worker"]


def prepare_site(data_dir: Path, readers: int, clients: int) -> tuple[dict[str, str], str, list[str]]:
    """Make a production-mode SQLite site with `readers` + 1 demo users; return its env and tokens.

    The author's token comes first, then `clients` read tokens spread over the readers (a token
    per connection, as each app of each person would hold its own).
    """
    from bench.api import RATE_LIMIT, demo_app
    from tests.server import PRODUCTION, flask_cli, free_port, server_env

    url = f"sqlite:///{data_dir / 'websockets.db'}"
    # Pings every 15 s (the default): a held connection answers them while the run lasts.
    env = server_env(url, data_dir, free_port(), MICROBLOG_API_RATE_LIMIT=RATE_LIMIT, **PRODUCTION)
    flask_cli(env, "db", "upgrade")
    flask_cli(
        env, "demo", "seed", "--users", str(readers + 1), "--posts", "0", "--follows", "0", "--tags", "5"
    )
    from sqlalchemy import select

    from microblog.database import db
    from microblog.services.tokens import create_personal_token
    from models import User
    from models.user import PERSON

    app = demo_app(url, data_dir, "whoosh")
    with app.app_context():
        users = list(db.session.scalars(select(User).where(User.kind == PERSON).order_by(User.id)))
        author = create_personal_token(users[0], "websockets bench", ["read", "write"])[1]
        people = users[1:]
        tokens = [
            create_personal_token(people[i % len(people)], f"websockets bench {i}", ["read"])[1]
            for i in range(clients)
        ]
        db.session.remove()
        db.engine.dispose()
    return env, author, tokens


def metric(port: int, name: str) -> float:
    """Return one gauge of a process's own /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    return float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))


def measure(protocol: str, env: dict[str, str], author: str, tokens: list[str], args, logs: Path) -> dict:
    """Start a fresh server, hold the protocol's connections, time marked posts to them."""
    from bench.fanout import rss_mib
    from bench.load import Client
    from bench.servers import start_servers, stop

    (logs / protocol).mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        ((server, port, _log),) = start_servers(stack, "wsgi:app", env, 1, logs / protocol, "/login")
        idle = rss_mib(server.pid)
        worker = subprocess.Popen(
            worker_command(), cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        stack.callback(stop, worker)
        assert worker.stdin is not None and worker.stdout is not None
        worker.stdin.write(json.dumps({"port": port, "tokens": tokens, "protocol": protocol}) + "\n")
        worker.stdin.flush()
        result = json.loads(worker.stdout.readline())
        time.sleep(args.hold)
        result["held"] = metric(port, METRIC[protocol])
        result["rss"] = (idle, rss_mib(server.pid))
        poster, sent = Client(port, author, []), {}
        for i in range(args.posts + 1):  # the first one warms up, untimed
            mark = new_mark()
            started = time.time()
            status, body = poster.call(
                "POST", "/api/v1/statuses", urllib.parse.urlencode({"status": f"Check {mark}"})
            )
            if status != 200:
                raise SystemExit(f"POST /api/v1/statuses: {status} {body[:300]!r}")
            if i:
                sent[mark] = started
            time.sleep(args.gap)
        worker.stdin.write("DONE\n")
        worker.stdin.flush()
        result.update(json.loads(worker.stdout.readline()))
        worker.wait(timeout=60)
    arrivals = result["arrivals"]
    result["ms"] = [(t - sent[m]) * 1000 for m in sent for t in arrivals.get(m, [])]
    result["last ms"] = [(max(arrivals.get(m, [0])) - sent[m]) * 1000 for m in sent]
    result["missing"] = len(sent) * (result["opened"] - sum(result["dropped"].values())) - len(result["ms"])
    return result


def report(results: dict[str, dict], args) -> None:
    """Print each protocol's connections, memory and deliveries, one line each."""
    from bench.stats import fmt, pct

    print(
        f"\n== {args.clients:,} connections to one gunicorn process (gevent), public stream,"
        f" {args.posts} posts {args.gap:g} s apart\n"
        "  protocol                 opened  in s  failed  alive  held (/metrics)"
        "  RSS MiB idle -> held (KiB/conn)  delivery p50 / p99 ms  last p50  missing"
    )
    labels = {"socketio": "Socket.IO", "mastodon": "Mastodon WebSocket"}
    for protocol, run in results.items():
        alive = run["opened"] - sum(run["dropped"].values())
        idle, held = run["rss"]
        per_conn = (held - idle) * 1024 / max(1, run["held"])
        delivery = f"{fmt(run['ms'])}  {pct(run['last ms'], 50):8.1f}" if run["ms"] else "none arrived"
        print(
            f"  {labels[protocol]:20} {run['opened']:10,} {run['seconds']:5.1f}"
            f" {sum(run['failed'].values()):7} {alive:6,} {run['held']:16,.0f}"
            f"  {idle:9.0f} -> {held:5.0f} ({per_conn:5.1f})"
            f"        {delivery} {run['missing']:8}"
        )
        for what in ("failed", "dropped"):
            if run[what]:
                print(f"      {what}: {run[what]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=2000, help="connections held, per protocol")
    parser.add_argument("--readers", type=int, default=200, help="users the connections' tokens belong to")
    parser.add_argument("--posts", type=int, default=5, help="posts timed to every connection")
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between posts")
    parser.add_argument("--hold", type=float, default=5.0, help="seconds to hold them before posting")
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return ws_worker()
    sys.path.insert(0, str(ROOT))
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(
        f"Mastodon's streaming WebSocket next to Socket.IO\n"
        f"  command: {shlex.join([os.path.relpath(sys.executable), *sys.argv])}\n"
        f"  machine: {os.cpu_count()} cores, load average {load};"
        " the clients: one gevent process on the same machine"
    )
    with tempfile.TemporaryDirectory(prefix="websockets-bench-") as tmp:
        started = time.perf_counter()
        env, author, tokens = prepare_site(Path(tmp), args.readers, args.clients)
        print(
            f"  site: SQLite, {args.readers} readers, {len(tokens):,} tokens,"
            f" made in {time.perf_counter() - started:.0f} s"
        )
        results = {
            protocol: measure(protocol, env, author, tokens, args, Path(tmp)) for protocol in args.protocols
        }
    report(results, args)
    print(f"  load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
