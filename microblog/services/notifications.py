"""Notifications: recording them, reading them, and the unread count behind the badge."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

import realtime
from microblog.api import serializers
from microblog.extensions import db
from models import Notification, User
from models.base import MAX_ID

from . import timelines
from .timelines import Author, Cursor, FeedPost
from .transaction import on_commit

PAGE_LIMIT = 30


def notify(kind: str, actor: User, recipient_ids: list[int], post_id: int | None = None) -> None:
    """Record a notification for each recipient (never the actor) and publish it after commit.

    Call inside the action's transaction, after the post (if any) is flushed.
    """
    recipients = sorted(set(recipient_ids) - {actor.id})
    if not recipients:
        return
    notes = db.session.scalars(
        insert(Notification).returning(Notification),
        [{"user_id": uid, "actor_id": actor.id, "kind": kind, "post_id": post_id} for uid in recipients],
    ).all()
    author = Author(actor.id, actor.username, actor.display_name, actor.is_active)
    post = timelines.post_view(post_id) if post_id is not None else None
    payloads = [(note.user_id, serializers.notification(note, author, post)) for note in notes]

    def send() -> None:
        for user_id, payload in payloads:
            realtime.publish(realtime.user_stream([user_id]), "notification", payload)

    on_commit(send)


def unread_count(user: User) -> int:
    """Return how many notifications the user has not seen."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.id > user.notifications_seen_id)
        )
        or 0
    )


@dataclass(frozen=True)
class NotificationView:
    """A notification as the page shows it."""

    id: int
    kind: str
    actor: Author
    post: FeedPost | None
    unread: bool


def list_notifications(user: User, cursor: Cursor | None = None) -> list[NotificationView]:
    """Return a page of the user's notifications, newest first, and mark them all seen."""
    stmt = (
        select(Notification, User)
        .join(User, User.id == Notification.actor_id)
        .where(Notification.user_id == user.id, Notification.id < ((cursor and cursor.max_id) or MAX_ID))
        .order_by(Notification.id.desc())
        .limit(PAGE_LIMIT)
    )
    rows = db.session.execute(stmt).all()
    posts = timelines.post_views((note.post_id for note, _ in rows if note.post_id), user)
    seen = user.notifications_seen_id
    views = [
        NotificationView(
            note.id,
            note.kind,
            Author(actor.id, actor.username, actor.display_name, actor.is_active),
            posts.get(note.post_id) if note.post_id else None,
            note.id > seen,
        )
        for note, actor in rows
    ]
    if views and views[0].id > seen:
        db.session.execute(update(User).where(User.id == user.id).values(notifications_seen_id=views[0].id))
        db.session.commit()
    return views
