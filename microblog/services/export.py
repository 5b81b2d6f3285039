"""Everything microblog keeps about one person, gathered for a data-protection request."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Select, String, literal, select
from sqlalchemy.orm import InstrumentedAttribute

from microblog.database import batches, db
from microblog.entities import MediaView
from models import Follow, Like, MediaAttachment, Post, Tag, TagFollow, User, utcnow

from . import media
from .visibility import post_is_visible

BATCH = 1000
EXPORT_FORMAT = 1  # bumped when a field changes meaning or goes away


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def export_user(user: User) -> dict[str, Any]:
    """Return one person's profile, posts (theirs and those they wrote as a team), follows, tags and likes."""
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(utcnow()),
        "profile": {
            "username": user.username,
            "display_name": user.display_name,
            "email": user.email,
            "job_title": user.job_title,
            "department": user.department,
            "bio": user.bio,
            "created_at": _iso(user.created_at),
            "admin": user.is_admin,
            "active": user.is_active,
            "directory_entry": user.directory_dn,
        },
        "posts": list(posts_of(user)),
        "following": _usernames(Follow.followee_id, Follow.follower_id == user.id),
        "followers": _usernames(Follow.follower_id, Follow.followee_id == user.id),
        "followed_tags": list(
            db.session.scalars(
                select(Tag.name)
                .join(TagFollow, TagFollow.tag_id == Tag.id)
                .where(TagFollow.user_id == user.id)
                .order_by(Tag.name)
            )
        ),
        "liked_post_ids": list(
            db.session.scalars(
                select(Like.post_id)
                .join(Post, Post.id == Like.post_id)
                .where(Like.user_id == user.id, post_is_visible(user.id))
                .order_by(Like.post_id)
            )
        ),
    }


def posts_of(user: User) -> Iterator[dict[str, Any]]:
    """Yield the posts the person wrote oldest first, reading BATCH rows at a time (never all at once).

    Their own, and those they wrote as a team account (posts.posted_by_id),
    marked with the team's handle in `posted_as` (None on their own).  Only
    those they may see now: a private community's posts stay with its members,
    also those a former member wrote (the compliance export has them).
    """
    columns = (Post.id, Post.created_at, Post.text, Post.in_reply_to_id, Post.like_count)
    visible = post_is_visible(user.id)
    own = select(*columns, literal(None, String).label("team")).where(Post.author_id == user.id, visible)
    as_team = (
        select(*columns, User.username.label("team"))
        .join(User, User.id == Post.author_id)
        .where(Post.posted_by_id == user.id, visible)
    )
    # Two walks, each along its own index (author, posted_by), merged by id.
    yield from heapq.merge(_posts(own), _posts(as_team), key=lambda post: post["id"])


def _posts(statement: Select) -> Iterator[dict[str, Any]]:
    for rows in batches(statement, Post.id, BATCH):
        images = media.media_of(row.id for row in rows)  # one query a batch
        for row in rows:
            yield {
                "id": row.id,
                "created_at": _iso(row.created_at),
                "text": row.text,
                "in_reply_to_id": row.in_reply_to_id,
                "likes": row.like_count,
                "posted_as": row.team,
                "images": [_image(image) for image in images.get(row.id, ())],
            }


def _image(image: MediaView) -> dict[str, Any]:
    """Return an attached image as the export lists it: `file` is its name in the export's archive."""
    return {
        "id": image.id,
        "file": f"images/{image.id}.{image.ext}",
        "description": image.description,
        "width": image.width,
        "height": image.height,
    }


def image_files(document: dict[str, Any]) -> Iterator[tuple[str, Path]]:
    """Yield each image an export lists: its name in the archive and its stored file."""
    ids = [image["id"] for post in document["posts"] for image in post["images"]]
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for row in db.session.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(chunk))):
            yield f"images/{row.id}.{row.ext}", media.media_dir() / media.file_names(row)["original"]


def _usernames(other_id: InstrumentedAttribute[int], condition: ColumnElement[bool]) -> list[str]:
    """Return the usernames at the other end of the person's follows, sorted."""
    stmt = select(User.username).join(Follow, other_id == User.id).where(condition).order_by(User.username)
    return list(db.session.scalars(stmt))
