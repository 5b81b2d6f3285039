"""People: colleagues by department, followers and following, follow buttons, avatars."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.avatars import avatar_svg
from microblog.services import accounts, social, visibility
from microblog.services.errors import PermissionDenied

from . import bp
from .helpers import redirect_back


@bp.route("/people")
@login_required
def people():
    """Colleagues with follow buttons, filterable by department and name."""
    department = request.args.get("department") or None
    query = request.args.get("q", "").strip()[:100] or None
    after = request.args.get("after") or None
    users = social.colleagues(department=department, query=query, after=after, limit=social.LIST_LIMIT)
    return render_template(
        "people/colleagues.html",
        users=users,
        following=social.following_among(current_user, users),
        department=department,
        query=query,
        departments=social.departments(),
        next_after=users[-1].username if len(users) >= social.LIST_LIMIT else None,
        title="People",
    )


def _user_list(username: str, kind: str):
    user = accounts.access_user(username)
    if not visibility.members_are_listable(current_user, user):
        raise PermissionDenied(
            _("Only members of %(name)s can see who is in it: it is private.", name=user.name)
        )
    lister = social.followers if kind == "followers" else social.following
    users = lister(current_user, user, after=request.args.get("after") or None)
    return render_template(
        "people/list.html",
        user=user,
        users=users,
        kind=kind,
        next_after=users[-1].username if len(users) >= social.LIST_LIMIT else None,
        title=f"{user.name}: {'members' if user.is_community and kind == 'followers' else kind}",
    )


@bp.route("/@<username>/followers")
@login_required
def followers(username: str):
    """Who follows this person."""
    return _user_list(username, "followers")


@bp.route("/@<username>/following")
@login_required
def following(username: str):
    """Whom this person follows."""
    return _user_list(username, "following")


@bp.route("/@<username>/follow", methods=["POST"])
@login_required
def follow(username: str):
    """Follow a colleague."""
    target = social.follow_user(current_user, username)
    flash(f"You now follow {target.name}.")
    return redirect_back()


@bp.route("/@<username>/unfollow", methods=["POST"])
@login_required
def unfollow(username: str):
    """Stop following a colleague."""
    target = social.unfollow_user(current_user, username)
    flash(f"You no longer follow {target.name}.")
    return redirect_back()


@bp.route("/tags/<name>/followers")
@login_required
def tag_followers(name: str):
    """Everyone following a tag."""
    tag = social.access_tag(name, current_user)
    users = social.tag_followers(tag, after=request.args.get("after") or None)
    return render_template(
        "people/list.html",
        tag=tag,
        users=users,
        kind="tag-followers",
        next_after=users[-1].username if len(users) >= social.LIST_LIMIT else None,
        title=f"#{tag.name}: followers",
    )


@bp.route("/tags/<name>/follow", methods=["POST"])
@login_required
def follow_tag(name: str):
    """Follow a tag."""
    tag = social.follow_tag(current_user, name)
    flash(f"You now follow #{tag.name}: its posts appear in your home feed.")
    return redirect_back()


@bp.route("/tags/<name>/unfollow", methods=["POST"])
@login_required
def unfollow_tag(name: str):
    """Stop following a tag."""
    tag = social.unfollow_tag(current_user, name)
    flash(f"You no longer follow #{tag.name}.")
    return redirect_back()


@bp.route("/tags")
@login_required
def tags():
    """The tags I follow, and a box to follow a new one."""
    return render_template("feeds/tags.html", tags=social.followed_tags(current_user), title="Tags")


@bp.route("/tags", methods=["POST"])
@login_required
def follow_new_tag():
    """Follow a tag typed into the box on the tags page."""
    tag = social.follow_tag(current_user, request.form.get("name", ""))
    flash(f"You now follow #{tag.name}: its posts appear in your home feed.")
    return redirect(url_for("web.tag", name=tag.name))


@bp.route("/avatars/<username>.svg")
def avatar(username: str):
    """A generated avatar: initials on a colour derived from the username."""
    user = accounts.access_user(username)
    response = Response(avatar_svg(user.username, user.name), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
