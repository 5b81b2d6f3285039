"""The dashboard's rollups: what was written, counted per local day and kept current as it is written.

Each row counts one day (the site's local day, MICROBLOG_TIMEZONE) in one
*cell*, the part of the company a dashboard looks at:

- the company: department "" and community 0;
- a department: its name, community 0 (its people's public posts);
- a community: department "" and its id (all of its posts, private ones too).

A post adds to the company's cell, its writer's department's cell, and its
community's cell (services.rollups decides which of them it counts in).  Each
dashboard scope then reads one range of one index: a cell, a period.  The
department is the writer's: when a person moves, their counts move with them
(services.rollups.move_departments).  No row names a person.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, BigId, UTCDateTime

COMPANY_CELL = ("", 0)


class PostDay(Base):
    """Posts (replies included) and replies written on a day in a cell, public or not.

    The company's cell counts every post, a private community's too (plain counts); a
    department's, its people's public posts.  A department's public posts in a
    community are counted in one more cell, (department, community): the
    communities a department is most active in.
    """

    __tablename__ = "post_days"

    department: Mapped[str] = mapped_column(String(80), primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    public: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)


class TagDay(Base):
    """Posts carrying a tag written on a day in a cell (public posts only, but in a community's cell)."""

    __tablename__ = "tag_days"

    department: Mapped[str] = mapped_column(String(80), primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    posts: Mapped[int] = mapped_column(Integer, default=0)


class TalkDay(Base):
    """Replies and mentions from one department's people to another's on a day in a cell.

    A reply goes from its writer's department to the replied post's writer's;
    a mention from the writer's to the addressed person's.  Public posts only,
    but in a community's cell.  A department's cell holds the pairs it is in.
    """

    __tablename__ = "talk_days"

    department: Mapped[str] = mapped_column(String(80), primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(80), primary_key=True)
    target: Mapped[str] = mapped_column(String(80), primary_key=True)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    mentions: Mapped[int] = mapped_column(Integer, default=0)


class FirstReply(Base):
    """A post that starts a thread and got a reply from someone else: when, and the wait for the first.

    With what the dashboard's scopes ask of the post: its writer's
    department, its community (0: none), whether it is public.
    """

    __tablename__ = "first_replies"

    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    department: Mapped[str] = mapped_column(String(80))
    community_id: Mapped[int] = mapped_column(Integer)
    public: Mapped[bool] = mapped_column(Boolean)
    seconds: Mapped[float] = mapped_column(Float)
