"""Where the milliseconds of POST /api/v1/statuses and GET /api/v1/timelines/home go.

    .venv/bin/python bench/profiling.py                 # cProfile, in-process, on a copy of the demo set
    .venv/bin/python bench/profiling.py --requests 500 --top 20
    .venv/bin/python bench/profiling.py --summarize bench/out/spy/*.txt --requests 4000

cProfile: the Flask test client against a copy of bench/api.py's demo set (SQLite +
Whoosh, seeded by bench/api.py; the background search indexer on, as a server runs
it, though cProfile sees only the request's thread), --clients users with their own
personal access tokens, texts like bench/api.py's.  After --warm-up untimed
requests of each kind, --requests POSTs and then as many home pages are profiled,
each kind on its own.  Printed, and written to bench/out/profile-<kind>.txt: the
--top functions by cumulative and by own time, in ms per request.

py-spy (bench/api.py --py-spy DIR, through py_spy() here): `py-spy record --format raw`
over each server process (gunicorn's worker included) during a loaded phase;
--summarize reads those collapsed stacks and prints the same tables, a sample being
1/100 s of one thread's time, per request of the phase.  py-spy samples a thread that
runs or waits for a core, and cannot always tell a thread that waits on a lock or a
socket from one that runs: on a busy machine, or with make run's threads, its ms add
up to more than the CPU the process used (bench/api.py prints that); the shares hold.
A third table keeps microblog's own functions only, where the frameworks' layers
would otherwise fill the cumulative top.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PY_SPY = Path(sys.executable).parent / "py-spy"
RATE = 100  # py-spy samples per second


# -- py-spy over server processes ---------------------------------------------------------------


@contextmanager
def py_spy(pids: list[int], seconds: float, prefix: Path) -> Iterator[None]:
    """Record each process (and its children) with py-spy for `seconds`, as raw collapsed stacks."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        spies = []
        for pid in pids:
            log = stack.enter_context(prefix.with_name(f"{prefix.name}-{pid}.log").open("w"))
            command = [str(PY_SPY), "record", "--pid", str(pid), "--subprocesses"]
            command += ["--rate", str(RATE), "--duration", str(round(seconds)), "--format", "raw"]
            command += ["-o", str(prefix.with_name(f"{prefix.name}-{pid}.txt"))]
            spies.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        time.sleep(0.5)  # py-spy attaches
        yield
        for spy in spies:
            spy.wait(timeout=seconds + 60)


# Up to site-packages/, the repository, or the standard library's folder: the rest names the module.
SHORTER = re.compile(rf"^.*(site-packages/|{re.escape(str(ROOT))}/|lib/python3\.\d+/)")
# Where microblog's own code lives: a third table shows only its functions, below the frameworks' layers.
PROJECT = ("microblog/", "models/", "realtime/", "search/", "config.py", "wsgi.py")
# The test client's frames around every request: not the server's time.
HARNESS = ("(bench/profiling.py)", "(werkzeug/test.py)", "(flask/testing.py)")
FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def frame_key(frame: str) -> str:
    """Return a frame as `function (path)`, without its line: one function, one key."""
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = SHORTER.sub("", match.group("file"))
    return f"{match.group('name')} ({path})"


def summarize_raw(files: list[Path], requests: int, top: int = 15) -> str:
    """Return the top functions by cumulative and own time in py-spy raw files, in ms per request."""
    own, cumulative, total = Counter[str](), Counter[str](), 0
    for file in files:
        for line in file.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [frame_key(f) for f in stack.split(";") if not f.startswith("process ")]
            if not frames:
                continue
            n = int(count)
            total += n
            own[frames[-1]] += n
            for key in set(frames):
                cumulative[key] += n
    ms = 1000 / RATE / max(1, requests)
    lines = [f"  {total:,} samples ({total * ms:.2f} ms of CPU per request over {requests:,} requests)"]
    ours = Counter({name: n for name, n in cumulative.items() if is_project(name)})
    for title, counts in (("cumulative", cumulative), ("own", own), ("cumulative, microblog's code", ours)):
        lines.append(f"  top {top} by {title} time, ms per request:")
        lines += [f"    {n * ms:8.3f}  {name}" for name, n in counts.most_common(top)]
    return "\n".join(lines)


def is_project(key: str) -> bool:
    """Say whether a frame key names a function of microblog's own packages."""
    return key.rpartition(" (")[2].startswith(PROJECT)


# -- cProfile, in-process -------------------------------------------------------------------------


