"""Who did what on which day (read, posted, engaged): what the weekly people count, and nothing more."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

# What a person did on a day (bits of `did`).  In the company's row (community_id 0):
READ = 1  # opened a page or called the API
POSTED = 2  # wrote a post or a reply
POSTED_PUBLIC = 4  # ... a public one
ENGAGED = 8  # liked a post or replied to one
ENGAGED_PUBLIC = 16  # ... a public one
# In a community's row: POSTED and ENGAGED, there.


class DailyActivity(Base):
    """One row per person per day they used microblog (and per community they wrote or liked in that day).

    No page, post or time of day is kept: only what kind of thing the person
    did that day (the local day of the site, MICROBLOG_TIMEZONE).  Reading is
    written at most once a day per process (services.activity), posting and
    liking by the services that do them (services.rollups).
    """

    __tablename__ = "daily_activity"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0, server_default="0")
    did: Mapped[int] = mapped_column(Integer, default=READ, server_default=str(READ))

    # The weekly people of a period are counted from this index alone.
    __table_args__ = (Index("ix_daily_activity_day_user_id", day, community_id, user_id, did),)
