"""Everything microblog keeps about one person, gathered for a data-protection request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute

from microblog.database import batches, db
from models import Follow, Like, Post, Tag, TagFollow, User, utcnow

from .visibility import post_is_visible

BATCH = 1000
EXPORT_FORMAT = 1  # bumped when a field changes meaning or goes away


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def export_user(user: User) -> dict[str, Any]:
    """Return one person's profile, posts, follows, followed tags and likes as plain data."""
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
    """Yield the person's posts oldest first, reading BATCH rows at a time (never all at once).

    Only those they may see now: a private community's posts stay with its
    members, also those a former member wrote (the compliance export has them).
    """
    statement = select(Post.id, Post.created_at, Post.text, Post.in_reply_to_id, Post.like_count).where(
        Post.author_id == user.id, post_is_visible(user.id)
    )
    for rows in batches(statement, Post.id, BATCH):
        for row in rows:
            yield {
                "id": row.id,
                "created_at": _iso(row.created_at),
                "text": row.text,
                "in_reply_to_id": row.in_reply_to_id,
                "likes": row.like_count,
            }


def _usernames(other_id: InstrumentedAttribute[int], condition: ColumnElement[bool]) -> list[str]:
    """Return the usernames at the other end of the person's follows, sorted."""
    stmt = select(User.username).join(Follow, other_id == User.id).where(condition).order_by(User.username)
    return list(db.session.scalars(stmt))
