"""The web UI: server-rendered pages; JavaScript only adds the counter and conveniences."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Flask, request, url_for
from flask_babel import (
    format_date,
    format_decimal,
    format_percent,
    format_time,
    format_timedelta,
    get_locale,
    get_timezone,
    gettext,
)
from flask_login import current_user

from microblog import charts, language
from microblog.avatars import initials
from microblog.entities import Author, FeedPost, MediaView
from microblog.services import activity, notifications, saved_searches
from microblog.services import communities as community_service
from microblog.services import teams as team_service
from microblog.text import is_web_url
from models.media_attachment import MAX_ATTACHMENTS, MAX_DESCRIPTION

from .forms import ButtonForm
from .plot_text import long_date, plot_text, short_date

bp = Blueprint("web", __name__)


JUST_NOW = timedelta(seconds=45)
RELATIVE_FOR = timedelta(days=7)  # older times show their date (site.js ages the newer ones in the page)


def timeago(moment: datetime, now: datetime | None = None) -> str:
    """Return how long ago a moment was in the reader's language ("for 3 minutter siden"), or its date."""
    age = (now or datetime.now(UTC)) - moment
    if age < JUST_NOW:
        return gettext("just now")
    if age < RELATIVE_FOR:
        return format_timedelta(-age, threshold=1, add_direction=True)
    return format_date(moment, "medium")  # in the reader's time zone


def exact_time(moment: datetime) -> str:
    """Return a moment's date and time for the reader ("4. desember 2026 kl. 19:58", in their zone)."""
    return gettext(
        "%(date)s at %(time)s", date=format_date(moment, "long"), time=format_time(moment, "short")
    )


