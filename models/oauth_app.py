"""OAuth applications: the clients (Mastodon.py, toot, bots) registered through POST /api/v1/apps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class OAuthApp(Base):
    """A registered client; the secret is kept as a SHA-256 digest only."""

    __tablename__ = "oauth_apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str] = mapped_column(String(500), default="")
    # One URI per line, as registered; `urn:ietf:wg:oauth:2.0:oob` shows the code instead.
    redirect_uris: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def redirect_uri_list(self) -> list[str]:
        """Return the registered redirect URIs."""
        return self.redirect_uris.split()

    def __repr__(self) -> str:
        return f"<OAuthApp {self.name!r}>"
