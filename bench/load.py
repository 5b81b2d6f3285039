"""The load generator of the API benchmarks: clients on persistent connections, timed phases, CPU.

bench/api.py, bench/deploy.py, bench/curve.py and bench/gotosocial.py drive their
servers with it, so that every figure, microblog's, the bare baselines' and
GoToSocial's, comes from the same client code.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path

HOME = "/api/v1/timelines/home?limit=20"
STATUSES = "/api/v1/statuses"


class Client:
    """One benchmark client: a user's token, texts to post and a persistent connection to one server."""

    def __init__(self, port: int, token: str, texts: list[str]) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        # A User-Agent, as every real client sends (GoToSocial refuses requests without one).
        self.headers = {"Authorization": f"Bearer {token}", "User-Agent": "microblog-bench/1"}
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


def measure(
    clients: list[Client], single: list[Client], pids: list[int], args, drained=None, spy=None
) -> dict:
    """Run the phases (warm-up first, untimed); `drained` waits for the search outbox before the reads.

    `spy(phase, seconds)`, when given, is a context manager held around the loaded phases (py-spy).
    """
    spy = spy or (lambda _phase, _seconds: nullcontext())
    results = {"warm-up post": run_phase(clients, "post", 2, pids)}
    results["warm-up home"] = run_phase(clients, "home", 2, pids)
    with spy("post", args.duration):
        results["post"] = run_phase(clients, "post", args.duration, pids)
    results["drain"] = drained() if drained else None
    with spy("home", args.duration):
        results["home"] = run_phase(clients, "home", args.duration, pids)
    results["post 1"] = run_phase(single, "post", args.unloaded, pids)
    results["home 1"] = run_phase(single, "home", args.unloaded, pids)
    return results
