"""Accounts: who I am, looking people up, their posts, following them and the lists that follow."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

import search
from microblog import entities
from microblog.entities import Author
from microblog.services import accounts, communities, pins, social, timelines
from microblog.services.errors import NotFound, ValidationError
from microblog.services.timelines import Cursor
from microblog.text import parse_id
from models import User

from . import bool_param, id_list, paged, params, requires, route, text_param, viewer
from .timelines import statuses_page


def account(user: User) -> dict[str, Any]:
    """Return a user as a Mastodon Account (an official community's with its "Official" field)."""
    info = communities.details(user) if user.is_community else None
    official_since = info.created_at if info is not None and info.is_official else None
    return entities.account(Author.of(user), official_since=official_since)


def relationship_with(user: User) -> dict[str, Any]:
    """Return the token's user's Relationship with one account."""
    (rel,) = social.relationships(viewer(), [user.id])
    return entities.relationship(
        rel.user_id, following=rel.following, followed_by=rel.followed_by, requested=rel.requested
    )


@route("/api/v1/accounts/verify_credentials")
@requires("read:accounts")
def verify_credentials():
    """Return the token's own account, with the source text of its profile."""
    me = viewer()
    return jsonify(entities.credential_account(Author.of(me)))


@route("/api/v1/accounts/update_credentials", methods=["PATCH"])
@requires("write:accounts")
def update_credentials():
    """Change the display name or the bio (`note`)."""
    data = params()
    fields = {"display_name": text_param(data, "display_name"), "bio": text_param(data, "note")}
    changes = {k: v for k, v in fields.items() if v is not None}
    me = accounts.update_profile(viewer(), **changes) if changes else viewer()
    return jsonify(entities.credential_account(Author.of(me)))


@route("/api/v1/accounts/lookup")
@requires("read:accounts")
def lookup():
    """Find an account by its username (`acct`, with or without @ or this server's domain)."""
    acct = (request.args.get("acct") or "").strip().lstrip("@")
    username, _at, domain = acct.partition("@")
    if not username or (domain and domain != request.host):
        raise NotFound(_("There is no such account here."))
    return jsonify(account(accounts.access_user(username)))


@route("/api/v1/accounts/search")
@requires("read:accounts")
def search_accounts():
    """Find people by name or username."""
    query = search.parse_query(request.args.get("q", ""))
    limit = Cursor.parse(request.args).limit
    return jsonify([account(u) for u in search.search_people(query, limit=limit)])


@route("/api/v1/accounts/relationships")
@requires("read:follows")
def relationships():
    """Return how the token's user relates to each account in `id[]`."""
    ids = []
    for raw in id_list("id"):
        account_id = parse_id(raw)
        if account_id is None:
            raise ValidationError(_("id[] must be account ids."))
        ids.append(account_id)
    return jsonify(
        [
            entities.relationship(
                r.user_id, following=r.following, followed_by=r.followed_by, requested=r.requested
            )
            for r in social.relationships(viewer(), ids)
        ]
    )


@route("/api/v1/accounts/<account_id>")
@requires("read:accounts")
def show_account(account_id: str):
    """Return one account."""
    return jsonify(account(accounts.access_user_id(account_id)))


@route("/api/v1/accounts/<account_id>/statuses")
@requires("read:statuses")
def account_statuses(account_id: str):
    """Return one person's posts, or a community's, newest first; only those pinned, or with images."""
    author = accounts.access_user_id(account_id)
    cursor = Cursor.parse(request.args)
    if bool_param(request.args, "pinned"):  # a few at most: one page, without links
        return jsonify([entities.status(post) for post in pins.pinned_posts(viewer(), author)])
    if bool_param(request.args, "only_media"):
        return statuses_page(timelines.media_timeline(viewer(), author, cursor))
    if author.is_community:
        return statuses_page(timelines.community_timeline(viewer(), author, cursor))
    return statuses_page(timelines.user_timeline(viewer(), author, cursor))


@route("/api/v1/accounts/<account_id>/follow", methods=["POST"])
@requires("write:follows")
def follow(account_id: str):
    """Follow an account, or join a community (a private one: ask to); return the relationship."""
    target = accounts.access_user_id(account_id)
    social.follow_user(viewer(), target.username)
    return jsonify(relationship_with(target))


@route("/api/v1/accounts/<account_id>/unfollow", methods=["POST"])
@requires("write:follows")
def unfollow(account_id: str):
    """Stop following an account, or leave a community (or take back a request); return the relationship."""
    target = accounts.access_user_id(account_id)
    social.unfollow_user(viewer(), target.username)
    return jsonify(relationship_with(target))


def accounts_page(users: list[User], cursor: Cursor):
    """Return a page of Accounts, paged by account id through the Link header."""
    items = [account(u) for u in users]
    next_max = items[-1]["id"] if len(items) >= cursor.limit else None
    return paged(items, next_max=next_max, prev_min=items[0]["id"] if items else None)


@route("/api/v1/accounts/<account_id>/followers")
@requires("read:accounts")
def followers(account_id: str):
    """Return a page of the account's followers (a private community's members: to members only)."""
    user = accounts.access_user_id(account_id)
    cursor = Cursor.parse(request.args)
    return accounts_page(social.follower_accounts(viewer(), user, cursor), cursor)


@route("/api/v1/accounts/<account_id>/following")
@requires("read:accounts")
def following(account_id: str):
    """Return a page of the accounts this one follows (private communities: to their members only)."""
    user = accounts.access_user_id(account_id)
    cursor = Cursor.parse(request.args)
    return accounts_page(social.following_accounts(viewer(), user, cursor), cursor)
