"""Who used microblog on which day: what "weekly active people" counts, and nothing more."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class DailyActivity(Base):
    """One row per person per day on which they opened a page or called the API (at most one write a day).

    No page, post or time of day is kept: only that the person was there that
    day (the local day of the site, MICROBLOG_TIMEZONE).
    """

    __tablename__ = "daily_activity"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)

    __table_args__ = (Index("ix_daily_activity_day_user_id", day, user_id),)
