"""Tags: look one up, follow and unfollow it, list the ones followed."""

from __future__ import annotations

from flask import jsonify

from microblog import entities
from microblog.services import social
from microblog.services.errors import NotFound

from . import requires, route, viewer


@route("/api/v1/tags/<name>")
@requires("read:statuses")
def show_tag(name: str):
    """Return a tag, and whether the token's user follows it."""
    stored = social.check_tag_name(name)
    try:
        following = social.is_following_tag(viewer(), social.access_tag(stored, viewer()))
    except NotFound:
        following = False
    return jsonify(entities.tag(stored, following=following))


@route("/api/v1/tags/<name>/follow", methods=["POST"])
@requires("write:follows")
def follow_tag(name: str):
    """Follow a tag: its posts enter the home timeline."""
    tag = social.follow_tag(viewer(), name)
    return jsonify(entities.tag(tag.name, following=True))


@route("/api/v1/tags/<name>/unfollow", methods=["POST"])
@requires("write:follows")
def unfollow_tag(name: str):
    """Stop following a tag."""
    stored = social.check_tag_name(name)
    try:
        social.unfollow_tag(viewer(), stored)
    except NotFound:
        pass  # never used, so not followed: unfollowing it changes nothing
    return jsonify(entities.tag(stored, following=False))


@route("/api/v1/followed_tags")
@requires("read:follows")
def followed_tags():
    """Return every tag the token's user follows (one page: people follow a handful)."""
    return jsonify([entities.tag(t.name, following=True) for t in social.followed_tags(viewer())])
