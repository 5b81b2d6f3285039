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


class Notification(Base):
    """One notification for `user_id`, caused by `actor_id`, about `post_id` (if any)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    # The community a join request is about (the actor is the person asking).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_notifications_user_id_id", user_id, id.desc()),)
