"""Questions: the unanswered views (company, tag, community) and accepting an answer."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.services import communities, questions, social, timelines
from microblog.services.timelines import Cursor

from . import bp


def _questions_page(page, **context):
    """Render a page of unanswered questions, or (?fragment=1) only its posts."""
    if request.args.get("fragment"):
        return render_template("partials/feed_items.html", page=page)
    return render_template("feeds/questions.html", page=page, **context)


@bp.route("/questions")
@login_required
def questions_page():
    """The company's questions still waiting for an accepted answer (those the reader may see)."""
    page = timelines.unanswered_questions(current_user, Cursor.parse(request.args))
    return _questions_page(page, title=_("Unanswered questions"), next_args={})


@bp.route("/tags/<name>/questions")
@login_required
def tag_questions(name: str):
    """A tag's questions still waiting for an accepted answer."""
    tag = social.access_tag(name, current_user)
    page = timelines.unanswered_questions(current_user, Cursor.parse(request.args), tag=tag)
    return _questions_page(
        page,
        tag=tag,
        title=_("Unanswered questions in #%(tag)s", tag=tag.name),
        next_args={"name": tag.name},
    )


@bp.route("/communities/<handle>/questions")
@login_required
def community_questions(handle: str):
    """A community's questions still waiting for an accepted answer (a private one's: for members)."""
    community = communities.access_community(handle)
    page = timelines.unanswered_questions(current_user, Cursor.parse(request.args), community=community)
    return _questions_page(
        page,
        community=community,
        title=_("Unanswered questions in %(name)s", name=community.name),
        next_args={"handle": community.username},
    )


@bp.route("/posts/<post_id>/accept", methods=["POST"])
@login_required
def accept_answer(post_id: str):
    """Accept a reply as the answer to the question it replies to (the asker or a community admin)."""
    question = questions.accept_answer(current_user, post_id)
    flash(_("Answer accepted."))
    return redirect(url_for("web.post", post_id=question.id, _anchor=f"post-{question.id}"))


@bp.route("/posts/<post_id>/unaccept", methods=["POST"])
@login_required
def unaccept_answer(post_id: str):
    """Take back a question's accepted answer: it is unanswered again."""
    question = questions.unaccept_answer(current_user, post_id)
    flash(_("The question is unanswered again."))
    return redirect(url_for("web.post", post_id=question.id, _anchor=f"post-{question.id}"))
