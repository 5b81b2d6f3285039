"""Notifications: recording them, reading them, and the unread count behind the badge."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import aliased

import realtime
from microblog import entities
from microblog.database import db, on_commit
from microblog.entities import Author, FeedPost
from microblog.text import parse_id
from models import CommunityAdmin, Notification, Post, User, utcnow
from models.base import MAX_ID

from . import timelines
from .errors import ValidationError
from .timelines import Cursor
from .visibility import Audience, audience, post_is_visible

PAGE_LIMIT = 30
# A group of likes of one post (or of follows) takes in what comes within this many hours of its
# first hour, as Mastodon's Notification::Groups does (MAXIMUM_GROUP_SPAN_HOURS).
GROUP_SPAN_HOURS = 12


def notify(
    kind: str,
    actor: User,
    recipient_ids: list[int],
    post_id: int | None = None,
    *,
    view: FeedPost | None = None,
    seen_by: Audience | None = None,
    community_id: int | None = None,
) -> None:
    """Record a notification for each recipient who may see its post (never the actor); publish after commit.

    Call inside the action's transaction, after the post (if any) is flushed;
    `view` is that post as feeds show it, and `seen_by` its audience, if the caller has them already.
    `community_id` names the community a join request or acceptance is about.
    """
    recipients = set(recipient_ids) - {actor.id}
    if recipients and post_id is not None:
        seen_by = seen_by or audience(post_id)
        recipients = set(seen_by.only(recipients))  # a private post: its members only
    if not recipients:
        return
    now = utcnow()
    keys = group_keys(kind, post_id, recipients, now)
    notes = db.session.scalars(
        insert(Notification).returning(Notification),
        [
            {
                "user_id": uid,
                "actor_id": actor.id,
                "kind": kind,
                "post_id": post_id,
                "community_id": community_id,
                "created_at": now,
                "group_key": keys.get(uid),
            }
            for uid in sorted(recipients)
        ],
    ).all()
    author = Author.of(actor)
    post = view if view is not None or post_id is None else timelines.announced_view(post_id)
    payloads = [(note.user_id, entities.notification(note, author, post)) for note in notes]

    def send() -> None:
        for user_id, payload in payloads:
            realtime.publish(realtime.user_stream([user_id]), "notification", payload)

    on_commit(send)


def group_keys(
    kind: str, post_id: int | None, recipient_ids: Collection[int], now: datetime
) -> dict[int, str]:
    """Return the group key of a new notification for each recipient, for the kinds Mastodon groups.

    Mastodon's rule: "favourite-<post id>-<hour>" (likes of one post) or "follow-<hour>", where
    <hour> counts hours since 1970.  A notification joins the recipient's newest group of its
    kind (and post) when that group's hour is less than GROUP_SPAN_HOURS before its own, and
    starts one at its own hour otherwise; so a group spans at most GROUP_SPAN_HOURS hours.
    One query, whatever the number of recipients.
    """
    if kind in ("favourite", "reblog") and post_id is not None:
        prefix = f"{kind}-{post_id}"
    elif kind == "follow":
        prefix = kind
    else:
        return {}
    hour = int(now.timestamp()) // 3600
    joinable = [f"{prefix}-{h}" for h in range(hour - GROUP_SPAN_HOURS + 1, hour + 1)]
    newest = func.max(Notification.id)
    rows = db.session.execute(
        select(Notification.user_id, Notification.group_key, newest)
        .where(Notification.user_id.in_(sorted(recipient_ids)), Notification.group_key.in_(joinable))
        .group_by(Notification.user_id, Notification.group_key)
        .order_by(newest)
    ).all()
    keys = {uid: f"{prefix}-{hour}" for uid in recipient_ids}
    keys.update({uid: key for uid, key, _ in rows})  # newest last: each recipient's newest group
    return keys


def withdraw(kind: str, actor: User, post_id: int) -> None:
    """Delete the notifications of one kind an actor caused about a post (a like taken back, as in Mastodon).

    Liking again then notifies once more, not twice.
    """
    db.session.execute(
        delete(Notification).where(
            Notification.kind == kind, Notification.actor_id == actor.id, Notification.post_id == post_id
        )
    )


def readable(user: User) -> ColumnElement[bool]:
    """Return the condition that the user may still read a notification.

    Its post (if any) is one they may see, and a join request is to a community
    they still administer.
    """
    post_visible = or_(
        Notification.post_id.is_(None),
        exists().where(Post.id == Notification.post_id, post_is_visible(user.id)),
    )
    still_admin = or_(
        Notification.kind != "follow_request",
        exists().where(
            CommunityAdmin.community_id == Notification.community_id, CommunityAdmin.user_id == user.id
        ),
    )
    return and_(post_visible, still_admin)


def unread_count(user: User) -> int:
    """Return how many notifications the user has not seen (about posts they may still see)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.user_id == user.id, Notification.id > user.notifications_seen_id, readable(user)
            )
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
    created_at: datetime
    community: Author | None = None  # the community a join request or acceptance is about
    group_key: str | None = None  # Mastodon's, for the kinds it groups (models.notification)


