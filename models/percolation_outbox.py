"""New posts to match against the saved searches (the percolation outbox)."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId


class PercolationOutbox(Base):
    """One row per new post; a serving process matches it against every saved search, once.

    Written in the post's own transaction, beside its SearchOutbox row, and
    drained apart from it: the index has one writer (the search worker), while
    what a post matches must reach the clients connected to the serving
    processes, which only they (or Redis, which they share) can reach.  A
    drain deletes the rows it takes in the statement that reads them, so two
    processes never take the same row.  No foreign key: the post may be gone.
    """

    __tablename__ = "percolation_outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId)