def summarize_stats(profile: cProfile.Profile, requests: int, top: int) -> str:
    """Return the top functions by cumulative and own time of a cProfile run, in ms per request."""
    stats = pstats.Stats(profile, stream=io.StringIO())
    rows = []
    for (path, line, name), (_cc, calls, own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        key = frame_key(f"{name} ({path}:{line})")
        if not key.endswith(HARNESS):
            rows.append((cumulative, own, calls, key))
    total = sum(r[1] for r in rows) * 1000 / requests
    lines = [f"  {total:.2f} ms per request in all (own times added), {requests:,} requests"]
    for title, index, only_ours in (("cumulative", 0, False), ("own", 1, False), ("cumulative", 0, True)):
        title += ", microblog's code" if only_ours else ""
        lines.append(f"  top {top} by {title} time, ms per request (calls per request):")
        chosen = [r for r in rows if is_project(r[3])] if only_ours else rows
        for row in sorted(chosen, key=lambda r: r[index], reverse=True)[:top]:
            lines.append(f"    {row[index] * 1000 / requests:8.3f}  ({row[2] / requests:6.1f})  {row[3]}")
    return "\n".join(lines)


def copy_demo(args: argparse.Namespace, tmp: Path) -> str:
    """Copy the demo set's SQLite file and Whoosh index into tmp; return the copy's URL."""
    source = args.out / f"timeline-{args.users}-{args.posts}.db"
    if not source.exists() or not (args.out / "search").is_dir():
        raise SystemExit(f"no demo set at {source}: run bench/api.py once, which seeds it")
    with sqlite3.connect(source) as src, sqlite3.connect(tmp / "profile.db") as dst:
        src.backup(dst)
    shutil.copytree(args.out / "search", tmp / "search")
    return f"sqlite:///{tmp / 'profile.db'}"


def profile_in_process(args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    """Profile the two request paths through the Flask test client; return each kind's summary."""
    from sqlalchemy import select

    from bench.api import read_names, status_texts
    from config import ProductionConfig
    from microblog import create_app
    from microblog.database import db
    from microblog.services.tokens import create_personal_token
    from models import User

    url = copy_demo(args, tmp)
    config = ProductionConfig(
        {
            "MICROBLOG_DATABASE_URL": url,
            "MICROBLOG_DATA_DIR": str(tmp),
            "MICROBLOG_SECRET_KEY": secrets.token_hex(32),
            "MICROBLOG_API_RATE_LIMIT": "1000000 per minute",
        }
    )
    app = create_app(config)
    from bench.api import Site

    site = Site("SQLite + Whoosh", url, tmp, "whoosh")
    read_names(site)
    names = random.Random(args.seed).sample(site.usernames, args.clients)
    with app.app_context():
        users = db.session.scalars(select(User).where(User.username.in_(names))).all()
        tokens = [create_personal_token(user, "profile")[1] for user in users]
        db.session.remove()
    rng = random.Random(args.seed)
    texts = status_texts(rng, site.usernames, site.tags, args.requests + args.warm_up)
    client = app.test_client()

    def post(i: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
        response = client.post("/api/v1/statuses", data={"status": texts[i]}, headers=headers)
        assert response.status_code == 200, response.data[:300]

    def home(i: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
        response = client.get("/api/v1/timelines/home?limit=20", headers=headers)
        assert response.status_code == 200, response.data[:300]

    summaries = {}
    for kind, call in (("post", post), ("home", home)):
        for i in range(args.warm_up):
            call(i)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for i in range(args.warm_up, args.warm_up + args.requests):
            call(i)
        profile.disable()
        wall = (time.perf_counter() - started) * 1000 / args.requests
        summary = summarize_stats(profile, args.requests, args.top)
        summaries[kind] = f"  wall time under cProfile: {wall:.2f} ms per request\n{summary}"
        profile.dump_stats(args.out / f"profile-{kind}.pstats")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return summaries


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8, help="users whose tokens take turns")
    parser.add_argument("--requests", type=int, default=300, help="requests profiled, of each kind")
    parser.add_argument("--warm-up", type=int, default=50)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="the demo set, and output")
    parser.add_argument("--summarize", type=Path, nargs="+", metavar="RAW", help="py-spy raw files instead")
    args = parser.parse_args()
    if args.summarize:
        print(summarize_raw(args.summarize, args.requests, args.top))
        return
    labels = {"post": "POST /api/v1/statuses", "home": "GET /api/v1/timelines/home?limit=20"}
    # The app's background matching thread lives on until the process exits and may touch the
    # copy while it is removed: the summaries are written first, and the removal may leave a file.
    with tempfile.TemporaryDirectory(prefix="profile-bench-", ignore_cleanup_errors=True) as tmp:
        summaries = profile_in_process(args, Path(tmp))
        for kind, summary in summaries.items():
            text = f"== cProfile, in-process (Flask test client): {labels[kind]}\n{summary}\n"
            (args.out / f"profile-{kind}.txt").write_text(text)
            print(text)


if __name__ == "__main__":
    main()
