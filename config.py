"""Configuration read from MICROBLOG_* environment variables.

Nothing is read at import time: `config_from_env()` builds a config object when
the app is created, so tests and tools can pass their own environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment; embedded defaults for one box."""

    ENV_NAME = "development"
    TESTING = False
    REQUIRE_SECRET_KEY = False
    SECURE_COOKIES_DEFAULT = False

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.DATA_DIR = Path(env.get("MICROBLOG_DATA_DIR") or "instance").resolve()
        self.SQLALCHEMY_DATABASE_URI = (
            env.get("MICROBLOG_DATABASE_URL") or f"sqlite:///{self.DATA_DIR / 'microblog.db'}"
        )
        self.REDIS_URL = env.get("MICROBLOG_REDIS_URL") or None
        # Processes of one installation share this pub/sub channel (one Redis can serve several).
        self.REDIS_CHANNEL = env.get("MICROBLOG_REDIS_CHANNEL") or "microblog-socketio"
        self.SEARCH_BACKEND = env.get("MICROBLOG_SEARCH_BACKEND") or "whoosh"
        self.SEARCH_LANGUAGE = env.get("MICROBLOG_SEARCH_LANGUAGE") or "both"
        # What a process does for search besides answering searches.  The index has one writer per
        # installation, the search worker (`flask --app wsgi search worker`); serving processes only
        # read it, and match new posts against the saved searches in the background (their clients
        # hear the matches).  Tests do both themselves (search.drain()).
        self.SEARCH_PERCOLATOR = True
        # `flask serve` (make run) starts the search worker as its child; off where one runs beside it
        # already (a second `flask serve` on the same data, or a worker started by other means).
        self.SERVE_SEARCH_WORKER = _flag(env.get("MICROBLOG_SERVE_SEARCH_WORKER") or "on")
        self.SECRET_KEY = env.get("MICROBLOG_SECRET_KEY") or None
        self.ALLOWED_EMAIL_DOMAINS = tuple(
            d.strip().lower().lstrip("@")
            for d in (env.get("MICROBLOG_ALLOWED_EMAIL_DOMAINS") or "").split(",")
            if d.strip()
        )
        # The address people open the site at (https://microblog.example.internal): the command line
        # builds the links of the live updates it sends with it (a server process, from its requests).
        self.SITE_URL = (env.get("MICROBLOG_SITE_URL") or "").strip() or None
        self.HOST = env.get("MICROBLOG_HOST") or "127.0.0.1"
        self.PORT = int(env.get("MICROBLOG_PORT") or 5000)
        # Reverse proxies in front (nginx: 1); their X-Forwarded-* headers are trusted, no others.
        self.PROXY_HOPS = int(env.get("MICROBLOG_PROXY_HOPS") or 0)
        self.LOGIN_RATE_LIMIT = env.get("MICROBLOG_LOGIN_RATE_LIMIT") or "10 per minute"
        # Per access token (anonymous API requests: per address); Mastodon's default.
        self.API_RATE_LIMIT = env.get("MICROBLOG_API_RATE_LIMIT") or "300 per 5 minutes"
        # Seconds between `:thump` comments on an idle event stream (keeps proxies from closing it).
        self.STREAM_HEARTBEAT = float(env.get("MICROBLOG_STREAM_HEARTBEAT") or 15)
        # Who may read /metrics (addresses or networks); nginx's /metrics/PORT allows the same.
        self.METRICS_ALLOW = tuple(
            a.strip() for a in (env.get("MICROBLOG_METRICS_ALLOW") or "127.0.0.1,::1").split(",") if a.strip()
        )
        # Counted in the process, added to Redis's count in batches (microblog.ratelimits).
        self.RATELIMIT_STORAGE_URI = "microblog+" + (self.REDIS_URL or "memory://")
        self.RATELIMIT_HEADERS_ENABLED = True
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        # Secure cookies go only over HTTPS; on by default in production (see ProductionConfig).
        secure = env.get("MICROBLOG_SECURE_COOKIES") or None
        self.SESSION_COOKIE_SECURE = self.SECURE_COOKIES_DEFAULT if secure is None else _flag(secure)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session, not to a clock
        self.MAX_CONTENT_LENGTH = 1024 * 1024  # no form here needs more; larger bodies get a 413
        # Images: the largest upload (an image request's body may be this and a little more), the most
        # pixels one may have (checked before it is decoded), and where nginx serves the files from
        # (X-Accel-Redirect to this internal location; empty: the app sends them itself).
        self.MEDIA_MAX_BYTES = int(float(env.get("MICROBLOG_MEDIA_MAX_MB") or 16) * 1024 * 1024)
        self.MEDIA_MAX_PIXELS = int(float(env.get("MICROBLOG_MEDIA_MAX_MEGAPIXELS") or 50) * 1_000_000)
        self.MEDIA_ACCEL_REDIRECT = (env.get("MICROBLOG_MEDIA_ACCEL_REDIRECT") or "").strip()
        self.LOG_FORMAT = (env.get("MICROBLOG_LOG_FORMAT") or "text").strip().lower()
        self.LOG_LEVEL = (env.get("MICROBLOG_LOG_LEVEL") or "INFO").strip().upper()
        # Local passwords (sign-up, log-in with a microblog password); off: the directory only.
        self.LOCAL_PASSWORDS = _flag(env.get("MICROBLOG_LOCAL_PASSWORDS") or "on")
        # The interface's language when neither the person nor the browser chooses one (en or nb),
        # and the time zone times are shown in unless a person picks another.
        self.DEFAULT_LOCALE = (env.get("MICROBLOG_DEFAULT_LOCALE") or "en").strip()
        self.TIMEZONE = (env.get("MICROBLOG_TIMEZONE") or "Europe/Oslo").strip()
        # Who may create communities: "everyone" (any employee) or "admins" (site administrators).
        self.COMMUNITY_CREATION = (env.get("MICROBLOG_COMMUNITY_CREATION") or "everyone").strip().lower()
        self._read_ldap(env)

    def _read_ldap(self, env: Mapping[str, str]) -> None:
        """The company directory (LDAP / Active Directory); no URL: no directory log-in."""
        self.LDAP_URL = env.get("MICROBLOG_LDAP_URL") or None
        self.LDAP_BIND_DN = env.get("MICROBLOG_LDAP_BIND_DN") or None
        self.LDAP_BIND_PASSWORD = env.get("MICROBLOG_LDAP_BIND_PASSWORD") or None
        self.LDAP_START_TLS = _flag(env.get("MICROBLOG_LDAP_START_TLS"))
        self.LDAP_CA_FILE = env.get("MICROBLOG_LDAP_CA_FILE") or None
        self.LDAP_TIMEOUT = float(env.get("MICROBLOG_LDAP_TIMEOUT") or 5)
        self.LDAP_USER_BASE = env.get("MICROBLOG_LDAP_USER_BASE") or ""
        # {username} is replaced by the escaped login name; the filter also decides who may log in.
        self.LDAP_USER_FILTER = env.get("MICROBLOG_LDAP_USER_FILTER") or "(uid={username})"
        self.LDAP_ATTRIBUTES = {
            "username": env.get("MICROBLOG_LDAP_ATTR_USERNAME") or "uid",
            "display_name": env.get("MICROBLOG_LDAP_ATTR_DISPLAY_NAME") or "cn",
            "email": env.get("MICROBLOG_LDAP_ATTR_EMAIL") or "mail",
            "job_title": env.get("MICROBLOG_LDAP_ATTR_TITLE") or "title",
            "department": env.get("MICROBLOG_LDAP_ATTR_DEPARTMENT") or "departmentNumber",
        }


