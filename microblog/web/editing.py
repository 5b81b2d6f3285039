"""Editing a post from the web, and the versions of an edited post."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.services import editing, timelines
from microblog.services.errors import NotFound, ServiceError

from . import bp
from .forms import EditForm
from .helpers import safe_next, show_error


@bp.route("/posts/<post_id>/edit", methods=["GET", "POST"])
@login_required
def edit_post(post_id: str):
    """Change a post's text (its author); back to where the Edit button was."""
    post = editing.source(current_user, post_id)
    form = EditForm()
    status = 200
    if form.validate_on_submit():
        try:
            editing.edit_post(current_user, post.id, form.text.data or "")
        except ServiceError as error:  # the post rule, another community, an archived one
            show_error(form, error)
            status = error.status_code
        else:
            return redirect(safe_next(form.next.data or url_for("web.post", post_id=post.id)))
    elif not form.is_submitted():
        form.text.data = post.text
    view = timelines.post_view(post.id, current_user)
    return render_template("posts/edit.html", form=form, post=view, title=_("Edit post")), status


@bp.route("/posts/<post_id>/history")
@login_required
def post_history(post_id: str):
    """The versions of an edited post, newest first, for whoever may see the post."""
    post, versions = editing.history(current_user, post_id)
    view = timelines.post_view(post.id, current_user)
    if view is None:
        raise NotFound(_("That post does not exist or was deleted."))
    return render_template(
        "posts/history.html",
        post=view,
        versions=list(reversed(versions)),
        editors=editing.editors(current_user, post, versions),
        title=_("Edit history"),
    )
