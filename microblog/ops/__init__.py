"""What operations watch: /healthz (database, Redis, search) and /metrics (Prometheus).

Neither needs a login.  /metrics answers only the addresses in MICROBLOG_METRICS_ALLOW
(loopback by default), as nginx's /metrics/PORT does (deploy/nginx/microblog.conf),
where Prometheus scrapes each process.
"""

from __future__ import annotations

import ipaddress
import logging

import redis
from flask import Blueprint, Flask, abort, current_app, jsonify, request
from sqlalchemy import text

import search
from microblog.database import db
from microblog.extensions import limiter

from . import metrics

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)

CHECK_TIMEOUT = 3  # seconds: a health check that hangs is a failed one


def _reason(error: Exception) -> str:
    """Return an error's first line: enough to act on, short enough for a status page."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else 'no detail'}"


def check_database() -> str | None:
    """Return what is wrong with the database, or None."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as error:  # any failure is the answer, not a crash
        db.session.rollback()
        return _reason(error)
    return None


def check_redis() -> str | None:
    """Return what is wrong with Redis (when configured), or None."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return None
    client = current_app.extensions.get("healthz_redis")
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT)
        current_app.extensions["healthz_redis"] = client
    try:
        client.ping()
    except Exception as error:
        return _reason(error)
    return None


def check_search() -> str | None:
    """Return what is wrong with the search index, or None."""
    try:
        return search.status()
    except Exception as error:
        db.session.rollback()
        return _reason(error)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """Answer 200 when the database, Redis and search all serve; 503 naming what does not."""
    checks = {"database": check_database(), "redis": check_redis(), "search": check_search()}
    failing = {name: reason for name, reason in checks.items() if reason is not None}
    for name, reason in failing.items():
        log.warning("health check failed: %s: %s", name, reason)
    answers = {name: reason or "ok" for name, reason in checks.items()}
    if not current_app.config["REDIS_URL"]:
        answers["redis"] = "not configured"  # one process: nothing to share
    body: dict = {"status": "unavailable" if failing else "ok", "checks": answers}
    if not failing:
        body["search_backlog"] = metrics.search_backlog()
    response = jsonify(body)
    response.status_code = 503 if failing else 200
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/metrics")
@limiter.exempt
def prometheus_metrics():
    """Answer this process's metrics in Prometheus's text format, to allowed addresses only."""
    if not _may_read_metrics():
        abort(403)
    return metrics.exposition()


def _may_read_metrics() -> bool:
    """Both the connecting peer and the forwarded client (behind nginx) must be allowed."""
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", request.remote_addr)
    allowed = current_app.extensions["metrics_allow"]
    return all(_address_in(address, allowed) for address in {peer, request.remote_addr})


def _address_in(address: str | None, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in networks)


def init_app(app: Flask) -> None:
    """Register /healthz, /metrics and the per-request measurements."""
    try:
        allowed = [ipaddress.ip_network(a, strict=False) for a in app.config["METRICS_ALLOW"]]
    except ValueError as error:
        raise RuntimeError(f"MICROBLOG_METRICS_ALLOW: {error}") from None
    app.extensions["metrics_allow"] = allowed
    metrics.init_app(app)
    app.register_blueprint(bp)
