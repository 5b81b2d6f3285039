"""Notifications: mentions and replies, favourites, new followers, join requests and acceptances."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

from microblog import entities
from microblog.services import notifications
from microblog.services.errors import NotFound
from microblog.services.timelines import Cursor
from models.notification import NOTIFICATION_KINDS

from . import id_list, paged, requires, route, viewer


def _kinds() -> set[str] | None:
    wanted = set(id_list("types")) & set(NOTIFICATION_KINDS) if id_list("types") else set(NOTIFICATION_KINDS)
    excluded = set(id_list("exclude_types"))
    kinds = wanted - excluded
    return None if kinds == set(NOTIFICATION_KINDS) else kinds


@route("/api/v1/notifications")
@requires("read:notifications")
def list_notifications():
    """Return a page of notifications, newest first (`types[]` / `exclude_types[]` filter them)."""
    cursor = Cursor.parse(request.args)
    views = notifications.list_notifications(viewer(), cursor, kinds=_kinds())
    items = [entities.notification(v, v.actor, v.post) for v in views]
    next_max = items[-1]["id"] if len(items) >= cursor.limit else None
    return paged(items, next_max=next_max, prev_min=items[0]["id"] if items else None)


@route("/api/v1/notifications/<notification_id>")
@requires("read:notifications")
def show_notification(notification_id: str):
    """Return one notification."""
    view = notifications.notification_view(viewer(), notification_id)
    if view is None:
        raise NotFound(_("No such notification."))
    return jsonify(entities.notification(view, view.actor, view.post))
