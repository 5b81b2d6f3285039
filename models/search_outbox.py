"""Posts whose search entry must be brought up to date (the indexing outbox)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Integer, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId


class SearchOutbox(Base):
    """One row per post written or deleted; the search indexer drains them after the commit.

    Written in the post's own transaction, so a committed post always has its row
    and a rolled-back one never does.  A row says only "look at this post again":
    the indexer reads the post's current state, so rows may be drained twice,
    late or out of order without harm.  No foreign key: the post may be gone.
    """

    __tablename__ = "search_outbox"
    # Ids never come back (SQLite's AUTOINCREMENT): the indexer deletes what it drained by id, and a
    # reused id would delete another process's newer row before its post was ever indexed.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId)
    # A newly written post: the indexer also matches it against the saved searches (search.percolator),
    # once; a change to an older post (deleted, answered, reindexed) is not matched again.
    new_post: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
