"""Security headers on every response, the same policy through nginx, and no inline script anywhere."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from microblog.cli.serve import RequestHandler

from .factories import login
from .server import free_port
from .test_oauth import CALLBACK, authorize_url, register

ROOT = Path(__file__).resolve().parent.parent


def _assert_secured(response) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/", "/login", "/signup", "/no-such-page", "/api/v1/instance", "/healthz"])
def test_every_response_carries_the_security_headers(client, path):
    _assert_secured(client.get(path))


def test_socket_io_answers_carry_them_too(client, alice):
    login(client, "alice")
    handshake = client.get("/socket.io/?EIO=4&transport=polling")
    assert handshake.status_code == 200 and handshake.data.startswith(b"0{")  # Engine.IO's own answer
    _assert_secured(handshake)
    _assert_secured(client.get("/socket.io/?EIO=4&transport=nonsense"))


def test_signed_in_pages_and_errors_carry_them_too(client, alice):
    login(client, "alice")
    for path in (
        "/",
        "/settings",
        "/settings/tokens",
        "/notifications",
        "/api/v1/accounts/verify_credentials",
    ):
        _assert_secured(client.get(path))
    _assert_secured(client.post("/posts", data={"text": ""}))


@pytest.mark.parametrize(
    ("redirect_uri", "origin"),
    [
        ("https://xn--n3h.example/cb", "https://xn--n3h.example"),
        ("https://CI.Example:8443/cb?x=1", "https://ci.example:8443"),
        ("http://[::1]:8123/cb", "http://[::1]:8123"),
    ],
)
def test_the_form_target_in_the_policy_is_a_plain_origin(client, alice, redirect_uri, origin):
    app = register(client, redirect_uris=redirect_uri)
    login(client, "alice")
    page = client.get(authorize_url(app, redirect_uri=redirect_uri, scope="read"))
    assert page.status_code == 200
    form_action = re.search(r"form-action ([^;]+)", page.headers["Content-Security-Policy"]).group(1)
    assert form_action.split() == ["'self'", origin]


@pytest.mark.parametrize(
    "redirect_uri", ["https://x;sandbox/cb", "https://x,script-src/cb", "https://a b/cb"]
)
def test_an_origin_that_would_add_to_the_policy_is_refused_at_registration(client, redirect_uri):
    response = client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": redirect_uri})
    assert response.status_code == 422


def test_the_consent_form_may_lead_only_to_the_apps_own_callback(client, alice):
    app = register(client)
    login(client, "alice")
    page = client.get(authorize_url(app))
    _assert_secured(page)
    form_action = re.search(r"form-action ([^;]+)", page.headers["Content-Security-Policy"]).group(1)
    assert form_action.split() == ["'self'", "http://127.0.0.1:8123"]
    assert CALLBACK.startswith("http://127.0.0.1:8123/")
    assert "8123" not in client.get("/").headers["Content-Security-Policy"]  # only on that page


def test_templates_and_scripts_hold_no_inline_script_or_style():
    # A JSON data block (<script type="application/json">) is never executed: the scripts' catalog.
    inline = re.compile(
        r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b|javascript:",
        re.I,
    )
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in (ROOT / "templates").rglob("*.html")
        for match in inline.finditer(path.read_text())
    ]
    assert offenders == []


def test_the_development_server_names_no_versions(app):
    server = make_server("127.0.0.1", free_port(), app, threaded=True, request_handler=RequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        response = requests.get(f"http://127.0.0.1:{server.server_port}/login", timeout=5)
    finally:
        server.shutdown()
    assert response.status_code == 200
    assert response.headers["Server"] == "microblog"
