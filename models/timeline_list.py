"""A person's lists: Mastodon's lists of accounts, and saved searches that stream live."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime, utcnow

# What a list holds: the posts of the accounts on it, or the new posts that match a search.
ACCOUNTS = "accounts"
SEARCH = "search"
LIST_KINDS = (ACCOUNTS, SEARCH)

# Mastodon's replies_policy: which replies an accounts list shows.
REPLIES_POLICIES = ("followed", "list", "none")


class TimelineList(Base):
    """One list of one person; stock Mastodon clients see both kinds as lists.

    A saved search (`kind` search) holds `query` in search syntax; the posts
    that matched it when they were written are its hits (ListHit).  `last_read_id`
    is the newest post its owner has seen in it: the hits after it are unread.
    """

    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default=ACCOUNTS)
    title: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text, default="")
    replies_policy: Mapped[str] = mapped_column(String(10), default="list")
    # Mastodon's exclusive: the list's posts are left out of home.
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A saved search's hits also appear in home, and each notifies its owner.
    in_home: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notify: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_read_id: Mapped[int] = mapped_column(BigId, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the query last changed (set by whatever changes it): each process's percolator reloads
    # the saved searches when this moves.  A read mark or a setting leaves it alone.
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_lists_user_id_id", user_id, "id"),
        Index("ix_lists_kind_id", kind, "id"),  # the percolator loads every saved search
        # Ids never come back (SQLite's AUTOINCREMENT): a stream still open on a deleted list's id
        # must never hear the list someone else makes next.
        {"sqlite_autoincrement": True},
    )


class ListAccount(Base):
    """An account on an accounts list."""

    __tablename__ = "list_accounts"

    list_id: Mapped[int] = mapped_column(BigId, ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_list_accounts_account_id_list_id", account_id, list_id),)


class ListHit(Base):
    """A post that matched a saved search when it was written (written once, by the percolator)."""

    __tablename__ = "list_hits"

    list_id: Mapped[int] = mapped_column(BigId, ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)

    __table_args__ = (Index("ix_list_hits_post_id", post_id),)
