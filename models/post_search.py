"""The `postgres` search backend's documents: a tsvector per post, with a GIN index."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId


class PostSearch(Base):
    """A post's text as PostgreSQL full-text search sees it; removed with its post.

    Only MICROBLOG_SEARCH_BACKEND=postgres fills it (after the commit, from the
    outbox).  On SQLite the table exists, empty, so one schema serves both.
    """

    __tablename__ = "post_search"

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    document: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))

    __table_args__ = (Index("ix_post_search_document", "document", postgresql_using="gin"),)
