"""A team's shared inbox: what was asked of a team account, and where its answer stands."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow

# Where an item stands: waiting for anyone, taken by a member, answered by the team, or
# closed without an answer (with a reason).
OPEN = "open"
ASSIGNED = "assigned"
ANSWERED = "answered"
CLOSED = "closed"
INBOX_STATES = (OPEN, ASSIGNED, ANSWERED, CLOSED)


class InboxItem(Base):
    """A post that mentions the team account or replies to one of its posts."""

    __tablename__ = "inbox_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"))
    # The post's author: the person waiting for the answer (their streams hear of its state).
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default=OPEN)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # When the post was written: the wait counts from then.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The team's first answer, and how long it took (seconds): the figures read this.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_answer_seconds: Mapped[int | None] = mapped_column(Integer)
    answer_post_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("posts.id", ondelete="SET NULL"))
    closed_reason: Mapped[str] = mapped_column(String(200), default="")
    # Who last changed the state (a member, or None for the system), and when.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint(team_id, post_id, name="uq_inbox_items_team_id_post_id"),
        Index("ix_inbox_items_team_id_state_id", team_id, state, id),
        Index(
            "ix_inbox_items_figures", team_id, received_at, first_answer_seconds
        ),  # figures() reads only this
        # The dashboard's figures of every team at once (services.dashboard_measures).
        Index("ix_inbox_items_received_at", received_at, first_answer_seconds),
        Index("ix_inbox_items_post_id", post_id),
        Index("ix_inbox_items_answer_post_id", answer_post_id),
        Index("ix_inbox_items_asker_id", asker_id),
        Index("ix_inbox_items_assignee_id", assignee_id),
    )
