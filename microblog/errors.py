"""One place that turns errors into responses: an HTML page, or {"error": ...} JSON for the API."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from microblog import inputs, language
from microblog.services.errors import ServiceError

log = logging.getLogger(__name__)


def N_(message: str) -> str:
    """Mark a message for the catalog (pybabel extracts N_); it is translated where it is used."""
    return message


# Translated when a response is made, in the reader's language.
_FRIENDLY = {
    400: N_("The request did not make sense to the server."),
    403: N_("You are not allowed to do that."),
    404: N_("There is nothing here. The page may have moved, or the post was deleted."),
    401: N_("Log in first."),
    405: N_("That page does not take this kind of request."),
    409: N_("That clashes with a change made meanwhile. Reload and try again."),
    413: N_("That was too much to send at once."),
    414: N_("That address is too long."),
    415: N_("That kind of content is not accepted here."),
    429: N_("Too many attempts. Wait a minute and try again."),
    431: N_("The request's headers are too large."),
    500: N_("Something went wrong on our side. It has been logged."),
}


def _wants_json() -> bool:
    return language.is_client_request()


def error_response(status: int, message: str):
    """Render an error as JSON for the API or as a page for people."""
    if _wants_json():
        return jsonify(error=message), status
    if request_ctx.url_adapter is None:  # the Host header named no host: a page could link nowhere
        return Response(message, mimetype="text/plain"), status
    return render_template("errors/error.html", status=status, message=message, title=_("Error")), status


def init_app(app: Flask) -> None:
    """Register the error handlers, and the guard that refuses what no field may hold."""
    inputs.init_app(app)

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        return error_response(error.status_code, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return error_response(
            400, _("The form expired or came from elsewhere. Go back, reload and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        friendly = _FRIENDLY.get(status)
        body, code = error_response(status, _(friendly) if friendly else error.description or _("Error"))
        # Keep what the exception says about itself beyond the body (Allow on a 405, Retry-After ...).
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return body, code, headers

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            return error_response(500, _(_FRIENDLY[500]))
        except Exception:  # e.g. the database is down: no language or page can be chosen either
            log.warning("could not render the error page", exc_info=True)
            return Response(_FRIENDLY[500], status=500, mimetype="text/plain")
