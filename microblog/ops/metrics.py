"""Prometheus metrics of one process, through prometheus_client.

Each app has its own registry (tests build many apps in one process); a
deployment of N processes is N scrape targets, one per port.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select

import realtime
from microblog.database import db
from microblog.services.posts import post_created
from models import Post, SearchOutbox, utcnow

access_log = logging.getLogger("microblog.access")

# Seconds; a home page is ~5-40 ms, a POST ~10-100 ms on this project's benchmarks.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The metrics one app reports."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self.requests = Counter(
            "microblog_http_requests",
            "HTTP requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "microblog_http_request_duration_seconds",
            "Time from a request's arrival to its response (streams: to their first byte), by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.posts = Counter(
            "microblog_posts_created", "Posts created through this process.", registry=registry
        )
        Gauge(
            "microblog_socketio_clients", "Socket.IO clients connected to this process.", registry=registry
        ).set_function(realtime.connected_clients)
        Gauge(
            "microblog_sse_clients", "Server-sent-event streams open on this process.", registry=registry
        ).set_function(realtime.stream_listeners)
        Gauge(
            "microblog_streaming_websockets",
            "Mastodon streaming-API WebSockets (/api/v1/streaming) open on this process.",
            registry=registry,
        ).set_function(realtime.websocket_listeners)
        self.backlog = Gauge(
            "microblog_search_outbox_posts", "Posts waiting for the search index.", registry=registry
        )
        self.lag = Gauge(
            "microblog_search_index_lag_seconds",
            "Age of the oldest post waiting for the search index (0: none waits).",
            registry=registry,
        )

    def count_post(self, sender: object, **extra: object) -> None:
        """Count one post created (the post_created signal)."""
        self.posts.inc()


def search_backlog() -> dict:
    """Return how many posts wait for the search index and how long the oldest has waited."""
    waiting, oldest = db.session.execute(
        select(func.count(SearchOutbox.id), func.min(Post.created_at))
        .select_from(SearchOutbox)
        .outerjoin(Post, Post.id == SearchOutbox.post_id)
    ).one()
    db.session.rollback()
    lag = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
    return {"posts": int(waiting), "lag_seconds": round(lag, 3)}


def exposition() -> Response:
    """Return the current metrics in Prometheus's text format."""
    metrics: Metrics = current_app.extensions["metrics"]
    backlog = search_backlog()
    metrics.backlog.set(backlog["posts"])
    metrics.lag.set(backlog["lag_seconds"])
    return Response(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _start() -> None:
    g.request_started = time.perf_counter()


def _measure(response: Response) -> Response:
    started = g.pop("request_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "none"  # unmatched URLs share one label, not one each
    metrics: Metrics = current_app.extensions["metrics"]
    # A client may send any method name: unknown ones share one label, or each would be a new series.
    method = request.method if request.method in _METHODS else "other"
    metrics.requests.labels(endpoint, method, str(response.status_code)).inc()
    metrics.latency.labels(endpoint).observe(seconds)
    if current_app.config["LOG_FORMAT"] == "json":
        access_log.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "remote_addr": request.remote_addr,
            },
        )
    return response


def init_app(app: Flask) -> None:
    """Measure every request of this app; count its posts."""
    metrics = Metrics()
    app.extensions["metrics"] = metrics

    post_created.connect(metrics.count_post, sender=app)  # weakly: it goes with the app
    app.before_request(_start)
    app.after_request(_measure)
