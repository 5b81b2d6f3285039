"""Images attached to posts: uploaded first, attached when the post is written (Mastodon's media)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow

MAX_ATTACHMENTS = 4
MAX_DESCRIPTION = 1500  # Mastodon's limit on alt text


class MediaAttachment(Base):
    """An image as microblog re-encoded it: the original (at most 8.3 megapixels) and a small preview.

    Its files are MICROBLOG_DATA_DIR/media/<key[:2]>/<key>.<ext> and <key>.small.<ext>;
    `key` is random, so a file's name says nothing about who may read it: the
    app decides that from the post it is attached to (services.media).
    Unattached (post_id None) it is its owner's only, and removed after a day.
    """

    __tablename__ = "media_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    content_type: Mapped[str] = mapped_column(String(20))
    ext: Mapped[str] = mapped_column(String(5))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    small_width: Mapped[int] = mapped_column(Integer)
    small_height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)  # bytes of the original, as stored
    description: Mapped[str] = mapped_column(Text, default="")
    focus_x: Mapped[float] = mapped_column(Float, default=0.0)
    focus_y: Mapped[float] = mapped_column(Float, default=0.0)
    blurhash: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_media_attachments_post_id_position", post_id, position),
        # The sweep of uploads never attached: oldest first, unattached only.
        Index(
            "ix_media_attachments_unattached",
            created_at,
            sqlite_where=post_id.is_(None),
            postgresql_where=post_id.is_(None),
        ),
        Index("ix_media_attachments_owner_id", owner_id),
    )
