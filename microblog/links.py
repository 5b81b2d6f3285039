"""Absolute links to the site's pages, as url_for(..., _external=True) builds them, for many at a time.

An API page of twenty statuses holds about a hundred links (each post's, its
author's profile and avatar, its tags and mentions); building each through the
URL map cost about a millisecond a page.  `link()` builds each kind of link
once per site address, with markers for its values, and then puts the values
in by replacing the markers.  That gives exactly url_for's result whenever a
value is made of characters no URL quotes (letters, digits, `.`, `_`, `~`,
`-`: ids, keys, most usernames); any other value goes through url_for.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from flask import current_app, has_request_context, request, url_for

_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")
_lock = threading.Lock()
_TEMPLATES = "microblog.links"


def _marker(index: int) -> str:
    return f"mblinkmarker{index}x"


def link(endpoint: str, **values: Any) -> str:
    """Return the absolute URL of an endpoint with these values (url_for's, built faster)."""
    texts = [str(value) for value in values.values()]
    if not all(_PLAIN.fullmatch(text) for text in texts):
        return url_for(endpoint, _external=True, **values)
    site = request.host_url if has_request_context() else ""
    key = (site, endpoint, tuple(values))
    templates: dict[tuple[str, str, tuple[str, ...]], str] = current_app.extensions.setdefault(_TEMPLATES, {})
    template = templates.get(key)
    if template is None:
        marked = {name: _marker(index) for index, name in enumerate(values)}
        template = url_for(endpoint, _external=True, **marked)
        if not all(template.count(marker) == 1 for marker in marked.values()):
            return url_for(endpoint, _external=True, **values)  # a marker the rule reshaped: no shortcut
        with _lock:
            if len(templates) > 1000:  # addresses the site is reached at: a handful, unless forged
                templates.clear()
            templates[key] = template
    for index, text in enumerate(texts):
        template = template.replace(_marker(index), text)
    return template
