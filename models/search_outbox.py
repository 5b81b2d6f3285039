"""Posts whose search entry must be brought up to date (the indexing outbox)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
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

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId)
