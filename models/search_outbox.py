"""Posts whose search entry must be brought up to date (the indexing outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, func
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow


class SearchOutbox(Base):
    """One row per post written or deleted; the search worker drains them after the commit.

    Written in the post's own transaction, so a committed post always has its row
    and a rolled-back one never does.  A row says only "look at this post again":
    the worker reads the post's current state, so rows may be drained twice,
    late or out of order without harm.  No foreign key: the post may be gone.
    """

    __tablename__ = "search_outbox"
    # Ids never come back (SQLite's AUTOINCREMENT): the worker deletes what it drained by id, and a
    # reused id would delete a newer row (written meanwhile) before its post was ever indexed.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId)
    # How long the oldest row has waited tells whether a search worker runs (search.status).
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, server_default=func.now())
