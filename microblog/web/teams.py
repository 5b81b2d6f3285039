"""Team accounts: the shared inbox its members work in, the team's page, and managing its members."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.services import inbox, team_desk
from microblog.services.errors import ServiceError
from microblog.services.timelines import Cursor
from models import User
from models.team import LEAD, MEMBER

from . import bp
from .forms import TeamEditForm
from .helpers import safe_next, show_error

ORDERS = ("oldest", "newest")


def _view_args() -> dict[str, Any]:
    """Return the inbox's filter and order from the query string (the defaults left out of links)."""
    args = {}
    if request.args.get("filter", "open") != "open":
        args["filter"] = request.args["filter"]
    if request.args.get("order") == "newest":
        args["order"] = "newest"
    return args


@bp.route("/teams/<handle>/inbox")
@login_required
def team_inbox(handle: str):
    """The team's shared inbox (its members only): filters, oldest first, one page after another."""
    args = _view_args()
    page = team_desk.inbox_page(
        current_user,
        handle,
        filter=args.get("filter", "open"),
        newest_first=args.get("order") == "newest",
        after=request.args.get("after") or None,
    )
    return render_template(
        "teams/inbox.html",
        page=page,
        team=page.team,
        args=args,
        filters=inbox.FILTERS,
        back=url_for("web.team_inbox", handle=page.team.username, **args),
        title=_("Inbox of @%(team)s", team=page.team.username),
    )


@bp.route("/teams/<handle>/inbox/items/<int:item_id>")
@login_required
def team_inbox_item(handle: str, item_id: int):
    """One inbox item on a page of its own; with ?fragment=1, as the inbox shows it, with the counts
    (what the inbox page fetches on a live update)."""
    entry = team_desk.inbox_entry(current_user, handle, item_id)
    back = url_for("web.team_inbox", handle=entry.team.username, **_view_args())
    if request.args.get("fragment"):
        return render_template("teams/item_fragment.html", entry=entry, team=entry.team, back=back)
    return _item_page(entry, back)


def _item_page(entry: team_desk.InboxEntry, back: str, error: ServiceError | None = None, **kept: str):
    title = _("Inbox of @%(team)s", team=entry.team.username)
    return (
        render_template(
            "teams/item_page.html",
            entry=entry,
            team=entry.team,
            back=back,
            error=error.message if error else None,
            kept=kept,
            title=title,
        ),
        error.status_code if error else 200,
    )


def _refused(handle: str, item_id: int, error: ServiceError, **kept: str):
    """The item on a page of its own with why the action was refused beside it, and what was typed."""
    entry = team_desk.inbox_entry(current_user, handle, item_id)
    return _item_page(entry, _inbox_of_form(entry.team.username), error, **kept)


def _inbox_of_form(handle: str) -> str:
    """Return the inbox view the form was sent from (its `next`), else the team's inbox."""
    target = safe_next(request.form.get("next"), "web.home")
    return url_for("web.team_inbox", handle=handle) if target == url_for("web.home") else target


def _back(handle: str, item_id: int):
    """Back to the inbox the form was on, at the item."""
    return redirect(f"{_inbox_of_form(handle)}#item-{item_id}")


_ACTIONS = "<any(assign, unassign, close, reopen):action>"


@bp.route(f"/teams/<handle>/inbox/<int:item_id>/{_ACTIONS}", methods=["POST"])
@login_required
def team_inbox_action(handle: str, item_id: int, action: str):
    """Assign (to me or a member), unassign, close with a reason, or reopen an item."""
    try:
        if action == "assign":
            item = team_desk.assign(current_user, handle, item_id, request.form.get("assignee") or None)
        elif action == "unassign":
            item = team_desk.unassign(current_user, handle, item_id)
        elif action == "close":
            item = team_desk.close(current_user, handle, item_id, request.form.get("reason", ""))
        else:
            item = team_desk.reopen(current_user, handle, item_id)
    except ServiceError as error:
        if error.status_code == 404:
            raise
        return _refused(
            handle,
            item_id,
            error,
            **({"reason": request.form.get("reason", "")} if action == "close" else {}),
        )
    flash(_("The item is open again.") if action == "reopen" else _STATE_MESSAGES[item.state]())
    return _back(handle, item_id)


