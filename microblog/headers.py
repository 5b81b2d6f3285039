"""Security headers on every response: no framing, no sniffing, no inline script, no leaked addresses.

The nginx site (deploy/nginx/microblog.conf) passes these through for what it proxies
and sets the same on the static files it serves itself.
"""

from __future__ import annotations

from flask import Flask, Response, request

# Scripts and styles come from this site's static files only: an injected <script> or
# on...= attribute does not run.  No page may be framed (clickjacking of Authorize and
# Create token).  connect-src 'self' covers Socket.IO's websocket on the same host.
_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}

_FORM_TARGETS = "microblog.form_targets"  # per request (g can outlive one in tests and the CLI)

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Intranet addresses (and the ?next= or search queries in them) stay inside the site.
    "Referrer-Policy": "same-origin",
}


def allow_form_target(origin: str) -> None:
    """Let this page's forms lead to origin too (OAuth consent redirects to the client's callback)."""
    request.environ.setdefault(_FORM_TARGETS, []).append(origin)


def content_security_policy() -> str:
    """Return this response's Content-Security-Policy."""
    policy = dict(_POLICY)
    extra = request.environ.get(_FORM_TARGETS)
    if extra:
        policy["form-action"] = " ".join([policy["form-action"], *extra])
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def _secure(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = content_security_policy()
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Set the security headers on every response the app makes."""
    app.after_request(_secure)
