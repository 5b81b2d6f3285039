"""Team accounts and their shared inbox: the teams I am on, the items asked of them, and acting on them.

The acting person is the token's person, or for a team token the member it was
issued on behalf of; a team token works its own team's inbox only.  Reading
needs `read:statuses`, acting `write:statuses`.  An item of a team the actor is
not on does not exist for them (404), nor does the inbox, counts or figures of a
team they are not on.
"""

from __future__ import annotations

from typing import Any, cast

from flask import jsonify, request, url_for
from flask_babel import gettext as _

from microblog import entities
from microblog.services import accounts, answering, inbox, teams, timelines
from microblog.services.errors import NotFound, ValidationError
from models import InboxItem, User

from . import actor, params, requires, route, team_token_team, text_param
from .accounts import account

# The periods of a team's figures, in days.
FIGURE_PERIODS = (7, 30)
_ORDERS = {"oldest": False, "newest": True}


def _team(team_id: str) -> User:
    """Return the team account with this id that the token may work for, or raise NotFound."""
    team = accounts.access_user_id(team_id)
    own = team_token_team()
    if not team.is_team or (own is not None and own.id != team.id):
        raise NotFound(_("No such team account."))
    return team


def _member_team(team_id: str) -> User:
    """Return a team account the acting person is on: to anyone else its inbox is not found (404)."""
    team = _team(team_id)
    if not teams.is_member(actor(), team):
        raise NotFound(_("No such team account."))
    return team


def _item_id(item_id: str) -> str:
    """Return the id of an item the token may act on: a team token's own team's items only."""
    own = team_token_team()
    if own is not None and inbox.access_item(actor(), item_id).team_id != own.id:
        raise NotFound(_("No such inbox item."))
    return item_id


def _item(item: InboxItem) -> dict[str, Any]:
    view = inbox.item_view(accounts.access_user_id(item.team_id), item)
    if view is None:
        raise NotFound(_("No such inbox item."))
    return entities.inbox_item(view)


@route("/api/v1/teams")
@requires("read:accounts")
def list_teams():
    """Return the teams the acting person is on (a team token: its team), each with their role."""
    person = actor()
    own = team_token_team()
    found = [(own, teams.role_of(person, own))] if own is not None else teams.teams_and_roles(person)
    return jsonify([{"account": account(team), "role": role} for team, role in found])


@route("/api/v1/teams/<team_id>/inbox")
@requires("read:statuses")
def team_inbox(team_id: str):
    """Return a page of the team's inbox (filter, order, after, limit); Link: rel="next" with after=."""
    team = _member_team(team_id)
    order = request.args.get("order") or "oldest"
    if order not in _ORDERS:
        raise ValidationError(_("order must be oldest or newest."), field="order")
    limit = timelines.Cursor.parse({"limit": request.args.get("limit")}).limit
    items = inbox.list_items(
        actor(),
        team,
        filter=request.args.get("filter") or "open",
        newest_first=_ORDERS[order],
        after=request.args.get("after"),
        limit=limit,
    )
    response = jsonify([entities.inbox_item(view) for view in items])
    if items:  # a short page may still have more behind items the team may no longer see
        taken = {"after", "team_id", "endpoint"}  # the cursor, and names url_for takes for itself
        args = {k: v for k, v in request.args.items() if k not in taken and not k.startswith("_")}
        endpoint = cast(str, request.endpoint)
        url = url_for(endpoint, team_id=team_id, **args, after=str(items[-1].id), _external=True)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


@route("/api/v1/teams/<team_id>/inbox/counts")
@requires("read:statuses")
def inbox_counts(team_id: str):
    """Return how many of the team's items are open, unassigned, assigned, answered and closed."""
    return jsonify(inbox.counts(_member_team(team_id)))


@route("/api/v1/teams/<team_id>/figures")
@requires("read:statuses")
def team_figures(team_id: str):
    """Return the team's figures over the last 7 and 30 days."""
    team = _member_team(team_id)
    return jsonify({str(days): _figures(inbox.figures(team, days)) for days in FIGURE_PERIODS})


def _figures(figures: inbox.Figures) -> dict[str, Any]:
    return {
        "days": figures.days,
        "received": figures.received,
        "answered": figures.answered,
        "answered_share": figures.answered_share,
        "median_seconds": figures.median_seconds,
        "p90_seconds": figures.p90_seconds,
    }


@route("/api/v1/inbox/<item_id>/assign", methods=["POST"])
@requires("write:statuses")
def assign(item_id: str):
    """Assign the item to a member of its team (account_id; the actor when left out)."""
    data = params()
    account_id = text_param(data, "account_id")
    assignee = accounts.access_user_id(account_id) if account_id else None
    return jsonify(_item(inbox.assign(actor(), _item_id(item_id), assignee)))


@route("/api/v1/inbox/<item_id>/unassign", methods=["POST"])
@requires("write:statuses")
def unassign(item_id: str):
    """Give the item back to the whole team."""
    return jsonify(_item(inbox.unassign(actor(), _item_id(item_id))))


@route("/api/v1/inbox/<item_id>/close", methods=["POST"])
@requires("write:statuses")
def close(item_id: str):
    """Close the item without an answer, with a reason."""
    reason = text_param(params(), "reason") or ""
    return jsonify(_item(inbox.close(actor(), _item_id(item_id), reason)))


@route("/api/v1/inbox/<item_id>/reopen", methods=["POST"])
@requires("write:statuses")
def reopen(item_id: str):
    """Open a closed or answered item again."""
    return jsonify(_item(inbox.reopen(actor(), _item_id(item_id))))


@route("/api/v1/inbox/<item_id>/answer", methods=["POST"])
@requires("write:statuses")
def answer(item_id: str):
    """Reply to the item's post as the team (`status`); the reply answers the item. Return it."""
    text = text_param(params(), "status")
    if text is None:
        raise ValidationError(_("status is required: the text of the answer."), field="status")
    reply = answering.answer(actor(), _item_id(item_id), text)
    # As the team sees it: the member may not be in the private community the team answered in.
    view = timelines.announced_view(reply.id)
    if view is None:
        raise NotFound(_("That post does not exist or was deleted."))
    return jsonify(entities.status(view))
