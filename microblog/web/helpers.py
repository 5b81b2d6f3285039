"""Small helpers shared by the web views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, request, url_for
from flask_login import login_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from microblog.services import sessions
from microblog.services.errors import ServiceError
from models import User


def log_in(user: User, remember: bool = False) -> None:
    """Log the user in under a new log-in of this browser's own (its cookies name it alone)."""
    login_user(sessions.start_login(user), remember=remember)


def safe_next(target: str | None, default: str = "web.home") -> str:
    """Return target if it is a path on this site, else the default page (no open redirects)."""
    # Control characters never belong in a path; urlsplit would drop CR/LF and pass what it did not check.
    if target and target.startswith("/") and not target.startswith("//") and target.isprintable():
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for(default)


def redirect_back(default: str = "web.home") -> Response:
    """Redirect to the form's `next` field (the page the button was on)."""
    return redirect(safe_next(request.form.get("next") or request.args.get("next"), default))


def show_error(form: FlaskForm, error: ServiceError) -> None:
    """Show a service's message next to the field it concerns, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)
