"""Post-to-delivery latency of live updates, next to a bare python-socketio server.

    .venv/bin/python bench/fanout.py                 # N = 500, 1000, 2000; 50 posts each
    .venv/bin/python bench/fanout.py --clients 1000 --posts 20

For each N: N websocket clients (in a separate, gevent-patched process) all
follow one author and sit on their `user` stream.  The author posts through
HTTP; each client records when the `update` arrives.  Reported: p50/p99 of
post-to-delivery latency over all (client, post) pairs, and the server's RSS.
Three servers, each in the same run, for the same clients and payload:
  bare      python-socketio + gevent, an HTTP request triggers one emit to a room
  microblog one gunicorn process (gevent worker), the real POST /posts
  2 x redis two gunicorn processes sharing Redis, half the clients on each,
            posts through the first
Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HERE = Path(__file__).resolve()
PY = sys.executable


# ---------------------------------------------------------------- client process
def clients_main(args: argparse.Namespace) -> None:
    """Connect N clients, print READY, record arrival times until stdin says DONE.

    The clients speak Engine.IO 4 / Socket.IO 5 over a raw websocket and only
    look for the post's marker in each event, so that the client process (which
    shares the machine with the server) is not what is being measured.
    """
    from gevent import monkey

    monkey.patch_all()
    import gevent
    import websocket
    from gevent import select

    spec = json.loads(sys.stdin.readline())
    arrivals: dict[str, list[float]] = {}
    connected = []
    marker = re.compile(r'"text": ?"(fanout [0-9a-f]{8} #\d+)')

    def client(url: str, cookie: str | None) -> None:
        ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        headers = [f"Cookie: {cookie}"] if cookie else []
        for _attempt in range(10):
            try:
                ws = websocket.create_connection(ws_url, header=headers, timeout=60)
                break
            except Exception:
                gevent.sleep(0.5)
        else:
            return
        if not ws.recv().startswith("0"):  # Engine.IO open
            return
        ws.send("40")  # Socket.IO connect to the default namespace
        if not ws.recv().startswith("40"):
            return  # refused
        connected.append(ws)
        while True:
            try:
                message = ws.recv()
            except Exception:
                return
            if message == "2":
                ws.send("3")  # pong
            elif message.startswith('42["update"'):
                now = time.time()
                found = marker.search(message)
                if found:
                    arrivals.setdefault(found.group(1), []).append(now)

    for i, (url, cookie) in enumerate(spec["clients"]):
        gevent.spawn(client, url, cookie)
        if i % 50 == 49:
            gevent.sleep(0.05)  # do not stampede the accept queue
    deadline = time.monotonic() + 120
    while len(connected) < len(spec["clients"]) and time.monotonic() < deadline:
        gevent.sleep(0.2)
    print(json.dumps({"ready": len(connected)}), flush=True)
    select.select([sys.stdin], [], [])  # wait for DONE cooperatively: the clients keep receiving
    sys.stdin.readline()
    print(json.dumps(arrivals), flush=True)
    for ws in connected:
        try:
            ws.close()
        except Exception:
            pass


# ---------------------------------------------------------------- bare server
# Served by the same gunicorn + gevent worker as microblog, so only the application differs.
BARE_SERVER = r"""
import json, os
from urllib.parse import parse_qs
import socketio
sio = socketio.Server(async_mode="gevent")
@sio.on("connect")
def connect(sid, environ, auth=None):
    sio.enter_room(sid, "all")
payload = json.loads(os.environ["BARE_PAYLOAD"])
def http(environ, start_response):
    if environ["PATH_INFO"] == "/emit":
        data = dict(payload, text=parse_qs(environ["QUERY_STRING"])["text"][0])
        sio.emit("update", {"stream": ["user"], "payload": data}, to="all")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    start_response("404 Not Found", [])
    return [b""]
