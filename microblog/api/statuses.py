"""Statuses: post, read, delete, thread context, favourites, bookmarks and pins."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from microblog import entities
from microblog.database import id_of
from microblog.services import bookmarks, editing, pins, posts, questions, timelines
from microblog.services.errors import NotFound, ValidationError
from models import User
from models.post import PRIVATE, PUBLIC

from . import actor, bool_param, paged, params, requires, route, team_token_team, text_param, viewer

# Mastodon's visibilities, as this server has them: "unlisted" is public (there is no quieter
# public), "private" is a post in a private community, "direct" has no equivalent.
_VISIBILITIES = {"": None, "public": PUBLIC, "unlisted": PUBLIC, "private": PRIVATE}


def _status(post_id: int, user: User) -> dict[str, Any]:
    """Return a post as the reader sees it. After a write, pass id_of(post): the commit expired it."""
    view = timelines.post_view(post_id, user)
    if view is None:
        raise NotFound(_("That post does not exist or was deleted."))
    return entities.status(view)


def _visibility(data: dict[str, Any]) -> str | None:
    """Return the visibility asked for (None: the client did not say); refuse what has no equivalent."""
    asked = text_param(data, "visibility") or ""
    if asked == "direct":
        raise ValidationError(
            _(
                "Direct messages are not supported: a post is visible to the whole company, "
                "or to the members of the private community it is in."
            ),
            field="visibility",
        )
    if asked not in _VISIBILITIES:
        raise ValidationError(_("visibility must be public, unlisted or private."), field="visibility")
    return _VISIBILITIES[asked]


def _media_ids(data: dict[str, Any]) -> list[object]:
    """Return the images a status attaches: `media_ids[]` in a form, a `media_ids` list in JSON."""
    listed = request.form.getlist("media_ids[]") or request.args.getlist("media_ids[]")
    given = data.get("media_ids")
    if given in (None, "", []):
        return list(listed)
    if isinstance(given, str):
        return [given, *listed]
    if not isinstance(given, list):
        raise ValidationError(_("media_ids must be a list of image ids."), field="media_ids")
    return given


def _refuse_unsupported(data: dict[str, Any]) -> None:
    """Refuse, rather than silently drop, what would change the meaning of a post."""
    if data.get("poll") or data.get("poll[options][]"):
        raise ValidationError(_("Polls are not supported."))
    if data.get("scheduled_at"):
        raise ValidationError(_("Scheduled posts are not supported."))
    if (text_param(data, "spoiler_text") or "").strip():
        raise ValidationError(_("Content warnings are not supported: write the warning into the post."))


@route("/api/v1/statuses", methods=["POST"])
@requires("write:statuses")
def create_status():
    """Post a status (a reply with in_reply_to_id); Idempotency-Key makes a retry safe.

    A status addressing a community's @handle, or replying to a post in one, is
    posted into it: private in a private community (whatever `visibility` says).
    `question=true` (or #question in the text) marks it a question.  With a team
    token it is posted as the team, written by the member the token was issued for.
    """
    data = params()
    _refuse_unsupported(data)
    text = text_param(data, "status")
    if text is None:
        raise ValidationError(_("status is required: the text of the post."))
    post = posts.post_status(
        viewer(),
        text,
        in_reply_to=text_param(data, "in_reply_to_id") or None,
        idempotency_key=request.headers.get("Idempotency-Key"),
        visibility=_visibility(data),
        posted_by=actor() if team_token_team() is not None else None,
        question=bool_param(data, "question"),
        media_ids=_media_ids(data),
    )
    view = posts.announced(post)  # None: a retry, answered with the post the first request made
    return jsonify(entities.status(view) if view is not None else _status(id_of(post), viewer()))


@route("/api/v1/statuses/<post_id>")
@requires("read:statuses")
def show_status(post_id: str):
    """Return one status."""
    return jsonify(_status(posts.check_post_id(post_id), viewer()))


@route("/api/v1/statuses/<post_id>", methods=["PUT"])
@requires("write:statuses")
def edit_status(post_id: str):
    """Edit a status's text (its author); the earlier versions stay in its history.

    Polls and content warnings are refused as when posting; its images stay as
    they are (media_ids, if sent, must be the ones it has); a post cannot be
    moved into another community.
    """
    data = params()
    _refuse_unsupported(data)
    text = text_param(data, "status")
    if text is None:
        raise ValidationError(_("status is required: the text of the post."))
    post = editing.edit_post(viewer(), post_id, text, media_ids=_media_ids(data))
    return jsonify(_status(id_of(post), viewer()))


@route("/api/v1/statuses/<post_id>/history")
@requires("read:statuses")
def status_history(post_id: str):
    """Return a status's versions, oldest first, the last being the status as it is now."""
    post, versions = editing.history(viewer(), post_id)
    view = timelines.post_view(post.id, viewer())
    if view is None:
        raise NotFound(_("That post does not exist or was deleted."))
    if not versions:  # never edited: its one version
        return jsonify([entities.status_edit(view.html, view.created_at, view.author)])
    return jsonify([entities.status_edit(v.html, v.created_at, view.author) for v in versions])


@route("/api/v1/statuses/<post_id>/source")
@requires("read:statuses")
def status_source(post_id: str):
    """Return a status's text as written, to edit it (its author only)."""
    post = editing.source(viewer(), post_id)
    return jsonify(entities.status_source(post.id, post.text))


@route("/api/v1/statuses/<post_id>", methods=["DELETE"])
@requires("write:statuses")
def delete_status(post_id: str):
    """Delete a status (its author or an admin); return it, with its text for redrafting."""
    entity = _status(posts.check_post_id(post_id), viewer())
    posts.delete_post(viewer(), post_id)
    return jsonify(entity)


@route("/api/v1/statuses/<post_id>/context")
@requires("read:statuses")
def status_context(post_id: str):
    """Return the posts above this one in its thread (ancestors) and the replies below it."""
    post = posts.access_post(viewer(), post_id)
    thread = timelines.conversation(viewer(), post).posts
    by_id = {p.id: p for p in thread}
    ancestors = []
    parent = by_id[post.id].in_reply_to_id if post.id in by_id else None
    while parent is not None and parent in by_id:
        ancestors.append(by_id[parent])
        parent = by_id[parent].in_reply_to_id
    below = {post.id}
    descendants = []
    for item in thread:  # oldest first: a reply always comes after its parent
        if item.in_reply_to_id in below:
            below.add(item.id)
            descendants.append(item)
    return jsonify(
        ancestors=[entities.status(p) for p in reversed(ancestors)],
        descendants=[entities.status(p) for p in descendants],
    )


@route("/api/v1/statuses/<post_id>/favourite", methods=["POST"])
@requires("write:favourites")
def favourite(post_id: str):
    """Like a status."""
    post = posts.like_post(viewer(), post_id)
    return jsonify(_status(id_of(post), viewer()))


@route("/api/v1/statuses/<post_id>/unfavourite", methods=["POST"])
@requires("write:favourites")
def unfavourite(post_id: str):
    """Take back a like."""
    post = posts.unlike_post(viewer(), post_id)
    return jsonify(_status(id_of(post), viewer()))


@route("/api/v1/statuses/<post_id>/bookmark", methods=["POST"])
@requires("write:bookmarks")
def bookmark(post_id: str):
    """Bookmark a status (seen by no one else)."""
    post = bookmarks.bookmark_post(viewer(), post_id)
    return jsonify(_status(id_of(post), viewer()))


@route("/api/v1/statuses/<post_id>/unbookmark", methods=["POST"])
@requires("write:bookmarks")
def unbookmark(post_id: str):
    """Take a status out of one's bookmarks."""
    post = bookmarks.unbookmark_post(viewer(), post_id)
    return jsonify(_status(id_of(post), viewer()))


@route("/api/v1/bookmarks")
@requires("read:bookmarks")
def list_bookmarks():
    """Return one's bookmarked statuses, the latest bookmark first, paged by bookmark (Link header)."""
    found, older, newer = bookmarks.bookmarks(viewer(), timelines.Cursor.parse(request.args))
    return paged(
        [entities.status(post) for post in found],
        next_max=str(older) if older is not None else None,
        prev_min=str(newer) if newer is not None else None,
    )


@route("/api/v1/statuses/<post_id>/pin", methods=["POST"])
@requires("write:accounts")
def pin(post_id: str):
    """Pin one's own status on one's profile (at most 5); `community=true`: in its community, by its admin."""
    post = pins.pin_post(viewer(), post_id, in_community=bool_param(params(), "community"))
    return jsonify(_status(id_of(post), viewer()))


@route("/api/v1/statuses/<post_id>/unpin", methods=["POST"])
@requires("write:accounts")
def unpin(post_id: str):
    """Unpin a status from one's profile; `community=true`: from the top of its community (its admins)."""
    post = pins.unpin_post(viewer(), post_id, in_community=bool_param(params(), "community"))
    return jsonify(_status(id_of(post), viewer()))


@route("/api/v1/statuses/<post_id>/accept", methods=["POST"])
@requires("write:statuses")
def accept(post_id: str):
    """Accept this reply as the answer to the question it replies to; return the question.

    With a team token the team accepts (its own questions only), not the member it was issued for.
    """
    question = questions.accept_answer(viewer(), posts.check_post_id(post_id))
    return jsonify(_status(id_of(question), viewer()))


@route("/api/v1/statuses/<post_id>/unaccept", methods=["POST"])
@requires("write:statuses")
def unaccept(post_id: str):
    """Take back the accepted answer of this question; return the question (a team token: the team's)."""
    question = questions.unaccept_answer(viewer(), posts.check_post_id(post_id))
    return jsonify(_status(id_of(question), viewer()))
