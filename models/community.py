"""Communities: the group accounts teams and projects gather in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class Community(Base):
    """What a community account (users.kind == "community") has beyond an account.

    Its handle, name and description are the account's username, display name and
    bio; `users.locked` makes it private.  Its members are its followers (follows
    rows), its admins are members listed in community_admins.
    """

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Marked by a site administrator: a community the company stands behind.
    is_official: Mapped[bool] = mapped_column(Boolean, default=False)
    # Archived: read-only (no posts, no joins), still readable by its members.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CommunityAdmin(Base):
    """`user` administers `community` (and is always one of its members)."""

    __tablename__ = "community_admins"

    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_community_admins_user_id", user_id),)
