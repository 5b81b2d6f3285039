"""Likes ("favourites" in the Mastodon API)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow


class Like(Base):
    """`user` likes `post`; posts.like_count mirrors the number of rows."""

    __tablename__ = "likes"

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_likes_user_id_post_id", user_id, post_id),
        # The dashboard counts who liked something in a week, from this index alone.
        Index("ix_likes_created_at", created_at, user_id, post_id),
    )
