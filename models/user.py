"""Employee accounts."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from .base import Base, BigId, UTCDateTime, utcnow

USERNAME_MAX = 30

# What an account is: a person who logs in, or a community (a group account, which never logs in).
PERSON = "person"
COMMUNITY = "community"
# An official account run by a team of people (models.team), which never logs in either.
TEAM = "team"


class User(UserMixin, Base):
    """A person who can log in, post and follow."""

    __tablename__ = "users"
    __allow_unmapped__ = True  # login_secret and login_id below belong to a request, not to the table

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case; unique.  Usernames never change, so @mentions stay valid.
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    # None for a community: only people have an address.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    kind: Mapped[str] = mapped_column(String(12), default=PERSON, server_default=PERSON)
    # Mastodon's `locked`: following needs the account's approval (a private community).
    locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # The company directory entry this account comes from (None: a local account).  Such an
    # account logs in through the directory only, which also keeps its profile fields.
    directory_dn: Mapped[str | None] = mapped_column(String(512))
    display_name: Mapped[str] = mapped_column(String(60), default="")
    job_title: Mapped[str] = mapped_column(String(80), default="")
    department: Mapped[str] = mapped_column(String(80), default="", index=True)
    bio: Mapped[str] = mapped_column(String(300), default="")
    # The interface's language ("en", "nb") and time zone (IANA name) the person chose; None: the
    # browser's language and the installation's time zone (microblog.language).
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # Flask-Login reads is_active: a deactivated user can neither log in nor stay logged in.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Notifications up to this id have been seen (the badge counts the newer ones).
    notifications_seen_id: Mapped[int] = mapped_column(BigId, default=0)
    # Counts that every API Account carries, kept by the services in the same transaction
    # as the rows they count (a feed page would otherwise cost three counts per author).
    posts_count: Mapped[int] = mapped_column(Integer, default=0)
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    # Raised with every change that moves posts written before it into or out of this person's
    # home timeline (follows, exclusive lists, saved searches in home and their hits, edits of
    # tags and mentions): a process's kept home (services.kept_homes) is good while it holds.
    home_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # The browser log-in this request runs under (set by services.sessions, never stored here):
    # its secret is what the session and remember-me cookies carry, its id names its streams.
    login_secret: str | None = None
    login_id: int | None = None

    def get_id(self) -> str:
        """Return this log-in's secret (Flask-Login keeps it in the session and remember-me cookie)."""
        if self.login_secret is None:
            raise RuntimeError("log in through microblog.services.sessions, which names the log-in")
        return self.login_secret

    def set_password(self, password: str) -> None:
        """Hash and store a new password (scrypt)."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """Return whether the password matches the stored hash."""
        return bool(self.password_hash) and check_password_hash(self.password_hash or "", password)

    @property
    def is_community(self) -> bool:
        """Return whether this account is a community (a group account)."""
        return self.kind == COMMUNITY

    @property
    def is_team(self) -> bool:
        """Return whether this account is a team (official) account."""
        return self.kind == TEAM

    @property
    def name(self) -> str:
        """Return the name to show: display name, else username."""
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username}>"
