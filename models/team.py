"""Team accounts: official accounts (@it-support, @hr) that a team of people runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow

# A member posts as the team and works its inbox; a lead also issues the team's tokens.
MEMBER = "member"
LEAD = "lead"
TEAM_ROLES = (MEMBER, LEAD)


class TeamMember(Base):
    """`user` is on the team that runs the account `team` (users.kind == "team")."""

    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(10), default=MEMBER)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_team_members_user_id", user_id),)
