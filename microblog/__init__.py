"""microblog: an internal microblogging server.  `create_app()` builds the Flask app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_from_env

from .database import db
from .extensions import csrf, limiter, migrate

ROOT = Path(__file__).resolve().parent.parent


# Keys that are published (examples, tests, habits): signing sessions with one lets anyone forge them.
KNOWN_SECRET_KEYS = frozenset({"change-me", "changeme", "secret", "dev", "development", "testing-secret-key"})
SECRET_KEY_MIN = 32
_GENERATE_KEY = (
    " Generate one with\n  python3 -c 'import secrets; print(secrets.token_hex(32))'\n"
    "and put it in the service's environment (MICROBLOG_SECRET_KEY in /etc/microblog/microblog.env)."
)


def _secret_key(config: Config) -> str:
    """Return the configured key, or (outside production) one kept in the data dir."""
    key = config.SECRET_KEY
    if config.REQUIRE_SECRET_KEY:
        if not key:
            raise RuntimeError("MICROBLOG_SECRET_KEY is not set." + _GENERATE_KEY)
        if key.strip().lower() in KNOWN_SECRET_KEYS or len(key) < SECRET_KEY_MIN:
            raise RuntimeError(
                f"MICROBLOG_SECRET_KEY is a placeholder or shorter than {SECRET_KEY_MIN} characters."
                + _GENERATE_KEY
            )
    if key:
        return key
    path = config.DATA_DIR / "secret_key"
    try:  # created readable by the owner only; a second process starting at once reads it
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(config: Config | None = None) -> Flask:
    """Create and configure the microblog Flask application."""
    config = config or config_from_env()
    config.DATA_DIR.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.from_object(config)
    app.config["SECRET_KEY"] = _secret_key(config)
    app.config["MICROBLOG_CONFIG"] = config

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)

    import realtime
    import search

    from . import api, auth, cli, errors, headers, language, logs, ops, web
    from .services import activity, follows, grants, sessions, signals, tokens

    logs.configure_logging(app)
    language.init_app(app)
    activity.init_app(app)
    remembered = grants.init_app(app)

    realtime.init_app(
        app,
        token_user=api.socket_user,
        token_is_live=tokens.token_is_live,
        login_is_live=sessions.login_is_live,
        list_owner=signals.list_owner,
        on_ended=remembered.forget,
        home_sources=follows.home_sources,
    )
    search.init_app(app, on_match=signals.deliver)
    auth.init_app(app)
    web.init_app(app)
    api.init_app(app)
    ops.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    cli.init_app(app)
    if config.PROXY_HOPS:
        # Outermost, so Socket.IO's own middleware (its Origin check) sees the address nginx was reached at.
        # No X-Forwarded-Prefix: the site lives at /, and a client-sent prefix would steer redirects.
        hops = config.PROXY_HOPS
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    return app
