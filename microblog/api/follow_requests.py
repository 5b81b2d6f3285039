"""Follow requests: the people asking to join the communities the token's user administers.

Mastodon's follow requests are requests to follow the caller's own (locked)
account; here only communities are locked, so a community admin's "follow
requests" are the join requests to every community they administer, and a
stock client's follow-requests screen works for them unchanged.
"""

from __future__ import annotations

from flask import jsonify, request

from microblog.services import accounts, join_requests, social
from microblog.services.timelines import Cursor

from . import requires, route, viewer
from .accounts import accounts_page, relationship_with


@route("/api/v1/follow_requests")
@requires("read:follows")
def list_follow_requests():
    """Return a page of the accounts asking to join communities the caller administers."""
    cursor = Cursor.parse(request.args)
    return accounts_page(social.follow_request_accounts(viewer(), cursor), cursor)


@route("/api/v1/follow_requests/<account_id>/authorize", methods=["POST"])
@requires("write:follows")
def authorize_follow_request(account_id: str):
    """Accept the account's requests to join the caller's communities; return the relationship."""
    person = accounts.access_user_id(account_id)
    join_requests.accept_requests_from(viewer(), person)
    return jsonify(relationship_with(person))


@route("/api/v1/follow_requests/<account_id>/reject", methods=["POST"])
@requires("write:follows")
def reject_follow_request(account_id: str):
    """Refuse the account's requests to join the caller's communities; return the relationship."""
    person = accounts.access_user_id(account_id)
    join_requests.refuse_requests_from(viewer(), person)
    return jsonify(relationship_with(person))
