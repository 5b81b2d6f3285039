"""The OpenAPI 3.1 document of the API, served at /api/openapi.json."""

from __future__ import annotations

import copy
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


def _absolute_oauth_urls(doc: dict[str, Any], root: str) -> dict[str, Any]:
    """Return doc with its OAuth flows' site-relative URLs made absolute (validators require a URI)."""
    schemes = copy.deepcopy(doc.get("components", {}).get("securitySchemes", {}))
    for scheme in schemes.values():
        for flow in scheme.get("flows", {}).values():
            for key, value in flow.items():
                if key.endswith("Url") and value.startswith("/"):
                    flow[key] = root + value
    return doc | {"components": doc.get("components", {}) | {"securitySchemes": schemes}}


@route("/api/openapi.json")
def openapi():
    """Serve the OpenAPI document, with this server as its server URL."""
    root = url_for("web.home", _external=True).rstrip("/")
    return jsonify(_absolute_oauth_urls(document(), root) | {"servers": [{"url": root}]})
