"""#tags and the posts that carry them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow

TAG_MAX = 100

post_tags = Table(
    "post_tags",
    Base.metadata,
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Column("post_id", BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    # With the tag: a period's posts are counted by tag from this index alone (the dashboard).
    Index("ix_post_tags_post_id", "post_id", "tag_id"),
)


class Tag(Base):
    """A hashtag; `name` is lower-case without the '#'."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Tag #{self.name}>"