_STATE_MESSAGES = {
    "open": lambda: _("The item is open for the whole team."),
    "assigned": lambda: _("The item is assigned."),
    "answered": lambda: _("The item is answered."),
    "closed": lambda: _("The item is closed."),
}


@bp.route("/teams/<handle>/inbox/<int:item_id>/answer", methods=["POST"])
@login_required
def team_inbox_answer(handle: str, item_id: int):
    """Reply to an item's post as the team: the reply answers it."""
    try:
        team = team_desk.answer(current_user, handle, item_id, request.form.get("text", ""))
    except ServiceError as error:
        if error.status_code == 404:
            raise
        return _refused(handle, item_id, error, text=request.form.get("text", ""))
    flash(_("Answered as @%(team)s.", team=team.username))
    return _back(handle, item_id)


# -- the team account's page --------------------------------------------------------


def team_page(team: User):
    """Render a team account's page at /@handle (called by web.profile for a team account)."""
    posts_only = bool(request.args.get("fragment"))  # live.js catching up: the posts only
    view = team_desk.team_page(current_user, team, Cursor.parse(request.args), posts_only=posts_only)
    if posts_only:
        return render_template("partials/feed_items.html", page=view.posts)
    return render_template(
        "teams/profile.html", team=team, info=view.profile, page=view.posts, title=team.name
    )


# The service names the team's fields as the account does; the form says name and description.
_FIELDS = {"display_name": "name", "bio": "description"}


def _manage(handle: str, *, form: TeamEditForm | None = None, status: int = 200):
    """Render the team's manage page (its leads and site administrators; others: 403)."""
    info = team_desk.manage_team(current_user, handle)
    team = info.team
    return render_template(
        "teams/manage.html",
        team=team,
        info=info,
        roles=(MEMBER, LEAD),
        form=form or TeamEditForm(formdata=None, name=team.display_name, description=team.bio),
        title=_("@%(team)s: members", team=team.username),
    ), status


@bp.route("/teams/<handle>/manage", methods=["GET", "POST"])
@login_required
def manage_team(handle: str):
    """The team's members and their roles, its name and description (its leads and site administrators).

    POST saves the name and description.
    """
    if request.method == "GET":
        return _manage(handle)
    form = TeamEditForm()
    status = 422
    if form.validate_on_submit():
        try:
            team = team_desk.update_team(
                current_user, handle, name=form.name.data or "", description=form.description.data or ""
            )
        except ServiceError as error:
            if error.status_code in (403, 404):
                raise
            error.field = _FIELDS.get(error.field or "", error.field)
            show_error(form, error)
            status = error.status_code
        else:
            flash(_("Saved."))
            return redirect(url_for("web.manage_team", handle=team.username))
    return _manage(handle, form=form, status=status)


@bp.route("/teams/<handle>/members", methods=["POST"])
@login_required
def team_member(handle: str):
    """Put a person on the team with a role, or change their role (its leads and administrators)."""
    try:
        member = team_desk.add_member(
            current_user, handle, request.form.get("username", ""), request.form.get("role", MEMBER)
        )
    except ServiceError as error:
        if error.status_code in (403, 404):
            raise
        flash(error.message)
    else:
        flash(
            _("%(person)s leads the team.", person=member.user.name)
            if member.is_lead
            else _("%(person)s is a member of the team.", person=member.user.name)
        )
    return redirect(safe_next(request.form.get("next"), "web.home"))


@bp.route("/teams/<handle>/members/<username>/remove", methods=["POST"])
@login_required
def remove_team_member(handle: str, username: str):
    """Take a person off the team: their team tokens are revoked at once."""
    person = team_desk.remove_named_member(current_user, handle, username)
    flash(_("%(person)s is no longer on the team; their team tokens are revoked.", person=person.name))
    return redirect(safe_next(request.form.get("next"), "web.home"))
