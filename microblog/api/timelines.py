"""Timelines: home, public and tag, newest first, paged through the Link header."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from microblog import entities
from microblog.services import communities, timelines
from microblog.services.errors import NotFound, ValidationError
from microblog.services.social import access_tag
from microblog.services.timelines import Cursor, Page

from . import paged, requires, route, viewer


def statuses_page(page: Page):
    """Return a page of statuses as JSON with Link: next (older, if the page was full), prev (newer)."""
    items = [entities.status(post) for post in page.posts]
    next_max = str(page.next_max_id) if page.next_max_id else None
    prev_min = items[0]["id"] if items else None
    return paged(items, next_max=next_max, prev_min=prev_min)


def _cursor() -> Cursor:
    return Cursor.parse(request.args)


@route("/api/v1/timelines/home")
@requires("read:statuses")
def home():
    """Return the home timeline: own posts, followed people and tags, mentions."""
    return statuses_page(timelines.home_timeline(viewer(), _cursor()))


@route("/api/v1/timelines/public")
@requires("read:statuses")
def public():
    """Return every post in the company (all of it is `local`; nothing is `remote`)."""
    if request.args.get("remote") in ("1", "true"):
        return paged([], next_max=None, prev_min=None)
    return statuses_page(timelines.public_timeline(viewer(), _cursor()))


@route("/api/v1/timelines/tag/<hashtag>")
@requires("read:statuses")
def tag(hashtag: str):
    """Return the posts carrying a #tag (none for a tag never used)."""
    cursor = _cursor()
    try:
        found = access_tag(hashtag, viewer())
    except NotFound:
        return paged([], next_max=None, prev_min=None)
    return statuses_page(timelines.tag_timeline(viewer(), found, cursor))


@route("/api/v1/timelines/questions")
@requires("read:statuses")
def questions():
    """Return the unanswered questions the reader may see: all, or in one #tag (`tag`) or community."""
    cursor = _cursor()
    tag_name, handle = request.args.get("tag", ""), request.args.get("community", "")
    if tag_name and handle:
        raise ValidationError(_("Give tag or community, not both."), field="tag")
    if handle:
        community = communities.access_community(handle)
        return statuses_page(timelines.unanswered_questions(viewer(), cursor, community=community))
    if tag_name:
        try:
            found = access_tag(tag_name, viewer())
        except NotFound:
            return paged([], next_max=None, prev_min=None)
        return statuses_page(timelines.unanswered_questions(viewer(), cursor, tag=found))
    return statuses_page(timelines.unanswered_questions(viewer(), cursor))
