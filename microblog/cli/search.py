"""`flask --app wsgi search ...`: the search index."""

from __future__ import annotations

import os
import time

import click
from flask.cli import with_appcontext

import search
from search.documents import post_count


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
