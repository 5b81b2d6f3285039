"""Requests to follow a locked account: asking to join a private community."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class FollowRequest(Base):
    """`follower` asks to follow `followee`; an admin of that community accepts or refuses it."""

    __tablename__ = "follow_requests"

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    followee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_follow_requests_followee_id_follower_id", followee_id, follower_id),)
