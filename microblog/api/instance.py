"""Discovery: the Instance entities (v1 and v2) and NodeInfo, which clients read before anything else."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request, url_for

from microblog.services import accounts
from microblog.text import MAX_POST_LENGTH, URL_LENGTH
from models.media_attachment import MAX_ATTACHMENTS, MAX_DESCRIPTION
from models.pin import MAX_PROFILE_PINS

from . import route

SOFTWARE_VERSION = "0.1"
VERSION = f"4.3.0 (compatible; microblog {SOFTWARE_VERSION})"


def _streaming_base() -> str:
    """Return where the streaming API lives: this server, as ws:// or wss:// (Mastodon's form)."""
    root = request.host_url.rstrip("/")
    return (
        "wss://" + root.removeprefix("https://")
        if root.startswith("https://")
        else "ws://" + root.removeprefix("http://")
    )


def _configuration() -> dict[str, Any]:
    return {
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": MAX_PROFILE_PINS},
        "statuses": {
            "max_characters": MAX_POST_LENGTH,
            "max_media_attachments": MAX_ATTACHMENTS,
            "characters_reserved_per_url": URL_LENGTH,
        },
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
            "image_size_limit": current_app.config["MEDIA_MAX_BYTES"],
            "image_matrix_limit": current_app.config["MEDIA_MAX_PIXELS"],
            "description_limit": MAX_DESCRIPTION,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
    }


def _description() -> str:
    return "Status updates, #project tags and search for everyone in the company."


@route("/api/v1/instance")
def instance_v1():
    """Describe this server (Mastodon's v1 Instance)."""
    counts = accounts.site_counts()
    return jsonify(
        {
            "uri": request.host,
            "title": "microblog",
            "short_description": _description(),
            "description": _description(),
            "email": "",
            "version": VERSION,
            "urls": {"streaming_api": _streaming_base()},
            "stats": {"user_count": counts.users, "status_count": counts.posts, "domain_count": 0},
            "thumbnail": None,
            "languages": ["en", "nb", "nn"],
            "registrations": True,
            "approval_required": False,
            "invites_enabled": False,
            "configuration": _configuration(),
            "contact_account": None,
            "rules": [],
        }
    )


@route("/api/v2/instance")
def instance_v2():
    """Describe this server (Mastodon's v2 Instance)."""
    counts = accounts.site_counts()
    configuration = _configuration()
    configuration["urls"] = {"streaming": _streaming_base(), "status": None}
    configuration["translation"] = {"enabled": False}
    # Mastodon.py asks before streaming or reading feeds; everything here needs a login.
    signed_in = {"local": "authenticated", "remote": "disabled"}
    configuration["timelines_access"] = {
        "live_feeds": signed_in,
        "hashtag_feeds": signed_in,
        "trending_link_feeds": {"local": "disabled", "remote": "disabled"},
    }
    return jsonify(
        {
            "domain": request.host,
            "title": "microblog",
            "version": VERSION,
            "source_url": url_for("web.home", _external=True),
            "description": _description(),
            "usage": {"users": {"active_month": counts.users}},
            "thumbnail": {"url": url_for("static", filename="favicon.svg", _external=True)},
            "icon": [],
            "languages": ["en", "nb", "nn"],
            "configuration": configuration,
            "registrations": {"enabled": True, "approval_required": False, "message": None, "url": None},
            "api_versions": {"mastodon": 2},
            "contact": {"email": "", "account": None},
            "rules": [],
        }
    )


NODEINFO_20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"


@route("/.well-known/nodeinfo")
def nodeinfo_links():
    """Point to this server's NodeInfo document (megalodon's apps read it to tell the server's kind)."""
    return jsonify({"links": [{"rel": NODEINFO_20, "href": url_for("api.nodeinfo", _external=True)}]})


@route("/nodeinfo/2.0")
def nodeinfo():
    """Describe this server in NodeInfo 2.0: microblog, whose client API is Mastodon's (`metadata.upstream`).

    It speaks no federation protocol, so it names none.
    """
    counts = accounts.site_counts()
    mastodon, _compatible = VERSION.split(" ", 1)
    return jsonify(
        {
            "version": "2.0",
            "software": {"name": "microblog", "version": SOFTWARE_VERSION},
            "protocols": [],
            "services": {"inbound": [], "outbound": []},
            "openRegistrations": False,
            "usage": {"users": {"total": counts.users}, "localPosts": counts.posts},
            "metadata": {"nodeName": "microblog", "upstream": {"name": "mastodon", "version": mastodon}},
        }
    )


@route("/api/v1/instance/peers")
def instance_peers():
    """List federated peers: none, this server does not federate."""
    return jsonify([])


@route("/api/v1/instance/activity")
def instance_activity():
    """Weekly activity: not kept here."""
    return jsonify([])


@route("/api/v1/custom_emojis")
def custom_emojis():
    """List custom emoji: none."""
    return jsonify([])
