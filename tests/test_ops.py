"""Operations: /healthz, /metrics, production safety (secret key, forwarded headers, cookies)."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

import realtime
import search
from config import ProductionConfig, TestingConfig
from microblog import create_app
from microblog.database import db
from models import Post, utcnow

from .conftest import damage_whoosh_index, missing_service
from .factories import PASSWORD, make_post, make_token, make_user
from .server import ROOT, free_port

MACHINE_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def environ(config: TestingConfig) -> dict[str, str]:
    """The test's environment (database and data directory), to build variants of the app from."""
    return {
        "MICROBLOG_DATABASE_URL": config.SQLALCHEMY_DATABASE_URI,
        "MICROBLOG_DATA_DIR": str(config.DATA_DIR),
    }


def _healthz(app: Flask) -> tuple[int, dict]:
    with app.app_context():
        response = app.test_client().get("/healthz")
        db.session.remove()
        db.engine.dispose()
    return response.status_code, response.get_json()


def _search_ready(app: Flask) -> None:
    with app.app_context():
        search.rebuild()


def test_healthz_answers_ok_when_every_part_serves(app, client):
    search.rebuild()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "redis": "not configured", "search": "ok"}
    assert body["search_backlog"] == {"posts": 0, "lag_seconds": 0.0}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_checks_redis_when_configured(environ):
    try:
        redis.Redis.from_url(MACHINE_REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        missing_service("Redis is not running on 127.0.0.1:6379")
    app = create_app(TestingConfig({**environ, "MICROBLOG_REDIS_URL": MACHINE_REDIS}))
    _search_ready(app)
    status, body = _healthz(app)
    assert status == 200 and body["checks"] == {"database": "ok", "redis": "ok", "search": "ok"}


def test_healthz_names_redis_when_it_is_down(environ):
    app = create_app(TestingConfig({**environ, "MICROBLOG_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}))
    _search_ready(app)
    status, body = _healthz(app)
    assert status == 503 and body["status"] == "unavailable"
    assert body["checks"]["database"] == body["checks"]["search"] == "ok"
    assert "ConnectionError" in body["checks"]["redis"] and "refused" in body["checks"]["redis"]


def test_healthz_names_the_database_when_it_is_down(environ):
    down = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/microblog"
    app = create_app(TestingConfig({**environ, "MICROBLOG_DATABASE_URL": down}))
    status, body = _healthz(app)
    assert status == 503
    assert "OperationalError" in body["checks"]["database"]
    assert body["checks"]["redis"] == "not configured"


def test_healthz_names_a_damaged_search_index(app, client, alice):
    make_post(alice, "Apollo")
    search.drain()
    damage_whoosh_index(app.config["DATA_DIR"] / "search")
    search.backend()._index = None  # as a freshly started process would open it
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok"
    assert "damaged" in checks["search"] or "unreadable" in checks["search"]


def _metrics(client) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_metrics_count_requests_by_endpoint_and_posts_created(app, client, alice):
    headers = make_token(alice, "read", "write")
    posted = client.post("/api/v1/statuses", data={"status": "Build 12 green #apollo"}, headers=headers)
    assert posted.status_code == 200
    assert client.post("/api/v1/statuses", data={"status": ""}, headers=headers).status_code == 422
    assert client.get("/api/v1/timelines/home", headers=headers).status_code == 200
    assert client.get("/no/such/page").status_code == 404
    found = _metrics(client)
    requests = found["microblog_http_requests_total"]
    key = (("endpoint", "api.create_status"), ("method", "POST"), ("status", "200"))
    assert requests[key] == 1
    assert requests[(("endpoint", "api.create_status"), ("method", "POST"), ("status", "422"))] == 1
    assert requests[(("endpoint", "none"), ("method", "GET"), ("status", "404"))] == 1
    assert found["microblog_http_request_duration_seconds_count"][(("endpoint", "api.home"),)] == 1
    assert found["microblog_posts_created_total"][()] == 1  # the refused one created nothing
    assert found["process_resident_memory_bytes"][()] > 0


def test_metrics_count_connected_clients_and_the_search_backlog(app, client, alice):
    waiting = make_post(alice, "Waiting for the index")
    posted_at = utcnow() - timedelta(seconds=90)  # as if the search worker had been away a minute and a half
    db.session.execute(update(Post).where(Post.id == waiting.id).values(created_at=posted_at))
    db.session.commit()
    found = _metrics(client)
    assert found["microblog_search_outbox_posts"][()] == 1
    assert 90 <= found["microblog_search_index_lag_seconds"][()] < 90 + 30
    assert found["microblog_socketio_clients"][()] == 0
    token = make_token(alice, "read")["Authorization"].split()[1]
    sockets = [realtime.socketio.test_client(app, auth={"token": token}) for _ in range(2)]
    listener = realtime.listen([realtime.user_room(alice.id)])
    try:
        assert all(s.is_connected() for s in sockets)
        found = _metrics(client)
        assert found["microblog_socketio_clients"][()] == 2
        assert found["microblog_sse_clients"][()] == 1
    finally:
        realtime.stop_listening(listener)
        for s in sockets:
            s.disconnect()
    search.drain()
    found = _metrics(client)
    assert found["microblog_socketio_clients"][()] == 0 and found["microblog_sse_clients"][()] == 0
    assert found["microblog_search_outbox_posts"][()] == 0
    assert found["microblog_search_index_lag_seconds"][()] == 0


# -- production safety ------------------------------------------------------------------------


def _production(tmp_path: Path, **env: str) -> Flask:
    return create_app(ProductionConfig({"MICROBLOG_DATA_DIR": str(tmp_path / "data"), **env}))


@pytest.mark.parametrize("key", ["", "change-me", "testing-secret-key", "too-short-for-a-key"])
def test_production_refuses_a_missing_or_placeholder_secret_key(tmp_path, key):
    with pytest.raises(RuntimeError, match="MICROBLOG_SECRET_KEY") as refused:
        _production(tmp_path, MICROBLOG_SECRET_KEY=key)
    assert "secrets.token_hex(32)" in str(refused.value)


def test_production_takes_a_real_secret_key(tmp_path):
    app = _production(tmp_path, MICROBLOG_SECRET_KEY="9f" * 32)
    assert app.config["SECRET_KEY"] == "9f" * 32
    assert not (tmp_path / "data" / "secret_key").exists()  # nothing generated behind its back


def _login_cookies(app: Flask) -> list[str]:
    with app.app_context():
        make_user("alice")
        response = app.test_client().post("/login", data={"login": "alice", "password": PASSWORD})
        assert response.status_code == 302
        cookies = response.headers.getlist("Set-Cookie")
        db.session.remove()
    return cookies


def test_production_cookies_are_secure_unless_turned_off(tmp_path):
    secure = ProductionConfig({"MICROBLOG_DATA_DIR": str(tmp_path / "a")})
    assert secure.SESSION_COOKIE_SECURE and secure.REMEMBER_COOKIE_SECURE
    plain = ProductionConfig({"MICROBLOG_DATA_DIR": str(tmp_path / "b"), "MICROBLOG_SECURE_COOKIES": "off"})
    assert not plain.SESSION_COOKIE_SECURE
    empty = ProductionConfig({"MICROBLOG_DATA_DIR": str(tmp_path / "c"), "MICROBLOG_SECURE_COOKIES": ""})
    assert empty.SESSION_COOKIE_SECURE  # an empty line in the environment file means the default
    assert not TestingConfig({}).SESSION_COOKIE_SECURE  # `make run` on http://127.0.0.1:5000


def test_a_secure_cookie_is_sent_as_secure(environ):
    app = create_app(TestingConfig({**environ, "MICROBLOG_SECURE_COOKIES": "on"}))
    cookies = _login_cookies(app)
    session = [c for c in cookies if c.startswith("session=")]
    assert session and "Secure" in session[0] and "HttpOnly" in session[0]


def _instance_uri(app: Flask, headers: dict[str, str]) -> tuple[str, str]:
    with app.app_context():
        body = app.test_client().get("/api/v1/instance", headers=headers).get_json()
        db.session.remove()
    return body["uri"], body["urls"]["streaming_api"]


FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "microblog.example.internal"}


def test_forwarded_headers_are_ignored_without_a_configured_proxy(environ):
    app = create_app(TestingConfig(environ))
    assert _instance_uri(app, FORWARDED) == ("localhost", "ws://localhost")


def test_forwarded_headers_are_trusted_from_the_configured_hops_only(environ):
    app = create_app(TestingConfig({**environ, "MICROBLOG_PROXY_HOPS": "1"}))
    assert _instance_uri(app, FORWARDED) == (
        "microblog.example.internal",
        "wss://microblog.example.internal",
    )
    # A client's own X-Forwarded-* come first; nginx appends what it saw: only the last hop counts.
    spoofed = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "evil.example, localhost"}
    assert _instance_uri(app, spoofed) == ("localhost", "ws://localhost")


def test_debug_logging_never_writes_down_issued_tokens(tmp_path):
    probe = (
        "import logging; from config import DevelopmentConfig; from microblog import create_app;"
        f"env = {{'MICROBLOG_DATA_DIR': {str(tmp_path)!r}, 'MICROBLOG_LOG_LEVEL': 'DEBUG'}};"
        "create_app(DevelopmentConfig(env));"
        "print(logging.getLogger().level, logging.getLogger('authlib').getEffectiveLevel())"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(logging.DEBUG), str(logging.INFO)]


def test_a_client_sent_forwarded_prefix_cannot_steer_redirects(environ):
    app = create_app(TestingConfig({**environ, "MICROBLOG_PROXY_HOPS": "1"}))
    with app.app_context():
        response = app.test_client().get("/", headers={"X-Forwarded-Prefix": "//evil.example"})
        db.session.remove()
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def _metrics_status(app: Flask, peer: str, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    with app.app_context():
        response = app.test_client().get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": peer})
        db.session.remove()
        db.engine.dispose()
    assert response.status_code != 200 or b"microblog_http_requests_total" in response.data
    return response.status_code


def test_metrics_answer_loopback_only_by_default(environ):
    app = create_app(TestingConfig(environ))
    assert _metrics_status(app, "127.0.0.1") == 200
    assert _metrics_status(app, "::1") == 200
    assert _metrics_status(app, "10.9.8.7") == 403


def test_metrics_answer_the_configured_addresses(environ):
    app = create_app(TestingConfig({**environ, "MICROBLOG_METRICS_ALLOW": "127.0.0.1, 10.9.0.0/16"}))
    assert _metrics_status(app, "10.9.8.7") == 200
    assert _metrics_status(app, "10.10.0.1") == 403


def test_metrics_behind_nginx_need_both_nginx_and_the_scraper_allowed(environ):
    app = create_app(
        TestingConfig(
            {**environ, "MICROBLOG_PROXY_HOPS": "1", "MICROBLOG_METRICS_ALLOW": "127.0.0.1,10.1.2.3"}
        )
    )
    assert _metrics_status(app, "127.0.0.1", forwarded_for="10.1.2.3") == 200  # Prometheus via nginx
    assert _metrics_status(app, "127.0.0.1", forwarded_for="10.6.6.6") == 403  # someone else via nginx
    # Straight to the port from outside, claiming to be an allowed address: the peer decides.
    assert _metrics_status(app, "10.6.6.6", forwarded_for="127.0.0.1") == 403


def test_a_bad_metrics_allow_list_stops_start_up(environ):
    with pytest.raises(RuntimeError, match="MICROBLOG_METRICS_ALLOW"):
        create_app(TestingConfig({**environ, "MICROBLOG_METRICS_ALLOW": "not-an-address"}))


def test_made_up_methods_share_one_metrics_label(app, client):
    for method in ("XYZ1", "XYZ2", "BREW"):
        client.open("/api/v1/instance", method=method)
    text = client.get("/metrics").data.decode()
    assert 'method="other"' in text and "XYZ1" not in text and "BREW" not in text
