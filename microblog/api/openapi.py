"""The OpenAPI 3.1 document of the API, served at /api/openapi.json."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import jsonify, url_for

from . import route

DOCUMENT = Path(__file__).with_name("openapi.json")


@cache
def document() -> dict[str, Any]:
    """Return the OpenAPI document (kept beside this module, checked against the routes by a test)."""
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


@route("/api/openapi.json")
def openapi():
    """Serve the OpenAPI document, with this server as its server URL."""
    return jsonify(document() | {"servers": [{"url": url_for("web.home", _external=True).rstrip("/")}]})
