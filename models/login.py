"""Browser logins: one row per log-in, so that logging out ends that browser's cookies only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class Login(Base):
    """One browser's log-in.  Its session and remember-me cookies carry a random secret whose
    SHA-256 digest is kept here; deleting the row (log-out, password change, deactivation)
    makes every copy of those cookies useless."""

    __tablename__ = "logins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Ids are never reused (SQLite would give a new row a deleted one's): they name live-connection rooms.
    __table_args__ = (Index("ix_logins_user_id", user_id), {"sqlite_autoincrement": True})
