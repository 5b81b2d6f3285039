"""Timelines: home, public and tag, newest first, paged through the Link header."""

from __future__ import annotations

from typing import NamedTuple

from flask import Response, current_app, request
from flask_babel import gettext as _

from microblog import entities
from microblog.kept import kept_in_app
from microblog.services import communities, timelines
from microblog.services.errors import NotFound, ValidationError
from microblog.services.social import access_tag
from microblog.services.timelines import Cursor, Page

from . import paged, requires, route, viewer, viewer_id


def statuses_page(page: Page):
    """Return a page of statuses as JSON with Link: next (older, if the page was full), prev (newer)."""
    items = [entities.status(post) for post in page.posts]
    next_max = str(page.next_max_id) if page.next_max_id else None
    prev_min = items[0]["id"] if items else None
    return paged(items, next_max=next_max, prev_min=prev_min)


# Readers whose last home page a process keeps as JSON, and the largest page kept.  A page of
# twenty statuses is about 33 KB; its posts, kept beside it, take about as much again.  A post
# measures 140 characters but may be far longer in bytes (a link counts as 23): a page past
# KEPT_PAGE_BYTES is answered, not kept.  At most about 256 x 2 x 64 KiB = 32 MiB a process.
KEPT_PAGES = 256
KEPT_PAGE_BYTES = 64 * 1024


class _KeptPage(NamedTuple):
    """A reader's last home page as answered."""

    url: str  # as asked
    posts: list[entities.FeedPost]  # as read
    body: bytes
    link: str | None  # the Link header


def _answered_before(reader_id: int, page: Page) -> Response:
    """Return statuses_page(page), encoded once for as long as the reader is answered the same posts.

    A client asking again for a page that did not change is common (an app
    refreshing, a bot polling).  What a page says follows from its posts as
    read (each post's every value, the reader's marks included) and the URL
    asked (links are absolute, the query carries over into Link): equal
    posts and the same URL make the same bytes.  The posts are read and
    checked as for any page; only building their JSON again is spared.
    """
    kept = kept_in_app("microblog.api.home_pages", KEPT_PAGES)
    url = request.url
    found: _KeptPage | None = kept.get(reader_id)
    if found is not None and found.url == url and found.posts == page.posts:
        response = current_app.response_class(found.body, mimetype="application/json")
        if found.link:
            response.headers["Link"] = found.link
        return response
    response = statuses_page(page)
    body = response.get_data()
    if len(body) <= KEPT_PAGE_BYTES:
        kept.keep(reader_id, _KeptPage(url, page.posts, body, response.headers.get("Link")))
    return response


def _cursor() -> Cursor:
    return Cursor.parse(request.args)


@route("/api/v1/timelines/home")
@requires("read:statuses", loads_user=False)
def home():
    """Return the home timeline: own posts, followed people and tags, mentions."""
    reader_id = viewer_id()
    return _answered_before(reader_id, timelines.home_timeline(reader_id, _cursor()))


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
