"""microblog: an internal microblogging server.  `create_app()` builds the Flask app."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_from_env

from . import database  # noqa: F401  (registers the SQLite pragmas)
from .extensions import csrf, db, limiter, migrate

ROOT = Path(__file__).resolve().parent.parent


def _secret_key(config: Config) -> str:
    """Return the configured key, or (outside production) one kept in the data dir."""
    if config.SECRET_KEY:
        return config.SECRET_KEY
    if config.REQUIRE_SECRET_KEY:
        raise RuntimeError(
            "MICROBLOG_SECRET_KEY is not set. Generate one with\n"
            "  python -c 'import secrets; print(secrets.token_hex(32))'\n"
            "and put it in the service's environment."
        )
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
    if config.PROXY_HOPS:
        hops = config.PROXY_HOPS
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)

    import realtime
    import search

    from . import api, auth, cli, errors, web

    realtime.init_app(app)
    search.init_app(app)
    auth.init_app(app)
    web.init_app(app)
    api.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
