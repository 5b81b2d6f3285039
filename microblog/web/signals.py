"""Signals: the searches a person follows, and what matches them, live (saved searches)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.services import list_timelines, lists, saved_searches
from microblog.services.timelines import Cursor
from models.timeline_list import SEARCH

from . import bp


def _searches() -> list:
    """Return the viewer's saved searches, with their unread counts, for the page's side list."""
    counts = saved_searches.unread_counts(current_user)
    mine = lists.lists_of(current_user)
    return [(saved, counts.get(saved.id, 0)) for saved in mine if saved.kind == SEARCH]


def _checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "true", "y")


@bp.route("/signals")
@login_required
def signals():
    """Every saved search's matches, newest first, arriving live; the searches with their unread counts."""
    page = list_timelines.signals_timeline(current_user, Cursor.parse(request.args))
    if request.args.get("fragment"):
        return render_template("partials/feed_items.html", page=page)
    searches = _searches()
    streams = " ".join(f"list:{saved.id}" for saved, _count in searches)
    return render_template(
        "signals/index.html", page=page, searches=searches, streams=streams, selected=None, title=_("Signals")
    )


@bp.route("/signals/<list_id>")
@login_required
def saved_search(list_id: str):
    """One saved search's matches, newest first, arriving live."""
    saved = lists.access_list(current_user, list_id)
    if saved.kind != SEARCH:
        return redirect(url_for("web.signals"))
    page = list_timelines.list_timeline(current_user, saved, Cursor.parse(request.args))
    if request.args.get("fragment"):
        return render_template("partials/feed_items.html", page=page)
    searches = _searches()
    unread = dict((s.id, n) for s, n in searches).get(saved.id, 0)
    return render_template(
        "signals/index.html",
        page=page,
        searches=searches,
        selected=saved,
        unread=unread,
        title=_("Signals: %(query)s", query=saved.query),
    )


@bp.route("/signals", methods=["POST"])
@login_required
def follow_search():
    """Follow the search typed on the search page: its new matches come to Signals from now on."""
    saved = lists.save_search(
        current_user, request.form.get("q"), in_home=_checked("in_home"), notify=_checked("notify")
    )
    flash(
        _("You follow “%(query)s”: posts that match it appear here as they are written.", query=saved.query)
    )
    return redirect(url_for("web.saved_search", list_id=saved.id))


@bp.route("/signals/<list_id>/settings", methods=["POST"])
@login_required
def saved_search_settings(list_id: str):
    """Choose whether a saved search's matches also show in home, and notify."""
    saved = lists.update_list(current_user, list_id, in_home=_checked("in_home"), notify=_checked("notify"))
    flash(_("Saved."), "info")
    return redirect(url_for("web.saved_search", list_id=saved.id))


@bp.route("/signals/<list_id>/unfollow", methods=["POST"])
@login_required
def unfollow_search(list_id: str):
    """Stop following a saved search."""
    saved = lists.access_list(current_user, list_id)
    query = saved.query
    lists.unsave_search(current_user, saved.id)
    flash(_("You no longer follow “%(query)s”.", query=query), "info")
    return redirect(url_for("web.signals"))


@bp.route("/signals/<list_id>/read", methods=["POST"])
@login_required
def mark_search_read(list_id: str):
    """Mark a saved search read up to the newest match the page showed (site.js posts it on opening)."""
    saved = saved_searches.mark_read(current_user, list_id, request.form.get("up_to", ""))
    if request.accept_mimetypes.best == "application/json":
        return _unread()
    return redirect(url_for("web.saved_search", list_id=saved.id))


@bp.route("/signals/read", methods=["POST"])
@login_required
def mark_signals_read():
    """Mark every saved search read up to the newest match All signals showed (site.js posts it)."""
    saved_searches.mark_all_read(current_user, request.form.get("up_to", ""))
    if request.accept_mimetypes.best == "application/json":
        return _unread()
    return redirect(url_for("web.signals"))


def _unread() -> dict[str, object]:
    """Return what is unread now: the menu's count (each post once), and each saved search's."""
    counts = saved_searches.unread_counts(current_user)
    return {
        "unread": saved_searches.unread_total(current_user),
        "badge": "signals",
        "searches": {str(list_id): count for list_id, count in counts.items()},
    }
