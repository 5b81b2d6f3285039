"""Grouped notifications (Mastodon 4.3's /api/v2/notifications): likes of one post, and follows, as groups."""

from __future__ import annotations

from dataclasses import replace

from flask import jsonify, request
from flask_babel import gettext as _

from microblog import entities
from microblog.services import notification_groups
from microblog.services.errors import ValidationError
from microblog.services.notification_groups import GroupFilter, page_limit
from microblog.services.timelines import Cursor

from . import bool_param, id_list, paged, requires, route, viewer


def _cursor(limits: tuple[int, int]) -> Cursor:
    """Return the page's cursor: max_id, since_id, min_id, and a limit within Mastodon's bounds."""
    cursor = Cursor.parse(request.args, limit=None)
    return replace(cursor, limit=page_limit(request.args.get("limit"), limits))


def _filters() -> GroupFilter:
    return GroupFilter.parse(
        types=id_list("types"),
        exclude_types=id_list("exclude_types"),
        grouped_types=id_list("grouped_types"),
        account_id=request.args.get("account_id"),
    )


def _id(value: int | None) -> str | None:
    return str(value) if value is not None else None


@route("/api/v2/notifications")
@requires("read:notifications")
def list_notification_groups():
    """Return a page of notification groups, newest first, with the accounts and statuses they name."""
    cursor = _cursor(notification_groups.GROUPS_LIMITS)
    filters = _filters()
    expand = request.args.get("expand_accounts") or "full"
    if expand not in ("full", "partial_avatars"):
        raise ValidationError(_("expand_accounts must be full or partial_avatars."), field="expand_accounts")
    bool_param(request.args, "include_filtered")  # nothing is filtered here: every notification is shown
    page = notification_groups.grouped_notifications(viewer(), cursor, filters)
    results = entities.grouped_notifications(
        page.groups, page.accounts, partial_avatars=expand == "partial_avatars"
    )
    return paged(results, next_max=_id(page.next_max_id), prev_min=_id(page.prev_min_id))


@route("/api/v2/notifications/unread_count")
@requires("read:notifications")
def unread_notification_groups():
    """Return how many notification groups are newer than the notifications marker (at most `limit`)."""
    limit = page_limit(request.args.get("limit"), notification_groups.UNREAD_LIMITS)
    return jsonify({"count": notification_groups.unread_group_count(viewer(), _filters(), limit=limit)})


@route("/api/v2/notifications/<group_key>")
@requires("read:notifications")
def show_notification_group(group_key: str):
    """Return one notification group, whole."""
    page = notification_groups.notification_group(viewer(), group_key)
    return jsonify(entities.grouped_notifications(page.groups, page.accounts))


@route("/api/v2/notifications/<group_key>/accounts")
@requires("read:notifications")
def notification_group_accounts(group_key: str):
    """Return the accounts behind a group's notifications, newest first."""
    cursor = _cursor(notification_groups.ACCOUNTS_LIMITS)
    page = notification_groups.group_accounts(viewer(), group_key, cursor)
    items = [entities.account(author) for author in page.accounts]
    return paged(items, next_max=_id(page.next_max_id), prev_min=_id(page.prev_min_id))


@route("/api/v2/notifications/<group_key>/dismiss", methods=["POST"])
@requires("write:notifications")
def dismiss_notification_group(group_key: str):
    """Dismiss a group: delete the caller's own notifications in it."""
    notification_groups.dismiss_group(viewer(), group_key)
    return jsonify({})
