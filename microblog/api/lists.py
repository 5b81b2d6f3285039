"""Lists, as Mastodon's lists API: lists of accounts, and saved searches (a list titled `search: <query>`)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from microblog import entities
from microblog.services import accounts, list_timelines, lists, saved_searches
from microblog.services.errors import ValidationError
from microblog.services.timelines import Cursor
from models import TimelineList
from models.timeline_list import SEARCH

from . import bool_param, params, requires, route, text_param, viewer
from .accounts import account, accounts_page
from .timelines import statuses_page

# Mastodon's page of a list's accounts: 40 unless asked; limit=0 is all of them, unpaged.
MEMBERS_LIMIT = "40"


def _entities(found: list[TimelineList]) -> list[dict[str, Any]]:
    """Return lists as List entities, each saved search with its unread count (one query for all)."""
    unread = saved_searches.unread_counts(viewer()) if any(lst.kind == SEARCH for lst in found) else {}
    return [entities.list_entity(lst, unread=unread.get(lst.id, 0)) for lst in found]


def _optional_bool(data: dict[str, Any], name: str) -> bool | None:
    return bool_param(data, name) if data.get(name) is not None else None


def _account_ids() -> list[str]:
    """Return the `account_ids[]` of a request: in the query, a form body or a JSON body (DELETE too)."""
    names = ("account_ids[]", "account_ids")
    found = [v for name in names for v in request.args.getlist(name) + request.form.getlist(name)]
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ValidationError(_("The JSON body must be an object."))
        value = body.get("account_ids", body.get("account_ids[]"))
        for item in value if isinstance(value, list) else [value] if value is not None else []:
            found.append(text_param({"account_ids[]": item}, "account_ids[]") or "")
    return found


@route("/api/v1/lists")
@requires("read:lists")
def lists_index():
    """Return the token's user's lists and saved searches."""
    return jsonify(_entities(lists.lists_of(viewer())))


@route("/api/v1/lists", methods=["POST"])
@requires("write:lists")
def list_create():
    """Create a list of accounts, or save a search (a title `search: <query>`)."""
    data = params()
    created = lists.create_list(
        viewer(),
        text_param(data, "title"),
        replies_policy=text_param(data, "replies_policy") or "list",
        exclusive=bool_param(data, "exclusive"),
    )
    return jsonify(_entities([created])[0])


@route("/api/v1/lists/<list_id>")
@requires("read:lists")
def list_show(list_id: str):
    """Return one of the token's user's lists."""
    return jsonify(_entities([lists.access_list(viewer(), list_id)])[0])


@route("/api/v1/lists/<list_id>", methods=["PUT"])
@requires("write:lists")
def list_update(list_id: str):
    """Change a list's title (a saved search's: its query), replies_policy, exclusive, in_home or notify."""
    data = params()
    changed = lists.update_list(
        viewer(),
        list_id,
        title=text_param(data, "title"),
        replies_policy=text_param(data, "replies_policy") or None,
        exclusive=_optional_bool(data, "exclusive"),
        in_home=_optional_bool(data, "in_home"),
        notify=_optional_bool(data, "notify"),
    )
    return jsonify(_entities([changed])[0])


@route("/api/v1/lists/<list_id>", methods=["DELETE"])
@requires("write:lists")
def list_delete(list_id: str):
    """Delete a list, or unsave a search."""
    lists.delete_list(viewer(), list_id)
    return jsonify({})


@route("/api/v1/lists/<list_id>/accounts")
@requires("read:lists")
def list_accounts(list_id: str):
    """Return a page of the accounts on a list (limit=0: all of them); a saved search has none."""
    if request.args.get("limit") == "0":
        return jsonify([account(user) for user in lists.list_members(viewer(), list_id)])
    cursor = Cursor.parse(request.args, limit=request.args.get("limit") or MEMBERS_LIMIT)
    return accounts_page(lists.list_members(viewer(), list_id, cursor), cursor)


@route("/api/v1/lists/<list_id>/accounts", methods=["POST"])
@requires("write:lists")
def list_accounts_add(list_id: str):
    """Put accounts the token's user follows on a list of accounts."""
    lists.add_accounts(viewer(), list_id, _account_ids())
    return jsonify({})


@route("/api/v1/lists/<list_id>/accounts", methods=["DELETE"])
@requires("write:lists")
def list_accounts_remove(list_id: str):
    """Take accounts off a list of accounts."""
    lists.remove_accounts(viewer(), list_id, _account_ids())
    return jsonify({})


@route("/api/v1/timelines/list/<list_id>")
@requires("read:lists")
def list_timeline(list_id: str):
    """Return a list's posts newest first: its accounts' posts, or the posts that matched a saved search."""
    cursor = Cursor.parse(request.args)
    found = lists.access_list(viewer(), list_id)
    return statuses_page(list_timelines.list_timeline(viewer(), found, cursor))


@route("/api/v1/accounts/<account_id>/lists")
@requires("read:lists")
def account_lists(account_id: str):
    """Return the token's user's lists that hold an account."""
    user = accounts.access_user_id(account_id)
    return jsonify(_entities(lists.lists_with_account(viewer(), user.id)))
