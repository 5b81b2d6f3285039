"""One place that turns errors into responses: an HTML page, or {"error": ...} JSON for the API."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from microblog import inputs
from microblog.services.errors import ServiceError

log = logging.getLogger(__name__)

_FRIENDLY = {
    400: "The request did not make sense to the server.",
    403: "You are not allowed to do that.",
    404: "There is nothing here. The page may have moved, or the post was deleted.",
    405: "That page does not take this kind of request.",
    413: "That was too much to send at once.",
    429: "Too many attempts. Wait a minute and try again.",
    500: "Something went wrong on our side. It has been logged.",
}


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/"))


def error_response(status: int, message: str):
    """Render an error as JSON for the API or as a page for people."""
    if _wants_json():
        return jsonify(error=message), status
    if request_ctx.url_adapter is None:  # the Host header named no host: a page could link nowhere
        return Response(message, mimetype="text/plain"), status
    return render_template("errors/error.html", status=status, message=message, title="Error"), status


def init_app(app: Flask) -> None:
    """Register the error handlers, and the guard that refuses what no field may hold."""
    inputs.init_app(app)

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        return error_response(error.status_code, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return error_response(400, "The form expired or came from elsewhere. Go back, reload and try again.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        body, code = error_response(status, _FRIENDLY.get(status) or error.description or "Error")
        # Keep what the exception says about itself beyond the body (Allow on a 405, Retry-After ...).
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return body, code, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, _FRIENDLY[500])
