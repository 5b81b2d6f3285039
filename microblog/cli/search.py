"""`flask --app wsgi search ...`: the search index."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType

import click
from flask.cli import with_appcontext

import search
from search.documents import post_count

log = logging.getLogger(__name__)


def reindex_with_progress(*, quiet: bool = False, procs: int = 1) -> int:
    """Rebuild the search index from the database, with a progress bar unless quiet."""
    if quiet:
        return search.rebuild(procs=procs)
    with click.progressbar(length=post_count(), label="Indexing posts", show_pos=True) as bar:
        return search.rebuild(bar.update, procs=procs)


@click.group("search")
def search_group() -> None:
    """The search index."""


@search_group.command("reindex")
@click.option("--quiet", is_flag=True, help="No progress bar (for logs).")
@click.option(
    "--procs",
    type=click.IntRange(1, 16),
    default=min(4, os.cpu_count() or 1),
    show_default=True,
    help="Processes building the Whoosh index (a server rebuilding in the background uses 1).",
)
@with_appcontext
def reindex(quiet: bool, procs: int) -> None:
    """Rebuild the search index from the database (the site keeps serving meanwhile)."""
    started = time.monotonic()
    try:
        count = reindex_with_progress(quiet=quiet, procs=procs)
    except search.IndexBusy as busy:
        raise click.ClickException(f"{busy}; try again when it has finished.") from None
    click.echo(f"Indexed {count} posts in {time.monotonic() - started:.1f} s.")


@search_group.command("worker")
@click.option(
    "--with-parent",
    is_flag=True,
    hidden=True,
    help="Stop when the process that started this one is gone (`flask serve` starts it so).",
)
@with_appcontext
def worker(with_parent: bool) -> None:
    """Keep the search index up to date until stopped: the installation's one index writer.

    Run exactly one per installation (deployed: microblog-search.service; `flask serve` starts
    its own).  SIGTERM or Ctrl-C stops it once the batch under way is written.
    """
    stop = threading.Event()

    def stop_on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("search worker: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    if with_parent:
        threading.Thread(target=_stop_without_parent, args=(stop,), name="parent-watch", daemon=True).start()
    search.run_worker(stop)


def _stop_without_parent(stop: threading.Event) -> None:
    """Set `stop` once the parent process is gone (this process was handed to another)."""
    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:
            log.warning("search worker: the process that started it is gone, stopping")
            stop.set()
