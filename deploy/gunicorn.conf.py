"""gunicorn settings for microblog: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

One gevent worker per process: a Socket.IO client must talk to the process
that holds its session, so scale out with several gunicorn processes (one
port each) behind nginx with sticky routing, sharing Redis
(MICROBLOG_REDIS_URL) as the message queue.  One gevent worker holds
thousands of websockets.
"""

import os


def _setting(name: str, default: str) -> str:
    # An empty line in the settings file means the default (systemd passes KEY= as "").
    return os.environ.get(name, "").strip() or default


bind = f"{_setting('MICROBLOG_HOST', '127.0.0.1')}:{_setting('MICROBLOG_PORT', '5000')}"
worker_class = "gevent"
workers = 1
worker_connections = int(_setting("MICROBLOG_WORKER_CONNECTIONS", "4000"))
timeout = 60  # a websocket is not a stuck request: the gevent worker heartbeats on its own
graceful_timeout = 10
keepalive = 5
# Several gunicorns on one machine would share ~/.gunicorn/gunicorn.ctl: go without it.
control_socket_disable = True
# The app decides which forwarded headers to trust (MICROBLOG_PROXY_HOPS, werkzeug's ProxyFix):
# gunicorn itself trusts none, so a client cannot claim HTTPS past a proxy that was not counted.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
errorlog = "-"
if _setting("MICROBLOG_LOG_FORMAT", "text").lower() == "json":
    # One JSON object a line: the app logs each request itself (logger microblog.access).
    accesslog = None
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "microblog.logs.JsonFormatter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            "error_console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            # Its lines would carry query strings (access tokens): the app's access line replaces them.
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
        "root": {"level": "INFO", "handlers": []},
    }
else:
    accesslog = "-"