class DevelopmentConfig(Config):
    """`make run` on one box: generated secret key kept in the data directory."""


class ProductionConfig(Config):
    """Behind gunicorn: a secret key must be configured."""

    ENV_NAME = "production"
    REQUIRE_SECRET_KEY = True
    SECURE_COOKIES_DEFAULT = True


class TestingConfig(Config):
    """The test suite: CSRF off for the plain client, fixed secret."""

    ENV_NAME = "testing"
    TESTING = True
    __test__ = False  # not a pytest test class

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__(environ)
        self.SECRET_KEY = self.SECRET_KEY or "testing-secret-key"
        self.SERVER_NAME = "localhost"  # services build absolute URLs outside requests too
        self.WTF_CSRF_ENABLED = False
        self.SEARCH_PERCOLATOR = False
        self.RATELIMIT_ENABLED = True


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_from_env(environ: Mapping[str, str] | None = None) -> Config:
    """Build the config class named by MICROBLOG_ENV (default: development)."""
    env = os.environ if environ is None else environ
    name = (env.get("MICROBLOG_ENV") or "development").strip().lower()
    if name not in CONFIGS:
        raise RuntimeError(f"MICROBLOG_ENV={name!r}: expected one of {', '.join(CONFIGS)}")
    return CONFIGS[name](env)