def list_notifications(
    user: User,
    cursor: Cursor | None = None,
    *,
    kinds: Collection[str] | None = None,
) -> list[NotificationView]:
    """Return a page of the user's notifications, newest first (min_id: the page just above it).

    Reading changes nothing: the web page marks what it showed as seen with a POST
    (mark_notifications_seen); API clients keep their own place.
    """
    cursor = cursor or Cursor(limit=PAGE_LIMIT)
    bounds = [Notification.user_id == user.id, Notification.id < (cursor.max_id or MAX_ID), readable(user)]
    if cursor.since_id or cursor.min_id:
        bounds.append(Notification.id > max(cursor.since_id or 0, cursor.min_id or 0))
    if kinds is not None:
        bounds.append(Notification.kind.in_(sorted(kinds)))
    order = Notification.id.asc() if cursor.min_id is not None else Notification.id.desc()
    stmt = _with_accounts().where(*bounds).order_by(order).limit(cursor.limit)
    rows = sorted(db.session.execute(stmt).all(), key=lambda row: row[0].id, reverse=True)
    return _views(user, rows)


def mark_notifications_seen(user: User, up_to_id: int | str | None) -> int:
    """Mark the user's notifications up to up_to_id as seen (the badge counts newer ones); return the mark.

    The mark only moves forward, and never past the user's newest notification
    they may still read: the mark it answers tells nothing of notifications about
    posts they may no longer see (a former member's, deleted or not).
    """
    up_to = parse_id(up_to_id)
    if up_to is None:
        raise ValidationError(_("Say up to which notification: up_to is a notification id."), field="up_to")
    newest = db.session.scalar(
        select(func.max(Notification.id)).where(
            Notification.user_id == user.id, Notification.id <= up_to, readable(user)
        )
    )
    if newest is not None and newest > user.notifications_seen_id:
        # The condition keeps it moving forward when two tabs mark at once.
        db.session.execute(
            update(User)
            .where(User.id == user.id, User.notifications_seen_id < newest)
            .values(notifications_seen_id=newest)
        )
        db.session.commit()
    return db.session.scalar(select(User.notifications_seen_id).where(User.id == user.id)) or 0


def notification_view(user: User, notification_id: int | str) -> NotificationView | None:
    """Return one of the user's notifications, or None."""
    nid = parse_id(notification_id)
    if not nid:
        return None
    stmt = _with_accounts().where(Notification.user_id == user.id, Notification.id == nid, readable(user))
    views = _views(user, db.session.execute(stmt).all())
    return views[0] if views else None


def _with_accounts():
    community = aliased(User, name="community")
    return (
        select(Notification, User, community)
        .join(User, User.id == Notification.actor_id)
        .outerjoin(community, community.id == Notification.community_id)
    )


def _views(user: User, rows: Sequence[Any]) -> list[NotificationView]:
    """Turn (Notification, actor, community) rows into views, loading their posts in one query."""
    posts = timelines.post_views((note.post_id for note, _, _ in rows if note.post_id), user)
    seen = user.notifications_seen_id
    return [
        NotificationView(
            note.id,
            note.kind,
            Author.of(actor),
            posts.get(note.post_id) if note.post_id else None,
            note.id > seen,
            note.created_at,
            Author.of(community) if community is not None else None,
            note.group_key,
        )
        for note, actor, community in rows
        if not note.post_id or note.post_id in posts  # checked by the query too
    ]
