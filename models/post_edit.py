"""The versions of an edited post, as Mastodon keeps them (its status_edits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow


class PostEdit(Base):
    """One version of a post's text, from `created_at` until the next one.

    The first edit of a post stores its original text too, then every edit its
    new text: the last row is the post as it is now.  A post never edited has none.
    """

    __tablename__ = "post_edits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    # microblog.text.render_html(text) with the mentions that resolved when this version was written.
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who wrote this version: a team's post is edited by its members, and the team sees which one.
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    __table_args__ = (Index("ix_post_edits_post_id_id", post_id, id),)
