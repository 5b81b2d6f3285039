"""Notifications: someone mentioned, replied to, liked or followed a user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow

# Mastodon's names: a reply is a "mention" of the author replied to.
# A join request is Mastodon's "follow_request" (to each admin of the community); "join_accepted"
# tells the requester, with the community as the account.
# A reply to a question tells its asker as every reply does ("mention"); an accepted answer tells
# its author and, when someone else accepted it, the asker ("answer_accepted").
# A new post that matched a saved search that notifies is Mastodon's "status" (someone posted).
NOTIFICATION_KINDS = (
    "mention",
    "favourite",
    "follow",
    "follow_request",
    "join_accepted",
    "answer_accepted",
    "status",
)

# The kinds Mastodon groups (its GROUPABLE_NOTIFICATION_TYPES): likes of one post, and follows, each
# within a span of hours.  microblog has no reblogs; the name is accepted where clients send it.
GROUPABLE_KINDS = ("favourite", "reblog", "follow")
GROUP_KEY_LENGTH = 64


class Notification(Base):
    """One notification for `user_id`, caused by `actor_id`, about `post_id` (if any).

    `group_key` is Mastodon's: "favourite-<post id>-<hour>" or "follow-<hour>" for the kinds it
    groups (services.notifications.group_keys sets it when recording), NULL for the others (their
    group is "ungrouped-<id>").
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    # The community a join request is about (the actor is the person asking).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    group_key: Mapped[str | None] = mapped_column(String(GROUP_KEY_LENGTH))

    __table_args__ = (
        Index("ix_notifications_user_id_id", user_id, id.desc()),
        # One group's notifications, newest last: its count, sample accounts, dismissal.
        Index("ix_notifications_user_id_group_key_id", user_id, group_key, id),
    )
