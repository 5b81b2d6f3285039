"""Read markers: where a person stopped reading their home timeline and their notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow

TIMELINES = ("home", "notifications")


class Marker(Base):
    """The newest post (home) or notification (notifications) a person has read, as any client saw it.

    `version` counts the changes, as Mastodon's Marker entity does.
    """

    __tablename__ = "markers"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    timeline: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_read_id: Mapped[int] = mapped_column(BigId)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