app = socketio.WSGIApp(sio, http)
"""


def rss_mib(pid: int) -> float:
    """Return a process's resident memory in MiB (children included for gunicorn)."""
    total = 0
    pids = [pid] + [
        int(p)
        for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    ]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def wait_http(url: str, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def measure(client_specs, send, posts: int, gap: float) -> tuple[list[float], int]:
    """Run the client process, send `posts` posts, return latencies (ms) and how many connected."""
    proc = subprocess.Popen(
        [PY, str(HERE), "--clients-worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    proc.stdin.write(json.dumps({"clients": client_specs}) + "\n")
    proc.stdin.flush()
    ready = json.loads(proc.stdout.readline())["ready"]
    time.sleep(1)
    send("warm-up, not timed")  # first use fills caches (statements, templates) on the server
    time.sleep(1)
    sent = {}
    for i in range(posts):
        text = f"fanout {uuid.uuid4().hex[:8]} #{i}"
        sent[text] = time.time()
        send(text)
        time.sleep(gap)
    time.sleep(2)
    proc.stdin.write("DONE\n")
    proc.stdin.flush()
    arrivals = json.loads(proc.stdout.readline())
    proc.wait(timeout=60)
    latencies = [(t - sent[text]) * 1000 for text, times in arrivals.items() if text in sent for t in times]
    expected = posts * ready
    if len(latencies) < expected:
        print(f"    ! {expected - len(latencies)} of {expected} deliveries missing")
    return latencies, ready


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")
    )


def report(label: str, n: int, ready: int, latencies: list[float], rss: float) -> dict:
    p50, p99 = statistics.median(latencies) if latencies else float("nan"), pct(latencies, 99)
    print(
        f"  {label:11} N={n:5}  connected {ready:5}  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  RSS {rss:6.0f} MiB"
    )
    return {"p50": p50, "p99": p99}


# ---------------------------------------------------------------- microblog setup
def prepare_site(data_dir: Path, users: int) -> dict:
    """Create the database: `users` readers all following one author; return cookies and env."""
    from sqlalchemy import insert, select

    from config import ProductionConfig
    from microblog import create_app
    from microblog.database import db
    from microblog.services import sessions
    from models import Follow, User, utcnow

    env = {
        "MICROBLOG_ENV": "production",
        "MICROBLOG_SECRET_KEY": secrets.token_hex(32),
        "MICROBLOG_SECURE_COOKIES": "off",  # plain HTTP on loopback
        "MICROBLOG_DATA_DIR": str(data_dir),
        "MICROBLOG_DATABASE_URL": f"sqlite:///{data_dir / 'fanout.db'}",
    }
    subprocess.run(
        [PY, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            PY,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "demo",
            "seed",
            "--users",
            str(users + 1),
            "--posts",
            "0",
            "--follows",
            "0",
            "--tags",
            "5",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    app = create_app(ProductionConfig(env))
    with app.app_context():
        ids = list(db.session.scalars(select(User.id).order_by(User.id)))
        author, readers = ids[0], ids[1:]
        db.session.execute(
            insert(Follow),
            [{"follower_id": r, "followee_id": author, "created_at": utcnow()} for r in readers],
        )
        db.session.commit()
        users = db.session.scalars(select(User).where(User.id.in_(ids))).all()
        tokens = {user.id: sessions.start_login(user).login_secret for user in users}
        author_name = db.session.scalar(select(User.username).where(User.id == author))
        signer = app.session_interface.get_signing_serializer(app)
        cookies = {uid: "session=" + signer.dumps({"_user_id": tokens[uid], "_fresh": True}) for uid in ids}
        db.session.remove()
    return {"env": env, "author": author_name, "readers": readers, "cookies": cookies}


def stop(proc: subprocess.Popen) -> None:
    """Stop a server process."""
    proc.terminate()
    proc.wait(timeout=20)


def start_gunicorn(stack: ExitStack, env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [PY, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT,
        env={**os.environ, **env, "MICROBLOG_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack.callback(stop, proc)
    wait_http(f"http://127.0.0.1:{port}/login")
    return proc


def author_poster(base: str, username: str):
    """Log the author in through the form (demo password); return a function that posts."""
    import requests

    http = requests.Session()

    def csrf(path: str) -> str:
        return re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', http.get(f"{base}{path}").text
        ).group(1)

    response = http.post(
        f"{base}/login",
        data={"login": username, "password": "demo-password", "csrf_token": csrf("/login")},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.status_code
    token = csrf("/")

    def send(text: str) -> None:
        response = http.post(
            f"{base}/posts", data={"text": text, "csrf_token": token, "next": "/"}, allow_redirects=False
        )
        assert response.status_code == 302, response.status_code

    return send


def bare_sender(base: str):
    """Return a function that makes the bare server emit one event."""
    import requests

    http = requests.Session()

    def send(text: str) -> None:
        http.get(f"{base}/emit", params={"text": text})

    return send


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="*", default=[500, 1000, 2000])
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between posts")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--clients-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clients_worker:
        return clients_main(args)

    print(f"fan-out benchmark: {args.posts} posts per run, {args.gap}s apart")
    for n in args.clients:
        with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
            site = prepare_site(Path(tmp), n)
            # microblog, one process
            port = free_port()
            server = start_gunicorn(stack, site["env"], port)
            base = f"http://127.0.0.1:{port}"
            specs = [(base, site["cookies"][r]) for r in site["readers"]]
            latencies, ready = measure(specs, author_poster(base, site["author"]), args.posts, args.gap)
            one = report("microblog", n, ready, latencies, rss_mib(server.pid))
            server.terminate()
            server.wait(timeout=20)

            # bare python-socketio, same clients, same kind of payload
            payload = {
                "id": "1",
                "content": "<p>" + "x" * 120 + "</p>",
                "account": {"id": "1", "username": "author"},
                "padding": "y" * 400,
            }
            bare_port = free_port()
            (Path(tmp) / "bare.py").write_text(BARE_SERVER)
            bare = subprocess.Popen(
                [
                    PY,
                    "-m",
                    "gunicorn",
                    "-k",
                    "gevent",
                    "-w",
                    "1",
                    "--worker-connections",
                    "4000",
                    "--no-control-socket",
                    "--chdir",
                    tmp,
                    "-b",
                    f"127.0.0.1:{bare_port}",
                    "bare:app",
                ],
                env={**os.environ, "BARE_PAYLOAD": json.dumps(payload)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            stack.callback(stop, bare)
            wait_http(f"http://127.0.0.1:{bare_port}/emit?text=warmup")
            send_bare = bare_sender(f"http://127.0.0.1:{bare_port}")
            latencies, ready = measure(
                [(f"http://127.0.0.1:{bare_port}", None)] * n, send_bare, args.posts, args.gap
            )
            base_row = report("bare", n, ready, latencies, rss_mib(bare.pid))
            ratios = f"p50 {one['p50'] / base_row['p50']:.2f}x, p99 {one['p99'] / base_row['p99']:.2f}x"
            print(f"  {'':11} microblog / bare {ratios}")

            # two processes + Redis
            channel = f"fanout-{uuid.uuid4().hex}"
            env = {**site["env"], "MICROBLOG_REDIS_URL": args.redis, "MICROBLOG_REDIS_CHANNEL": channel}
            ports = [free_port(), free_port()]
            procs = [start_gunicorn(stack, env, p) for p in ports]
            specs = [
                (f"http://127.0.0.1:{ports[i % 2]}", site["cookies"][r])
                for i, r in enumerate(site["readers"])
            ]
            latencies, ready = measure(
                specs, author_poster(f"http://127.0.0.1:{ports[0]}", site["author"]), args.posts, args.gap
            )
            report("2 x redis", n, ready, latencies, sum(rss_mib(p.pid) for p in procs) / 2)
            print(f"  {'':11} (RSS per process)")


if __name__ == "__main__":
    main()
