"""Which users a post @mentions (resolved when the post is made)."""

from sqlalchemy import Column, ForeignKey, Index, Table

from .base import Base, BigId

mentions = Table(
    "mentions",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("post_id", BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    # With whom: who a period's posts mention is read from this index alone (the dashboard).
    Index("ix_mentions_post_id", "post_id", "user_id"),
)
