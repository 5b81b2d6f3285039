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
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import unquote_to_bytes

import orjson
from flask import Flask, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from microblog.services.errors import ServiceError

MAX_JSON_DEPTH = 32
# Read as text by the app; other headers are Werkzeug's, the limiter's or Babel's to parse.
TEXT_HEADERS = ("Authorization", "Idempotency-Key")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Where the bad text was, as people read it (lazy: translated only when a message is made).
_JSON_BODY = _l("The JSON body")
_FORM = _l("The form")


class UnreadableInput(ServiceError, ValueError):
    """The request carries text no field may hold (HTTP 400); a ValueError to JSON parsing."""


def check_text(value: str, where: str | LazyString) -> None:
    """Refuse text with NUL or a lone surrogate."""
    if "\x00" in value:
        raise UnreadableInput(
            _("%(where)s contains a NUL character, which is never valid here.", where=where)
        )
    if _LONE_SURROGATE.search(value):
        raise UnreadableInput(
            _("%(where)s contains a lone surrogate (\\ud800-\\udfff), which is not text.", where=where)
        )


def check_json(value: Any) -> None:
    """Refuse a parsed JSON value nested too deeply, or holding a string check_text refuses."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            check_text(node, _JSON_BODY)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise UnreadableInput(
                _("The JSON body is nested more than %(max)s levels deep.", max=MAX_JSON_DEPTH)
            )
        if isinstance(node, dict):
            for key in node:
                check_text(key, _JSON_BODY)
            pending.extend((item, depth + 1) for item in node.values())
        else:
            pending.extend((item, depth + 1) for item in node)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing what check_json refuses when it parses; responses encoded by orjson.

    An API page of twenty statuses is about 30 KB of JSON: the standard encoder,
    sorting every object's keys, took a tenth of the page's time, orjson a
    hundredth.  What orjson does not know (dates, lazily translated strings) is
    encoded as Flask encodes it; a value orjson refuses (an integer beyond 64 bits)
    falls back to Flask's encoder.  Keys keep the order the entities give them.
    """

    _ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Return jsonify()'s response: the arguments as JSON, as compact as Flask makes it outside debug."""
        obj = self._prepare_response_obj(args, kwargs)
        if not self._app.debug:  # in debug, indented as Flask does
            try:
                body = orjson.dumps(obj, default=self.default, option=self._ORJSON_OPTIONS)
            except orjson.JSONEncodeError:
                pass  # what only Flask's encoder takes
            else:
                return current_app.response_class(body, mimetype=self.mimetype)
        return cast(Response, super().response(obj))

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON; raise UnreadableInput (a ValueError) for what no field may hold."""
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise UnreadableInput(
                _("The JSON body is nested more than %(max)s levels deep.", max=MAX_JSON_DEPTH)
            ) from None
        check_json(value)
        return value


def _check_wsgi_text(value: str, where: str | LazyString, *, percent_encoded: bool = False) -> None:
    """Check a WSGI string (its bytes as Latin-1, as PEP 3333 passes them) as UTF-8 text."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:  # not what a server passes; a misbehaving one, or a test client
        raise UnreadableInput(_("%(where)s is not valid UTF-8.", where=where)) from None
    _check_bytes(unquote_to_bytes(raw.replace(b"+", b" ")) if percent_encoded else raw, where)


def _check_bytes(raw: bytes, where: str | LazyString) -> None:
    try:
        text = raw.decode("utf-8")  # strict: encoded surrogates and overlong forms are invalid too
    except UnicodeDecodeError:
        raise UnreadableInput(_("%(where)s is not valid UTF-8.", where=where)) from None
    check_text(text, where)


# Room for a form's other fields beside an uploaded file.
UPLOAD_FORM_ALLOWANCE = 64 * 1024

F = TypeVar("F", bound=Callable[..., Any])


def takes_uploads(view: F) -> F:
    """Let a view's request body be as large as an image upload (MEDIA_MAX_BYTES), not MAX_CONTENT_LENGTH.

    Put it right under the route: the guard below reads the form first, under this limit.
    """
    view.takes_uploads = True  # type: ignore[attr-defined]
    return view


def refuse_unreadable_input() -> None:
    """Refuse a request carrying invalid UTF-8, NUL, lone surrogates or too deep JSON anywhere we read."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "takes_uploads", False):
        request.max_content_length = current_app.config["MEDIA_MAX_BYTES"] + UPLOAD_FORM_ALLOWANCE
    _check_wsgi_text(request.environ.get("PATH_INFO", ""), _l("The address"))
    # Werkzeug's own server has already replaced invalid UTF-8 in PATH_INFO; the raw path still has it.
    raw_path = request.environ.get("RAW_URI", "").partition("?")[0]
    _check_wsgi_text(raw_path, _l("The address"), percent_encoded=True)
    _check_wsgi_text(request.environ.get("QUERY_STRING", ""), _l("The query string"), percent_encoded=True)
    for name in TEXT_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            _check_wsgi_text(value, _l("The %(name)s header", name=name))
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    if request.mimetype == "application/x-www-form-urlencoded":
        # Werkzeug parses the form from this cached copy.
        _check_wsgi_text(request.get_data(cache=True).decode("latin-1"), _FORM, percent_encoded=True)
    elif request.mimetype == "multipart/form-data":
        # Werkzeug decodes the parts already, replacing invalid UTF-8 with U+FFFD: that mark is refused
        # (a person types it hardly ever), in the fields and in the files' names.
        fields = [
            *request.form.items(multi=True),
            *((n, f.filename or "") for n, f in request.files.items(multi=True)),
        ]
        for name, value in fields:
            name, value = name or "", value or ""  # a part without a name, a file without a filename
            check_text(name, _FORM)
            check_text(value, _FORM)
            if "\ufffd" in name or "\ufffd" in value:
                raise UnreadableInput(_("%(where)s is not valid UTF-8.", where=_FORM))
    elif request.is_json and request.get_data(cache=True):
        try:
            current_app.json.loads(request.get_data(cache=True))
        except UnreadableInput:
            raise
        except ValueError:
            raise UnreadableInput(_("The body is not valid JSON (in UTF-8).")) from None


def init_app(app: Flask) -> None:
    """Parse JSON with the checks, and run the guard before anything else reads the request."""
    app.json = JSONProvider(app)
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_unreadable_input)
