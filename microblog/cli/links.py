"""The site's links at the command line: live events carry absolute links, which need its address.

A server process builds a link from the request it answers; a command has no
request, so it takes the address people open the site at from
MICROBLOG_SITE_URL (or Flask's SERVER_NAME, which the tests set).  Without
either, a command leaves out what would need links (live updates), and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import click
from flask import current_app, has_request_context


@contextmanager
def site_links() -> Iterator[bool]:
    """Let services build the site's absolute links here; yield whether they can.

    Inside, url_for(..., _external=True) answers as in a request to
    MICROBLOG_SITE_URL (scheme, host and path prefix).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if has_request_context() or app.config.get("SERVER_NAME"):
        yield True
        return
    url = app.config.get("SITE_URL") or ""
    parts = urlsplit(url)
    if not url or parts.scheme not in ("http", "https") or not parts.netloc:
        if url:
            click.echo(f"MICROBLOG_SITE_URL is not an http(s) address: {url!r}.", err=True)
        yield False
        return
    with app.test_request_context("/", base_url=url):  # only url_for reads it: no view runs
        yield True
