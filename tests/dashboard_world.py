"""A small company whose dashboard figures are known by hand (tests/test_dashboard.py, the browser test).

The period is Monday 8 to Sunday 21 January 2024 in Oslo (UTC+1 then): week
0 is 8-14 January, week 1 is 15-21 January.  Every time below is Oslo time.

People (all created 1 December 2023 unless said otherwise):
  Engineering: e1 e2 e3 e4 e5, and e6 (deactivated)
  Sales:       s1 s2 s3 s4, and s5 (created 15 January, 12:00: in week 1's population only)
  Legal:       l1 l2 (two people: too few to be shown)
  (none):      root, the site administrator
Communities: @secret (private; e3 its admin; e4 e5 s3 s4 members: 5 people),
             @open (public; s1 its admin; s2 l1 members: 3 people, too few).
Team account @helpdesk: e1 is its lead.

Reading days: e1 8, 9, 15; e2 10; e3 16; e4 7 (before); e5 22 (after); e6 9 (deactivated);
s1 12, 16; s5 19; l1 8; root 14.

Posts (P: starts a thread, R: a reply):
  Jan  3 e1 "#apollo" and Jan 5, 6 e1 "#zeus" twice: the period before (25 Dec - 7 Jan)
  Jan  8 10:00 P1 e1 "@s1 #apollo"      10:30 R s1 -> P1, 11:00 R s2 -> P1
  Jan  9 09:00 P2 e2 "#apollo"          09:10 R e2 -> P2 (own thread)   Jan 10 09:00 R l1 -> P2
  Jan  9       s3 likes P1
  Jan 11 12:00 O1 s1 in @open
  Jan 13 12:00 P3 s1 "#zeus"
  Jan 14 08:00 P4 s2                    08:05 R e1 -> P4
  Jan 15 09:00 Q1 s3, a question        10:00 R e4 -> Q1, accepted by s3
  Jan 16 09:00 Q2 s4, a question, never answered
  Jan 16 12:00 P5 e3 in @secret "#hidden" (private)   12:01 R e4 -> P5;  Jan 17 e5 likes P5
  Jan 17 09:00 T1 l2 "@helpdesk"        09:40 R @helpdesk (written by e1) -> T1: the item answered in 2400 s
  Jan 18 10:00 T2 s1 "@helpdesk", never answered
  Jan 19 23:30 P6 root (22:30 UTC: still the 19th in Oslo)
  Jan 20 00:30 P7 e1 (23:30 UTC on the 19th: the 20th in Oslo)
  Jan 22       root likes P3 (after the period)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, update

from microblog.database import db
from microblog.services import accounts, communities, posts, questions, rollups
from models import DailyActivity, Follow, InboxItem, Like, Post, User

from .factories import make_community, make_team, make_user

OSLO = ZoneInfo("Europe/Oslo")
FIRST, LAST = "2024-01-08", "2024-01-21"
JOINED = datetime(2023, 12, 1, tzinfo=OSLO)


def oslo(day: int, hour: int = 12, minute: int = 0, month: int = 1, year: int = 2024) -> datetime:
    """Return a moment in Oslo (January 2024 unless said)."""
    return datetime(year, month, day, hour, minute, tzinfo=OSLO)


@dataclass
class World:
    """The accounts and posts of the known data set, by name."""

    people: dict[str, User] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    secret: User | None = None
    open: User | None = None
    helpdesk: User | None = None


# -- the figures, by hand (see the module docstring) ----------------------------------------
# (people in the population, count, share) for week 0 and week 1
ACTIVE = [(12, 5, 5 / 12), (13, 4, 4 / 13)]
ENGAGED = [(12, 6, 6 / 12), (13, 3, 3 / 13)]
POSTING = [(12, 5, 5 / 12), (13, 8, 8 / 13)]
# posts that start a thread, replies: per day from the 8th to the 21st
POSTS_PER_DAY = [(1, 2), (1, 1), (0, 1), (1, 0), (0, 0), (1, 0), (1, 1)]  # 8-14 January
POSTS_PER_DAY += [(1, 1), (2, 1), (1, 1), (1, 0), (1, 0), (1, 0), (0, 0)]  # 15-21 January
# (posts, replied, share, median seconds) for week 0, week 1, the period
REPLIES = [(5, 3, 0.6, 1800.0), (7, 3, 3 / 7, 2400.0), (12, 6, 0.5, 1800.0)]
# (asked, answered, share, median seconds)
QUESTIONS = [(0, 0, None, None), (2, 1, 0.5, 3600.0), (2, 1, 0.5, 3600.0)]
INBOX = [(0, 0, None, None), (2, 1, 0.5, 2400.0), (2, 1, 0.5, 2400.0)]
# from, to -> replies, mentions, for every pair of the departments that talked (None: withheld,
# Legal being two people)
DEPARTMENTS = {
    ("Engineering", "Engineering"): (0, 0),
    ("Engineering", "Legal"): None,
    ("Engineering", "Sales"): (2, 3),
    ("Legal", "Engineering"): None,
    ("Legal", "Legal"): None,
    ("Legal", "Sales"): None,
    ("Sales", "Engineering"): (2, 2),
    ("Sales", "Legal"): None,
    ("Sales", "Sales"): (0, 0),
}
TAGS = [("apollo", 2, 1, 1.0), ("zeus", 1, 2, -0.5)]
COMMUNITIES = [("open", "Open", 1, 0, None)]


def build_world() -> World:
    """Create the known data set through the services, then put every row at its known time.

    The services counted each post and like in the dashboard's rollups on the
    day they ran; moved to their days in January 2024, they are counted again.
    """
    world = World()
    for name, department in [
        *((f"e{n}", "Engineering") for n in range(1, 7)),
        *((f"s{n}", "Sales") for n in range(1, 6)),
        ("l1", "Legal"),
        ("l2", "Legal"),
    ]:
        world.people[name] = make_user(name, department=department, display_name=name.upper())
    root = world.people["root"] = make_user("root", is_admin=True, display_name="Root")
    accounts.set_active(root, "e6", False)
    p = world.people
    world.secret = make_community(
        p["e3"], "secret", private=True, members=(p["e4"], p["e5"], p["s3"], p["s4"])
    )
    world.open = make_community(p["s1"], "open", members=(p["s2"], p["l1"]))
    world.helpdesk = make_team("helpdesk", leads=(p["e1"],))
    _write_posts(world)
    _set_times(world)
    rollups.rebuild_all()  # the rows were moved to their known times after the services counted them
    return world


def _post(world: World, key: str, who: str, text: str, when: datetime, **options) -> Post:
    author = world.helpdesk if who == "helpdesk" else world.people[who]
    if who == "helpdesk":
        options["posted_by"] = world.people["e1"]
    post = posts.post_status(author, text, **options)
    world.posts[key] = post
    db.session.execute(update(Post).where(Post.id == post.id).values(created_at=when))
    db.session.commit()
    return post


def _write_posts(world: World) -> None:
    p = world.posts
    _post(world, "old1", "e1", "Old news #apollo", oslo(3))
    _post(world, "old2", "e1", "Older #zeus", oslo(5))
    _post(world, "old3", "e1", "Oldest #zeus", oslo(6))
    _post(world, "P1", "e1", "Launch plan for @s1 #apollo", oslo(8, 10))
    _post(world, "R1", "s1", "Looks good", oslo(8, 10, 30), in_reply_to=p["P1"].id)
    _post(world, "R1b", "s2", "Agreed", oslo(8, 11), in_reply_to=p["P1"].id)
    _post(world, "P2", "e2", "Status of #apollo", oslo(9, 9))
    _post(world, "R2s", "e2", "And one more thing", oslo(9, 9, 10), in_reply_to=p["P2"].id)
    _post(world, "R2", "l1", "Legal has read it", oslo(10, 9), in_reply_to=p["P2"].id)
    _post(world, "O1", "s1", "@open hello everyone", oslo(11))
    _post(world, "P3", "s1", "Kickoff #zeus", oslo(13))
    _post(world, "P4", "s2", "Quarter numbers are in", oslo(14, 8))
    _post(world, "R4", "e1", "Nice", oslo(14, 8, 5), in_reply_to=p["P4"].id)
    _post(world, "Q1", "s3", "How do I file expenses?", oslo(15, 9), question=True)
    _post(world, "A1", "e4", "Through the travel portal", oslo(15, 10), in_reply_to=p["Q1"].id)
    questions.accept_answer(world.people["s3"], p["A1"].id)
    _post(world, "Q2", "s4", "Where is the VPN guide?", oslo(16, 9), question=True)
    _post(world, "P5", "e3", "@secret the plan #hidden", oslo(16, 12))
    _post(world, "R5", "e4", "Count me in", oslo(16, 12, 1), in_reply_to=p["P5"].id)
    _post(world, "T1", "l2", "@helpdesk my laptop is broken", oslo(17, 9))
    _post(world, "TA", "helpdesk", "On our way", oslo(17, 9, 40), in_reply_to=p["T1"].id)
    _post(world, "T2", "s1", "@helpdesk the printer?", oslo(18, 10))
    _post(world, "P6", "root", "Late night", oslo(19, 23, 30))
    _post(world, "P7", "e1", "Just after midnight", oslo(20, 0, 30))
    for who, key, when in (("s3", "P1", oslo(9)), ("e5", "P5", oslo(17)), ("root", "P3", oslo(22))):
        posts.like_post(world.people[who], p[key].id)
        db.session.execute(
            update(Like)
            .where(Like.user_id == world.people[who].id, Like.post_id == p[key].id)
            .values(created_at=when)
        )
    db.session.commit()


_READ = {
    "e1": (8, 9, 15),
    "e2": (10,),
    "e3": (16,),
    "e4": (7,),
    "e5": (22,),
    "e6": (9,),
    "s1": (12, 16),
    "s5": (19,),
    "l1": (8,),
    "root": (14,),
}


def _set_times(world: World) -> None:
    """Put accounts, memberships, inbox items and reading days at their known times."""
    ids = [u.id for u in world.people.values()]
    db.session.execute(update(User).where(User.id.in_(ids)).values(created_at=JOINED))
    db.session.execute(update(User).where(User.id == world.people["s5"].id).values(created_at=oslo(15, 12)))
    db.session.execute(update(Follow).values(created_at=JOINED))
    t1, t2 = world.posts["T1"], world.posts["T2"]
    db.session.execute(
        update(InboxItem)
        .where(InboxItem.post_id == t1.id)
        .values(received_at=oslo(17, 9), answered_at=oslo(17, 9, 40), first_answer_seconds=2400)
    )
    db.session.execute(update(InboxItem).where(InboxItem.post_id == t2.id).values(received_at=oslo(18, 10)))
    db.session.execute(
        insert(DailyActivity),
        [
            {"user_id": world.people[name].id, "day": date(2024, 1, day)}
            for name, days in _READ.items()
            for day in days
        ],
    )
    db.session.commit()
    assert communities.is_admin(world.people["e3"], world.secret)
