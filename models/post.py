"""Status updates."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, BigId, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .user import User

PUBLIC = "public"
PRIVATE = "private"


class Post(Base):
    """A status of at most 140 characters; `text` is the source of truth."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    # Cached output of microblog.text.render_html(text); `flask posts rerender` rebuilds it.
    html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    in_reply_to_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="SET NULL"))
    # Id of the thread's first post; NULL on that first post itself.
    conversation_id: Mapped[int | None] = mapped_column(BigId)
    # The community the post is in (None: company-wide), and who may see it: "public" (everyone)
    # or "private" (the members of its community only; services.visibility decides).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    visibility: Mapped[str] = mapped_column(String(10), default=PUBLIC, server_default=PUBLIC)
    # Who wrote a post that a team account (the author) published: one of its members.
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A question, and the reply its asker (or an admin of its community) accepted as the answer.
    is_question: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    accepted_answer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="SET NULL"))
    answer_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its author last changed its text (None: never); the earlier versions are its post_edits.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_count: Mapped[int] = mapped_column(Integer, default=0)

    author: Mapped[User] = relationship(lazy="raise", foreign_keys=[author_id])

    __table_args__ = (
        Index("ix_posts_author_id_id", author_id, id.desc()),
        Index("ix_posts_conversation_id", conversation_id),
        Index("ix_posts_community_id_id", community_id, id.desc()),
        Index("ix_posts_in_reply_to_id", in_reply_to_id),
        # Search by dates (before:/after:) finds where a day starts in the posts by it; the dashboard
        # counts a period's posts by writer, community and kind from this index alone.
        Index(
            "ix_posts_period",
            created_at,
            author_id,
            posted_by_id,
            community_id,
            in_reply_to_id,
            visibility,
        ),
        # PostgreSQL only (migration c4e2a7f9d1b3): a board reads a tag's posts of a period from it alone.
        Index(
            "ix_posts_board",
            id,
            postgresql_include=[
                "created_at",
                "author_id",
                "community_id",
                "visibility",
                "is_question",
                "accepted_answer_id",
            ],
        ).ddl_if(dialect="postgresql"),
        # The unanswered questions, newest first: a small part of all posts.
        # Deleting a post or a person looks for the rows that refer to it: without these, a scan of all posts.
        Index(
            "ix_posts_accepted_answer_id",
            accepted_answer_id,
            postgresql_where=sql("accepted_answer_id IS NOT NULL"),
            sqlite_where=sql("accepted_answer_id IS NOT NULL"),
        ),
        Index(
            "ix_posts_posted_by_id",
            posted_by_id,
            postgresql_where=sql("posted_by_id IS NOT NULL"),
            sqlite_where=sql("posted_by_id IS NOT NULL"),
        ),
        # Queries say `Post.is_question == true()` (SQLite: "= 1"), which each database matches to these.
        Index(
            "ix_posts_open_questions",
            id.desc(),
            postgresql_where=sql("is_question AND accepted_answer_id IS NULL"),
            sqlite_where=sql("is_question = 1 AND accepted_answer_id IS NULL"),
        ),
        Index(
            "ix_posts_questions",
            id.desc(),
            postgresql_where=sql("is_question"),
            sqlite_where=sql("is_question = 1"),
        ),
        # The dashboard reads a period's replies and questions, a small part of its posts.
        Index(
            "ix_posts_replies_created_at",
            created_at,
            postgresql_where=sql("in_reply_to_id IS NOT NULL"),
            sqlite_where=sql("in_reply_to_id IS NOT NULL"),
        ),
        Index(
            "ix_posts_questions_created_at",
            created_at,
            postgresql_where=sql("is_question"),
            sqlite_where=sql("is_question = 1"),
        ),
    )

    @property
    def thread_id(self) -> int:
        """Return the id of the first post of this post's thread."""
        return self.conversation_id or self.id

    def __repr__(self) -> str:
        return f"<Post {self.id} by {self.author_id}>"
