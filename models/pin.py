"""Pinned posts: on a person's profile (their own posts, at most 5), at the top of a community (at most 3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow

MAX_PROFILE_PINS = 5
MAX_COMMUNITY_PINS = 3


class Pin(Base):
    """`post` is pinned on `account`: its author's profile, or the top of the community it is in.

    Which one follows from the post: a post is pinned by its author (account_id
    is its author_id) or by its community's admins (account_id is its community_id).
    """

    __tablename__ = "pins"

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_pins_account_id_created_at", account_id, created_at),)
