"""The search page: posts, people and tags for what was typed in the header's search box."""

from __future__ import annotations

from dataclasses import replace

from flask import current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

import search
from microblog.services import lists, timelines, visibility
from search.highlight import highlighter

from . import bp


@bp.route("/search")
@login_required
def search_page():
    """Search posts (relevance or newest first, cursor paging), with matching people and tags."""
    raw = request.args.get("q", "")
    newest = request.args.get("order") == "newest"
    query = search.parse_query(raw, newest_first=newest)
    page = search.PageRequest.parse(request.args.get("cursor"))
    reader = visibility.search_reader(current_user)
    hits = search.search_posts(query, page, reader=reader)
    found = timelines.post_views(hits.ids, current_user)
    highlight = highlighter(query, current_app.config["SEARCH_LANGUAGE"])
    posts = [replace(found[i], html=highlight(found[i].html)) for i in hits.ids if i in found]
    first_page = page.offset == 0 and page.before_id is None
    followed = lists.followed_search(current_user, raw) if not query.is_empty else None
    return render_template(
        "search.html",
        q=raw,
        query=query,
        newest=newest,
        posts=posts,
        notes=hits.notes,
        next_cursor=hits.next_cursor,
        people=search.search_people(query) if first_page else [],
        tags=search.search_tags(query, reader) if first_page else [],
        first_page=first_page,
        followed=followed,
        title=_("Search: %(query)s", query=raw) if raw.strip() else _("Search"),
    )
