"""`flask --app wsgi search ...`: the search index."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext

import search
from search.documents import post_count


def reindex_with_progress(*, quiet: bool = False) -> int:
    """Rebuild the search index from the database, with a progress bar unless quiet."""
    if quiet:
        return search.rebuild()
    with click.progressbar(length=post_count(), label="Indexing posts", show_pos=True) as bar:
        return search.rebuild(bar.update)


@click.group("search")
def search_group() -> None:
    """The search index."""


@search_group.command("reindex")
@click.option("--quiet", is_flag=True, help="No progress bar (for logs).")
@with_appcontext
def reindex(quiet: bool) -> None:
    """Rebuild the search index from the database (the site keeps serving meanwhile)."""
    started = time.monotonic()
    try:
        count = reindex_with_progress(quiet=quiet)
    except search.IndexBusy as busy:
        raise click.ClickException(f"{busy}; try again when it has finished.") from None
    click.echo(f"Indexed {count} posts in {time.monotonic() - started:.1f} s.")
