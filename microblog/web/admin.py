"""Administration: accounts and team accounts."""

from __future__ import annotations

import re
from functools import wraps

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from microblog.services import accounts, social, team_desk
from microblog.services.errors import ServiceError

from . import bp
from .forms import TeamForm
from .helpers import redirect_back, show_error


def admin_required(view):
    """Refuse the view to anyone but administrators."""

    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/admin/users")
@admin_required
def admin_users():
    """Every account, with deactivate and admin buttons."""
    query = request.args.get("q", "").strip()[:100] or None
    users = social.all_users(query=query, after=request.args.get("after") or None)
    return render_template(
        "admin/users.html",
        users=users,
        query=query,
        next_after=users[-1].username if len(users) >= social.LIST_LIMIT else None,
        title=_("Accounts"),
    )


# The message after each action, translated when shown (%(name)s: the person's name).
_ACTIONS = {
    "deactivate": (accounts.set_active, False, _l("%(name)s is deactivated and logged out.")),
    "reactivate": (accounts.set_active, True, _l("%(name)s can log in again.")),
    "grant-admin": (accounts.set_admin, True, _l("%(name)s is now an administrator.")),
    "revoke-admin": (accounts.set_admin, False, _l("%(name)s is no longer an administrator.")),
}


@bp.route("/admin/users/<username>/<action>", methods=["POST"])
@admin_required
def admin_user_action(username: str, action: str):
    """Deactivate, reactivate, grant or revoke admin."""
    if action not in _ACTIONS:
        abort(404)
    service, value, message = _ACTIONS[action]
    user = service(current_user, username, value)
    flash(str(message) % {"name": user.name})
    return redirect_back("web.admin_users")


# The services name fields as the account does; the form says handle, name and description.
_TEAM_FIELDS = {"username": "handle", "display_name": "name", "bio": "description"}


def _usernames(text: str | None) -> list[str]:
    """Return the usernames in a field that lists them by spaces or commas (an @ is allowed)."""
    return [name.lstrip("@") for name in re.split(r"[\s,;]+", text or "") if name.strip("@")]


@bp.route("/admin/teams", methods=["GET", "POST"])
@admin_required
def admin_teams():
    """Every team account with its members; POST creates one with its first members and leads."""
    form = TeamForm()
    status = 200
    if form.is_submitted():
        status = 422
        if form.validate():
            try:
                team = team_desk.create_team(
                    current_user,
                    form.handle.data or "",
                    name=form.name.data or "",
                    description=form.description.data or "",
                    members=_usernames(form.members.data),
                    leads=_usernames(form.leads.data),
                )
            except ServiceError as error:
                error.field = _TEAM_FIELDS.get(error.field or "", error.field)
                show_error(form, error)
                status = error.status_code
            else:
                flash(
                    _(
                        "@%(team)s is ready: its members can post as it and work its inbox.",
                        team=team.username,
                    )
                )
                return redirect(url_for("web.admin_teams"))
    return render_template(
        "admin/teams.html", form=form, teams=team_desk.all_teams(), title=_("Team accounts")
    ), status
