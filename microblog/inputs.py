"""What a request may carry: text that is valid UTF-8 without NUL, and JSON nested a few levels at most.

One guard runs before every view and reads every text the request carries as
the views will: the path, the query string, the form or JSON body and the
headers the app reads as text.  What no field may hold is refused there with
a 400 that says why, before anything is stored:

- invalid UTF-8 (Werkzeug would quietly turn it into U+FFFD);
- NUL (PostgreSQL cannot store it in text);
- lone surrogates, which JSON's "\\ud800" escapes decode to and nothing can encode
  (the database driver fails on them at the flush);
- JSON nested deeper than MAX_JSON_DEPTH (the parser's recursion would fail first).

The app's JSON provider applies the same rules to every JSON body it parses.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider

from microblog.services.errors import ServiceError

MAX_JSON_DEPTH = 32
# Read as text by the app; other headers are Werkzeug's, the limiter's or Babel's to parse.
TEXT_HEADERS = ("Authorization", "Idempotency-Key")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class UnreadableInput(ServiceError, ValueError):
    """The request carries text no field may hold (HTTP 400); a ValueError to JSON parsing."""


def check_text(value: str, where: str) -> None:
    """Refuse text with NUL or a lone surrogate."""
    if "\x00" in value:
        raise UnreadableInput(f"{where} contains a NUL character, which is never valid here.")
    if _LONE_SURROGATE.search(value):
        raise UnreadableInput(f"{where} contains a lone surrogate (\\ud800-\\udfff), which is not text.")


def check_json(value: Any) -> None:
    """Refuse a parsed JSON value nested too deeply, or holding a string check_text refuses."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            check_text(node, "The JSON body")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise UnreadableInput(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep.")
        if isinstance(node, dict):
            for key in node:
                check_text(key, "The JSON body")
            pending.extend((item, depth + 1) for item in node.values())
        else:
            pending.extend((item, depth + 1) for item in node)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing what check_json refuses when it parses."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; raise UnreadableInput (a ValueError) for what no field may hold."""
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise UnreadableInput(
                f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep."
            ) from None
        check_json(value)
        return value


def _check_wsgi_text(value: str, where: str, *, percent_encoded: bool = False) -> None:
    """Check a WSGI string (its bytes as Latin-1, as PEP 3333 passes them) as UTF-8 text."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:  # not what a server passes; a misbehaving one, or a test client
        raise UnreadableInput(f"{where} is not valid UTF-8.") from None
    _check_bytes(unquote_to_bytes(raw.replace(b"+", b" ")) if percent_encoded else raw, where)


def _check_bytes(raw: bytes, where: str) -> None:
    try:
        text = raw.decode("utf-8")  # strict: encoded surrogates and overlong forms are invalid too
    except UnicodeDecodeError:
        raise UnreadableInput(f"{where} is not valid UTF-8.") from None
    check_text(text, where)


def refuse_unreadable_input() -> None:
    """Refuse a request carrying invalid UTF-8, NUL, lone surrogates or too deep JSON anywhere we read."""
    _check_wsgi_text(request.environ.get("PATH_INFO", ""), "The address")
    # Werkzeug's own server has already replaced invalid UTF-8 in PATH_INFO; the raw path still has it.
    raw_path = request.environ.get("RAW_URI", "").partition("?")[0]
    _check_wsgi_text(raw_path, "The address", percent_encoded=True)
    _check_wsgi_text(request.environ.get("QUERY_STRING", ""), "The query string", percent_encoded=True)
    for name in TEXT_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            _check_wsgi_text(value, f"The {name} header")
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.mimetype == "application/x-www-form-urlencoded":
        # Werkzeug parses the form from this cached copy.
        _check_wsgi_text(request.get_data(cache=True).decode("latin-1"), "The form", percent_encoded=True)
    elif request.mimetype == "multipart/form-data":
        for name, value in request.form.items(multi=True):  # decoded already, invalid UTF-8 replaced
            check_text(name, "The form")
            check_text(value, "The form")
    elif request.is_json and request.get_data(cache=True):
        try:
            current_app.json.loads(request.get_data(cache=True))
        except UnreadableInput:
            raise
        except ValueError:
            raise UnreadableInput("The body is not valid JSON (in UTF-8).") from None


def init_app(app: Flask) -> None:
    """Parse JSON with the checks, and run the guard before anything else reads the request."""
    app.json = JSONProvider(app)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unreadable_input)
