"""Security headers on every response: no framing, no sniffing, no inline script, no leaked addresses.

Set by a WSGI middleware around everything the app answers, Socket.IO's own
responses included (they never reach Flask's after_request).  The nginx site
(deploy/nginx/microblog.conf) passes them through for what it proxies and sets
the same on the static files it serves itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request

# Scripts and styles come from this site's static files only: an injected <script> or
# on...= attribute does not run.  No page may be framed (clickjacking of Authorize and
# Create token).  connect-src 'self' covers Socket.IO's websocket on the same host.
# img-src blob: is the composer's preview of an image while it uploads (a URL only this page's
# own script can make, of a file the person chose).
_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}

# Per request (g can outlive one in tests and the CLI): a list the middleware puts into the
# environ, shared with the copy of the environ that Flask-SocketIO's middleware hands on.
_FORM_TARGETS = "microblog.form_targets"

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Intranet addresses (and the ?next= or search queries in them) stay inside the site.
    "Referrer-Policy": "same-origin",
}


def allow_form_target(origin: str) -> None:
    """Let this page's forms lead to origin too (OAuth consent redirects to the client's callback)."""
    request.environ[_FORM_TARGETS].append(origin)


def content_security_policy(extra: list[str]) -> str:
    """Return the Content-Security-Policy of a response whose forms may also lead to `extra` origins."""
    policy = dict(_POLICY)
    if extra:
        policy["form-action"] = " ".join([policy["form-action"], *extra])
    return "; ".join(f"{name} {value}" for name, value in policy.items())


class SecurityHeaders:
    """WSGI middleware: add the security headers to every response that lacks them."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        form_targets: list[str] = []
        environ[_FORM_TARGETS] = form_targets

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            wanted = {"Content-Security-Policy": content_security_policy(form_targets), **HEADERS}
            headers = headers + [(k, v) for k, v in wanted.items() if k.lower() not in present]
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def init_app(app: Flask) -> None:
    """Wrap the app (Socket.IO's middleware included: call after it is attached) in SecurityHeaders."""
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
