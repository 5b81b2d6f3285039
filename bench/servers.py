"""The two ways the benchmarks serve microblog (and their bare baselines), and starting them.

gunicorn  N `gunicorn -c deploy/gunicorn.conf.py` processes (one gevent worker each),
          MICROBLOG_ENV=production, sharing Redis as queue and rate-limit storage: 2 when
          Redis answers, else 1
make-run  one `flask --app wsgi serve` process, what `make run` starts (werkzeug, a thread
          per connection, in-process Socket.IO and search indexer), development settings,
          no Redis; a bare app runs as `python -m bench.servers SPEC`, the same server

.venv/bin/python -m bench.servers "bench.api:bare_app"     serve SPEC as `flask serve` would
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The end-to-end tests' server helpers: one way to pick a port, wait for a server and stop it.
from tests.server import free_port, running_search_worker, stop, wait_until_answering  # noqa: E402

PY = sys.executable
GUNICORN = [PY, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
MICROBLOG = "wsgi:app"
KINDS = ("gunicorn", "make-run")


@dataclass(frozen=True)
class Kind:
    """One way of serving: how many processes, with which command and environment."""

    key: str
    processes: int

    @property
    def label(self) -> str:
        if self.key == "make-run":
            return "make run (1 x flask serve)"
        if self.processes == 1:
            return "1 x gunicorn (no Redis)"
        return f"{self.processes} x gunicorn + Redis"

    def command(self, app_spec: str) -> list[str]:
        """Return the command that serves app_spec this way."""
        if self.key == "gunicorn":
            return [*GUNICORN, app_spec]
        if app_spec == MICROBLOG:
            return [PY, "-m", "flask", "--app", "wsgi", "serve"]
        return [PY, "-m", "bench.servers", app_spec]

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        """Return env as this kind's servers get it (`make run`: development, no Redis)."""
        if self.key == "gunicorn":
            return dict(env)
        dropped = ("MICROBLOG_ENV", "MICROBLOG_REDIS_URL", "MICROBLOG_REDIS_CHANNEL")
        return {k: v for k, v in env.items() if k not in dropped}


def kinds(names: list[str], redis_ok: bool) -> list[Kind]:
    """Return the server kinds named, gunicorn with two processes when Redis is there to share."""
    return [Kind(name, 2 if name == "gunicorn" and redis_ok else 1) for name in names]


GUNICORN_KIND = Kind("gunicorn", 1)


def start_servers(
    stack: ExitStack, app_spec: str, env: dict, count: int, logs: Path, ready: str, kind: Kind = GUNICORN_KIND
) -> list:
    """Start `count` servers of app_spec; return (process, port, log) for each once `ready` answers.

    microblog's gunicorn processes get the installation's search worker beside them, as deployed
    (`flask serve`, the make-run kind, starts its own).
    """
    servers = []
    env = kind.environment(env)
    if app_spec == MICROBLOG and kind.key == "gunicorn":
        stack.enter_context(running_search_worker(env))
    for i in range(count):
        port = free_port()
        log = logs / f"{kind.key}-{app_spec.replace(':', '-')}-{i}.log"
        out = stack.enter_context(log.open("w"))
        proc = subprocess.Popen(
            kind.command(app_spec),
            cwd=ROOT,
            env={**env, "MICROBLOG_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        stack.callback(stop, proc)
        servers.append((proc, port, log))
    for proc, port, log in servers:
        wait_until_answering(f"http://127.0.0.1:{port}{ready}", proc, log, timeout=120)
    return servers


def serve(app_spec: str) -> None:
    """Serve app_spec on MICROBLOG_HOST:MICROBLOG_PORT as `flask --app wsgi serve` serves microblog."""
    from gunicorn.util import import_app  # resolves "module:name" and "module:factory()"
    from werkzeug.serving import run_simple

    from microblog.cli.serve import RequestHandler

    host, port = os.environ.get("MICROBLOG_HOST", "127.0.0.1"), int(os.environ["MICROBLOG_PORT"])
    run_simple(host, port, import_app(app_spec), threaded=True, request_handler=RequestHandler)


__all__ = ["KINDS", "Kind", "free_port", "kinds", "start_servers", "stop", "wait_until_answering"]

if __name__ == "__main__":
    serve(sys.argv[1])
