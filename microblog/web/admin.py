"""Administration: accounts."""

from __future__ import annotations

from functools import wraps

from flask import abort, flash, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from microblog.services import accounts, social

from . import bp
from .helpers import redirect_back


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
