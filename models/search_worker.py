"""The search worker's heartbeat: whether one runs, and what fails if its rounds fail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class SearchWorker(Base):
    """One row, written by the search worker every few seconds (search.indexer), read by search.status.

    Posts waiting long in the outbox mean one thing when no worker has been seen
    (none runs), another when it has: it is held up by whoever holds the index's
    writer (a rebuild, a backup), or its rounds fail, which `problem` says.
    """

    __tablename__ = "search_worker"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    problem: Mapped[str | None] = mapped_column(Text)  # why its last round failed; None: it did not
