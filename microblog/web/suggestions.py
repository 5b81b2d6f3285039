"""What the composer's @ and # completion asks for (static/js/autocomplete.js): JSON, read only."""

from __future__ import annotations

from flask import request
from flask_login import current_user, login_required

from microblog.services import suggestions

from . import avatar_url, bp


@bp.route("/suggestions/accounts")
@login_required
def suggest_accounts():
    """Accounts to mention whose username or name starts with `q` (with or without the @)."""
    users = suggestions.mention_suggestions(current_user, request.args.get("q"))
    return {
        "accounts": [
            {
                "username": u.username,
                "name": u.name,
                "avatar": avatar_url(u),
                "community": u.is_community,
            }
            for u in users
        ]
    }


@bp.route("/suggestions/tags")
@login_required
def suggest_tags():
    """Tags on posts the writer may see that start with `q` (with or without the #)."""
    return {"tags": suggestions.tag_suggestions(current_user, request.args.get("q"))}
