"""Logging: text lines for a terminal, or one JSON object a line (MICROBLOG_LOG_FORMAT=json).

Nothing here logs a request's query string, a form, a header or a password: the
access line carries the method, the path, the status and the time taken.
"""

from __future__ import annotations

import logging
import sys

from flask import Flask
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(_JsonFormatter):
    """{"time": ..., "level": ..., "logger": ..., "message": ..., <extra fields>} on one line."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("fmt", "%(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)


def configure_logging(app: Flask) -> None:
    """Send the process's log records to stderr in the configured format (not under tests)."""
    fmt = app.config["LOG_FORMAT"]
    if fmt not in LOG_FORMATS:
        raise RuntimeError(f"MICROBLOG_LOG_FORMAT={fmt!r}: expected one of {', '.join(LOG_FORMATS)}")
    if app.testing:
        return  # pytest captures records itself
    root = logging.getLogger()
    root.setLevel(app.config["LOG_LEVEL"])
    # Authlib logs the tokens it issues at DEBUG: never let a debugging session write them down.
    logging.getLogger("authlib").setLevel(max(logging.INFO, root.level))
    ours = [h for h in root.handlers if getattr(h, "microblog", False)]
    if ours:
        return  # a second app in this process (the CLI builds one per command)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.microblog = True  # type: ignore[attr-defined]
    root.addHandler(handler)
