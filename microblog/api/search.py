"""Search (v2): accounts, hashtags and statuses for one query, with the search page's syntax."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _

import search
from microblog import entities
from microblog.services import social, timelines, visibility
from microblog.services.errors import ValidationError
from microblog.services.timelines import Cursor
from microblog.text import parse_id

from . import requires, route, viewer
from .accounts import account

TYPES = ("accounts", "hashtags", "statuses")


def _offset() -> int:
    offset = parse_id(request.args.get("offset") or "0")
    if offset is None or offset > 10_000:
        raise ValidationError(_("offset must be a whole number up to 10000."))
    return offset


@route("/api/v2/search")
@requires("read:search")
def search_v2():
    """Search posts, people and tags; `type` narrows to one, `offset` or `max_id` pages."""
    kind = request.args.get("type") or None
    if kind is not None and kind not in TYPES:
        raise ValidationError(_("type must be accounts, hashtags or statuses."))
    cursor = Cursor.parse(request.args)
    offset = _offset()
    newest_first = cursor.max_id is not None
    query = search.parse_query(request.args.get("q", ""), newest_first=newest_first)
    result: dict[str, list] = {"accounts": [], "statuses": [], "hashtags": []}
    if kind in (None, "statuses"):
        page = search.PageRequest(
            limit=cursor.limit, offset=0 if newest_first else offset, before_id=cursor.max_id
        )
        hits = search.search_posts(query, page, reader=visibility.search_reader(viewer()))
        found = timelines.post_views(hits.ids, viewer())
        result["statuses"] = [entities.status(found[i]) for i in hits.ids if i in found]
    if offset == 0 and kind in (None, "accounts"):
        result["accounts"] = [account(u) for u in search.search_people(query, limit=cursor.limit)]
    if offset == 0 and kind in (None, "hashtags"):
        names = search.search_tags(query, visibility.search_reader(viewer()), limit=cursor.limit)
        followed = {t.name for t in social.followed_tags(viewer())} if names else set()
        result["hashtags"] = [entities.tag(name, following=name in followed) for name in names]
    return jsonify(result)
