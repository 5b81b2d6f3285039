"""One function per Mastodon entity, used by the API, Socket.IO events and server-sent events.

Entities are plain dicts of JSON types; ids are strings, as Mastodon clients expect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for

from microblog.avatars import initials
from microblog.services.timelines import Author, FeedPost
from models import Notification


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account(author: Author) -> dict[str, Any]:
    """Return a Mastodon Account for a post's author."""
    avatar = url_for("web.avatar", username=author.username, v=initials(author.name), _external=True)
    return {
        "id": str(author.id),
        "username": author.username,
        "acct": author.username,
        "display_name": author.name,
        "url": url_for("web.profile", username=author.username, _external=True),
        "avatar": avatar,
        "avatar_static": avatar,
        "locked": False,
        "bot": False,
        "suspended": not author.is_active,
    }


def tag(name: str) -> dict[str, Any]:
    """Return a Mastodon Tag."""
    return {"name": name, "url": url_for("web.tag", name=name, _external=True)}


def status(post: FeedPost) -> dict[str, Any]:
    """Return a Mastodon Status; `content` is the output of the one renderer (microblog.text)."""
    url = url_for("web.post", post_id=post.id, _external=True)
    return {
        "id": str(post.id),
        "created_at": _time(post.created_at),
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "conversation_id": str(post.thread_id),
        "visibility": "public",
        "sensitive": False,
        "spoiler_text": "",
        "language": None,
        "uri": url,
        "url": url,
        "content": f"<p>{post.html}</p>",
        "text": post.text,
        "account": account(post.author),
        "replies_count": post.reply_count,
        "reblogs_count": 0,
        "favourites_count": post.like_count,
        "favourited": post.liked,
        "reblogged": False,
        "bookmarked": False,
        "muted": False,
        "tags": [tag(name) for name in post.tags],
        "mentions": [],
        "media_attachments": [],
        "emojis": [],
        "card": None,
        "poll": None,
        "reblog": None,
        "edited_at": None,
    }


def notification(note: Notification, actor: Author, post: FeedPost | None) -> dict[str, Any]:
    """Return a Mastodon Notification."""
    return {
        "id": str(note.id),
        "type": note.kind,
        "created_at": _time(note.created_at),
        "account": account(actor),
        "status": status(post) if post is not None else None,
    }
