"""Bookmarks: posts a person keeps to read again, seen by no one else."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow


class Bookmark(Base):
    """`user` bookmarked `post`.  The id orders the Bookmarks page and pages it (newest bookmark first)."""

    __tablename__ = "bookmarks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # A feed's "did the viewer bookmark it" is one probe of this constraint's index.
        UniqueConstraint(user_id, post_id, name="uq_bookmarks_user_id_post_id"),
        Index("ix_bookmarks_user_id_id", user_id, id),
        Index("ix_bookmarks_post_id", post_id),
    )
