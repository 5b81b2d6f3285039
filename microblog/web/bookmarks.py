"""Bookmarks and pins from the web: the buttons on each post, the Bookmarks page."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.services import bookmarks, pins
from microblog.services.errors import ValidationError
from microblog.services.timelines import Cursor, Page

from . import bp
from .helpers import redirect_back


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _toggled(endpoint: str, post_id: int, on: bool, label: str, **args: Any):
    """Back to the page; site.js asks for JSON instead, to turn the button in place."""
    if _wants_json():
        return {"on": on, "action": url_for(endpoint, post_id=post_id, **args), "label": label}
    return redirect_back()


@bp.route("/posts/<post_id>/bookmark", methods=["POST"])
@login_required
def bookmark(post_id: str):
    """Bookmark a post."""
    post = bookmarks.bookmark_post(current_user, post_id)
    return _toggled("web.unbookmark", post.id, True, _("Remove bookmark"))


@bp.route("/posts/<post_id>/unbookmark", methods=["POST"])
@login_required
def unbookmark(post_id: str):
    """Take a post out of one's bookmarks."""
    post = bookmarks.unbookmark_post(current_user, post_id)
    return _toggled("web.bookmark", post.id, False, _("Bookmark"))


@bp.route("/bookmarks")
@login_required
def bookmarks_page():
    """The posts one bookmarked, the latest bookmark first."""
    found, older, _newer = bookmarks.bookmarks(current_user, Cursor.parse(request.args))
    page = Page(found, Cursor())
    return render_template("feeds/bookmarks.html", page=page, older=older, title=_("Bookmarks"))


def _pin_labels(in_community: bool) -> tuple[str, str]:
    """Return the button's label to pin, and to unpin."""
    if in_community:
        return _("Pin to the top of the community"), _("Unpin from the top of the community")
    return _("Pin to your profile"), _("Unpin from your profile")


@bp.route("/posts/<post_id>/pin", methods=["POST"])
@login_required
def pin(post_id: str):
    """Pin one's post on one's profile, or (community=1, its admins) at the top of its community."""
    in_community = request.args.get("community") == "1"
    try:
        post = pins.pin_post(current_user, post_id, in_community=in_community)
    except ValidationError as error:  # the limit: said where the button was
        if _wants_json():
            raise
        flash(error.message)
        return redirect_back()
    args = {"community": "1"} if in_community else {}
    return _toggled("web.unpin", post.id, True, _pin_labels(in_community)[1], **args)


@bp.route("/posts/<post_id>/unpin", methods=["POST"])
@login_required
def unpin(post_id: str):
    """Unpin a post from one's profile, or (community=1) from the top of its community."""
    in_community = request.args.get("community") == "1"
    post = pins.unpin_post(current_user, post_id, in_community=in_community)
    args = {"community": "1"} if in_community else {}
    return _toggled("web.pin", post.id, False, _pin_labels(in_community)[0], **args)