# A length of time is said in its largest unit and, if any is left, the next one ("1 hour 30 minutes").
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration(seconds: int | float | None) -> str:
    """Return a length of time in the reader's language, in at most two units; a dash for none."""
    if seconds is None:
        return "–"
    rest = max(0, int(seconds))
    for index, (unit, size) in enumerate(_UNITS):
        if rest >= size or unit == "second":
            parts = [format_timedelta(timedelta(seconds=rest // size * size), granularity=unit, threshold=1)]
            if index + 1 < len(_UNITS):
                small, small_size = _UNITS[index + 1]
                left = rest % size // small_size
                if left:
                    parts.append(
                        format_timedelta(timedelta(seconds=left * small_size), granularity=small, threshold=1)
                    )
            return " ".join(parts)
    return ""  # not reached: "second" always matches


def percent(share: float | None) -> str:
    """Return a share as a percentage in the reader's language ("50 %"); a dash for none."""
    return "–" if share is None else format_percent(share)


def avatar_url(user) -> str:
    """Return the URL of a user's avatar; it changes with the initials, so caches stay right."""
    return url_for("web.avatar", username=user.username, v=initials(user.name))


# Placeholders in the live post <template>; live.js swaps them for an event's values.
TEMPLATE_POST_ID = 1111111111
TEMPLATE_REPLY_ID = 2222222222
TEMPLATE_USERNAME = "__username__"


def live_post_template() -> FeedPost:
    """Return the placeholder post that the live <template> is rendered from.

    Its one image, described, is the pattern live.js copies for each image of a live post.
    """
    author = Author(0, TEMPLATE_USERNAME, "", True)
    image = MediaView(0, "0" * 32, "png", 1, 1, 1, 1, "-", 0.0, 0.0, "")
    return FeedPost(
        TEMPLATE_POST_ID,
        "",
        "",
        datetime.now(UTC),
        TEMPLATE_REPLY_ID,
        None,
        0,
        0,
        author,
        (),
        False,
        media=(image,),
    )


def live_communities(extra=None) -> list[dict[str, object]]:
    """Return the communities live.js may name on a live post: the viewer's, and the page's (extra)."""
    found = {c.id: c for c in community_service.communities_of(current_user)}
    if extra is not None:
        found.setdefault(extra.id, extra)
    return [
        {"id": str(c.id), "username": c.username, "name": c.name, "locked": c.locked} for c in found.values()
    ]


def composer_teams() -> list:
    """Return the team accounts the viewer may post as (the composer's "Post as" choices)."""
    return team_service.teams_of(current_user) if current_user.is_authenticated else []


def real_author_teams(posts: Iterable[FeedPost]) -> set[int]:
    """Return the ids of the teams on a page whose real authors the viewer is shown: one query a page."""
    team_ids = {post.author.id for post in posts if post.author.is_team}
    viewer = current_user if current_user.is_authenticated else None
    return team_service.sees_real_authors(viewer, team_ids) if team_ids else set()


@lru_cache(maxsize=256)
def static_version(folder: str, filename: str) -> str | None:
    """Return a short hash of a static file's content (read once per process), or None if missing."""
    try:
        return hashlib.sha256((Path(folder) / filename).read_bytes()).hexdigest()[:12]
    except OSError:
        return None


@bp.before_request
def _record_activity() -> None:
    """Note that the signed-in person used microblog today (one write a day, after the request)."""
    # current_user is the log-in the page loads anyway: no query of its own.
    if current_user.is_authenticated and not current_user.is_community and not current_user.is_team:
        activity.record_after_request(current_user.id)


def init_app(app: Flask) -> None:
    """Register the web blueprint, its filters and template globals."""
    from . import (  # noqa: F401  (routes)
        admin,
        bookmarks,
        communities,
        dashboard,
        editing,
        feeds,
        media,
        people,
        questions,
        search,
        settings,
        signals,
        suggestions,
        teams,
    )

    app.register_blueprint(bp)
    app.add_template_filter(timeago, "timeago")
    app.add_template_filter(exact_time, "exact_time")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(format_decimal, "format_decimal")
    app.add_template_filter(short_date, "short_date")
    app.add_template_filter(long_date, "long_date")
    # templates/charts/_plot.html draws what chart_plot returns, in the words plot_text gives it.
    app.add_template_global(charts.plot, "chart_plot")
    app.add_template_global(plot_text, "plot_text")
    app.add_template_test(is_web_url, "web_url")  # the only URLs from input that templates link to
    app.add_template_global(avatar_url, "avatar_url")
    app.add_template_global(live_post_template, "live_post_template")
    app.add_template_global(live_communities, "live_communities")
    app.add_template_global(composer_teams, "composer_teams")
    app.add_template_global(real_author_teams, "real_author_teams")
    app.add_template_global(media.image_box, "image_box")
    app.add_template_global(media.composer_attachments, "composer_attachments")
    # The composer's limits on images, as the server applies them (services.media).
    app.jinja_env.globals.update(max_attachments=MAX_ATTACHMENTS, max_description=MAX_DESCRIPTION)

    @app.url_defaults
    def _static_version(endpoint: str, values: dict) -> None:
        # ?v=<hash>: a new release's files get new URLs, so caches may keep each one for good.
        if endpoint == "static" and "v" not in values and app.static_folder:
            version = static_version(app.static_folder, values.get("filename", ""))
            if version:
                values["v"] = version

    @app.context_processor
    def _language() -> dict:
        def current_locale() -> str:
            return str(get_locale() or app.config["DEFAULT_LOCALE"])

        return {
            "current_locale": current_locale,
            "current_time_zone": lambda: str(get_timezone() or app.config["TIMEZONE"]),
            # The scripts' strings in the reader's language, for base.html's JSON data block.
            "script_catalog": lambda: language.script_catalog(current_locale()),
        }

    @app.context_processor
    def _unread() -> dict:
        if not current_user.is_authenticated or request.args.get("fragment"):
            return {"unread_notifications": 0, "unread_signals": 0}
        return {
            "unread_notifications": notifications.unread_count(current_user),
            "unread_signals": saved_searches.unread_total(current_user),
        }

    @app.context_processor
    def _buttons() -> dict:
        # One CSRF-carrying form for every button on a page; `next` brings the user back.
        # A live catch-up fragment's buttons come back to the page, not to the fragment.
        here = request.path if request.args.get("fragment") else request.full_path.rstrip("?")
        return {"button_form": ButtonForm(formdata=None, next=here)}
