"""API access tokens: issued to an OAuth app, or created by a person (personal access tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .oauth_app import OAuthApp
    from .user import User


class AccessToken(Base):
    """A bearer token, kept as the SHA-256 digest of its value; revoking deletes the row."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # NULL for a personal access token.
    app_id: Mapped[int | None] = mapped_column(ForeignKey("oauth_apps.id", ondelete="CASCADE"))
    # A team token: `user` is the team account, and this member acts through it.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    # Space-separated OAuth scopes: read, write, follow, push, or granular ones (read:statuses).
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="raise", foreign_keys=[user_id])
    app: Mapped[OAuthApp | None] = relationship(lazy="raise")

    __table_args__ = (
        Index("ix_access_tokens_user_id", user_id),
        Index("ix_access_tokens_on_behalf_of_id", on_behalf_of_id),
    )

    @property
    def scope_list(self) -> list[str]:
        """Return the granted scopes."""
        return self.scopes.split()
