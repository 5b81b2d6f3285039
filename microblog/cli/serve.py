"""`flask --app wsgi serve`: what `make run` starts (the site, and its search worker beside it)."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from types import FrameType

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from werkzeug.serving import WSGIRequestHandler, run_simple

from microblog.services import accounts

log = logging.getLogger(__name__)


class RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, naming no server or Python version in the Server header."""

    def version_string(self) -> str:
        """Return what the Server header says."""
        return "microblog"


class SearchWorker:
    """`flask search worker` as a child of `flask serve`: started and stopped with it, restarted if it dies.

    The child has a session of its own, so a Ctrl-C in the terminal stops it only through
    serve (which would otherwise see it die and start it again); it stops by itself should
    serve die without stopping it (`--with-parent`).
    """

    RESTART_AFTER = 2.0  # seconds; doubled, up to a minute, while it keeps dying young
    YOUNG = 10.0  # seconds: a worker that dies sooner is failing at start

    def __init__(self, app_import_path: str | None) -> None:
        app = ["--app", app_import_path] if app_import_path else []  # else FLASK_APP, as serve found it
        self.command = [sys.executable, "-m", "flask", *app, "search", "worker", "--with-parent"]
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker, and a thread that starts it again whenever it exits."""
        with self._lock:
            self.process = process = subprocess.Popen(self.command, start_new_session=True)
        threading.Thread(target=self._watch, args=(process,), name="search-worker-watch", daemon=True).start()

    def _watch(self, process: subprocess.Popen[bytes]) -> None:
        delay = self.RESTART_AFTER
        while True:
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            delay = min(delay * 2, 60.0) if time.monotonic() - started < self.YOUNG else self.RESTART_AFTER
            log.error("the search worker exited (code %s): starting it again in %.0f s", code, delay)
            if self._stopping.wait(delay):
                return
            with self._lock:  # stop() reads the process under this lock: never a new one after it
                if self._stopping.is_set():
                    return
                self.process = process = subprocess.Popen(self.command, start_new_session=True)

    def stop(self) -> None:
        """Stop the worker (it finishes the batch under way) and do not start it again."""
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Leave as Ctrl-C does, through the `finally` that stops the search worker."""
    raise SystemExit(0)


@click.command("serve")
@with_appcontext
def serve() -> None:
    """Serve the site on MICROBLOG_HOST:MICROBLOG_PORT (embedded defaults), its search worker beside it."""
    config = current_app.config
    host, port = config["HOST"], config["PORT"]
    click.echo(f"microblog: serving on http://{host}:{port}  (data in {config['DATA_DIR']})")
    if accounts.count_users() == 0:
        click.echo(
            "\nNo accounts yet. Create the first administrator in another terminal:\n"
            "  .venv/bin/flask --app wsgi users create admin --email admin@example.com --admin\n"
            f"then log in at http://{host}:{port}/login\n"
        )
    info = click.get_current_context().ensure_object(ScriptInfo)
    worker = SearchWorker(info.app_import_path) if config["SERVE_SEARCH_WORKER"] else None
    if worker is None:
        click.echo("microblog: no search worker started (MICROBLOG_SERVE_SEARCH_WORKER=off)")
    # One process, one thread per connection; Socket.IO's websockets run on simple-websocket
    # (what socketio.run() does in threading mode, which app.run() refuses inside a flask command).
    # The app itself, not the current_app proxy: request threads run outside this app context.
    app = info.load_app()
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        if worker is not None:
            worker.start()
        run_simple(host, port, app, threaded=True, request_handler=RequestHandler)
    finally:
        if worker is not None:
            worker.stop()
