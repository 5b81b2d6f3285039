"""The demo's likes and reading days (daily_activity): what the dashboard's engaged and active count."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app

from models.post import PRIVATE


def likes(
    rng: random.Random,
    posts: list[dict],
    user_ids: list[int],
    members: dict[int, frozenset[int]],
    now: datetime,
    pick: Callable[[random.Random, int], int],
) -> list[dict]:
    """Return likes of a batch of posts (a few each, the popular people liking more), setting like_count.

    `pick` draws who likes (the demo's skew).  A post in a private community
    is liked by its members only; a like comes within two days of its post,
    and never after now.
    """
    likes = []
    for row in posts:
        private = row["visibility"] == PRIVATE
        pool = sorted(members[row["community_id"]]) if private else user_ids
        likers = {pool[pick(rng, len(pool))] for _ in range(min(int(rng.expovariate(0.8)), 8))}
        likers.discard(row["author_id"])
        for uid in sorted(likers):
            at = min(now, row["created_at"] + timedelta(seconds=rng.randrange(2 * 86400)))
            likes.append({"post_id": row["id"], "user_id": uid, "created_at": at})
        row["like_count"] = len(likers)
    return likes


def seed_activity(
    rng: random.Random, user_ids: list[int], wrote: set[tuple[int, date]], start: datetime, now: datetime
) -> list[dict]:
    """Return the days each person used microblog: every day they wrote, and more as their habit has it.

    A third read most working days, a third some, a third seldom; weekends
    are quiet.  What the dashboard's weekly active people count.
    """
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    first, last = start.astimezone(zone).date(), now.astimezone(zone).date()
    habits = (0.8, 0.35, 0.08)
    days = set(wrote)
    for uid in user_ids:
        habit = habits[rng.randrange(len(habits))]
        day = first
        while day <= last:
            if rng.random() < habit * (0.15 if day.weekday() >= 5 else 1.0):
                days.add((uid, day))
            day += timedelta(1)
    return [{"user_id": uid, "day": day} for uid, day in sorted(days)]
