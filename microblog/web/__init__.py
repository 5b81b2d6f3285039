"""The web UI: server-rendered pages; JavaScript only adds the counter and conveniences."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, request, url_for
from flask_login import current_user

from microblog.avatars import initials
from microblog.services import notifications

from .forms import ButtonForm

bp = Blueprint("web", __name__)


def timeago(moment: datetime, now: datetime | None = None) -> str:
    """Return '5m', '3h', '2d' or a date, as feeds show post times."""
    now = now or datetime.now(UTC)
    seconds = int((now - moment).total_seconds())
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 7 * 86400:
        return f"{seconds // 86400}d"
    if moment.year == now.year:
        return moment.strftime("%-d %b")
    return moment.strftime("%-d %b %Y")


def avatar_url(user) -> str:
    """Return the URL of a user's avatar; it changes with the initials, so caches stay right."""
    return url_for("web.avatar", username=user.username, v=initials(user.name))


def init_app(app: Flask) -> None:
    """Register the web blueprint, its filters and template globals."""
    from . import admin, feeds, people, settings  # noqa: F401  (routes)

    app.register_blueprint(bp)
    app.add_template_filter(timeago, "timeago")
    app.add_template_global(avatar_url, "avatar_url")

    @app.context_processor
    def _unread() -> dict:
        if not current_user.is_authenticated or request.args.get("fragment"):
            return {"unread_notifications": 0}
        return {"unread_notifications": notifications.unread_count(current_user)}

    @app.context_processor
    def _buttons() -> dict:
        # One CSRF-carrying form for every button on a page; `next` brings the user back.
        return {"button_form": ButtonForm(formdata=None, next=request.full_path.rstrip("?"))}
