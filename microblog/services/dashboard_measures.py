"""The dashboard's measures: each one SQL aggregate over the period, on every view.

Most read the rollups (models.rollups, daily_activity's flags), which
services.rollups keeps as posts and likes are written: a few rows per day
of the scope's cell instead of every post of the period.  Questions and the
team inboxes are read from their own rows.  Each function takes a scope and
a period and returns plain rows: counts per bucket, with no suppression
(services.dashboard applies it).  The weekly
measures count distinct people per 7-day bucket; the per-day ones, posts per
local day.  Medians are nearest-rank, computed by the database
(dashboard_sql.median_by_bucket).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select, true
from sqlalchemy.orm import aliased

from microblog.database import db
from models import DailyActivity, FirstReply, InboxItem, Post, PostDay, Tag, TagDay, TalkDay, User
from models.user import PERSON

from .dashboard_sql import (
    COMMUNITY,
    DEPARTMENT,
    Period,
    Scope,
    bucket_table,
    in_range,
    median_by_bucket,
    numbered,
    seconds_between,
)

TOP = 10  # tags and communities listed


@dataclass(frozen=True)
class Medians:
    """Per bucket number: how many rows, how many with a value, and the median value (None: no value)."""

    rows: dict[int, int]
    counted: dict[int, int]
    median: dict[int, int | None]  # whole seconds


def _medians(stmt: Select) -> Medians:
    found = Medians({}, {}, {})
    for n, rows, counted, value in db.session.execute(stmt):
        found.rows[n], found.counted[n] = rows, counted
        found.median[n] = None if value is None else round(float(value))
    return found


def _by_bucket(stmt: Select) -> dict[int, Any]:
    """Run a statement selecting (n, value) and return the values by bucket number."""
    return {n: value for n, value in db.session.execute(stmt)}


# -- people, per week ------------------------------------------------------------


def population_by_week(scope: Scope, period: Period) -> dict[int, int]:
    """Return how many accounts each week's shares are of: the population that counted by its end."""
    weeks = bucket_table(numbered(period.week_buckets()))
    population = scope.population()
    stmt = (
        select(weeks.c.n, func.count())
        .select_from(weeks)
        .join(population, population.c.since < weeks.c.hi)
        .group_by(weeks.c.n)
    )
    return _by_bucket(stmt)


def weekly_people(scope: Scope, period: Period) -> dict[str, dict[int, int]]:
    """Return per week the active, engaged and posting people of the population, by measure.

    Active: used microblog on a day of the week.  Engaged: liked a post or
    replied to one that counts in the scope.  Posting: wrote a post there.
    Counted from what each person did each day (daily_activity's flags, kept by
    services.rollups): each row's week is told from its day by comparison (no
    join), each week's people are made distinct first, and only then looked up
    in the population, a few thousand lookups.
    """
    buckets = period.week_buckets()
    whole = period.whole()
    flags = scope.people_flags()
    last = len(buckets) - 1
    earlier = [(DailyActivity.day <= bucket.last, n) for n, bucket in enumerate(buckets[:-1])]
    week = (case(*earlier, else_=last) if earlier else literal(last)).label("n")

    def did(name: str) -> Any:
        community_id, flag = flags[name]
        found = and_(DailyActivity.community_id == community_id, DailyActivity.did.op("&")(flag) != 0)
        return func.max(case((found, 1), else_=0)).label(name)

    seen = (
        select(week, DailyActivity.user_id, *(did(name) for name in flags))
        .where(
            DailyActivity.day.between(whole.first, whole.last),
            DailyActivity.community_id.in_(sorted({c for c, _ in flags.values()})),
        )
        .group_by(week, DailyActivity.user_id)
        .subquery("seen")
    )
    weeks = bucket_table(numbered(buckets))
    population = scope.population()
    stmt = (
        select(seen.c.n, *(func.sum(seen.c[name]) for name in flags))
        .join(weeks, weeks.c.n == seen.c.n)
        .join(population, and_(population.c.id == seen.c.user_id, population.c.since < weeks.c.hi))
        .group_by(seen.c.n)
    )
    found: dict[str, dict[int, int]] = {name: {} for name in flags}
    for n, *counts in db.session.execute(stmt):
        for name, count in zip(flags, counts, strict=True):
            found[name][n] = int(count or 0)
    return found


# -- posts, replies, questions, the team inboxes ------------------------------------


def posts_by_day(scope: Scope, period: Period) -> dict[int, tuple[int, int]]:
    """Return per day (bucket number) the posts that start a thread and the replies, in the scope."""
    days = {bucket.first: n for n, bucket in enumerate(period.day_buckets())}
    stmt = (
        select(PostDay.day, func.sum(PostDay.posts), func.sum(PostDay.replies))
        .where(*_in_cell(PostDay, scope), PostDay.day.between(period.first, period.last))
        .group_by(PostDay.day)
    )
    return {
        days[day]: (int(posts) - int(replies), int(replies))
        for day, posts, replies in db.session.execute(stmt)
    }


def _in_cell(model: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """Return the conditions for a rollup row to be the scope's (models.rollups: cells)."""
    department, community_id = scope.cell()
    return [model.department == department, model.community_id == community_id]


def first_replies(scope: Scope, period: Period) -> Medians:
    """Return per week, and for the whole period, the posts that got a reply and the median wait for it.

    A post (one that starts a thread) got a reply when someone other than its
    writer replied to it, at any time up to now; the wait is to the first such
    reply (models.rollups.FirstReply, kept by services.rollups).
    """
    whole = period.whole()
    weeks = bucket_table(numbered(period.week_buckets(), total=whole))
    values = (
        select(weeks.c.n, FirstReply.seconds.label("value"))
        .select_from(weeks)
        .join(FirstReply, in_range(FirstReply.posted_at, weeks.c.lo, weeks.c.hi))
        .where(*_of_scope(FirstReply, scope))
        .subquery("waits")
    )
    return _medians(median_by_bucket(values))


def _of_scope(model: Any, scope: Scope) -> list[ColumnElement[bool]]:
    """Return the conditions for a row about one post to count in the scope (see dashboard_sql.Scope)."""
    if scope.kind == COMMUNITY:
        return [model.community_id == scope.community_id]
    if scope.kind == DEPARTMENT:
        return [model.department == scope.department, model.public.is_(True)]
    return []


def questions(scope: Scope, period: Period) -> Medians:
    """Return per week, and for the whole period, the questions asked, answered, and the median wait.

    A question is answered when its asker (or its community's admin) accepted
    a reply; the wait runs from the question to that reply being written.
    """
    whole = period.whole()
    question, answer = aliased(Post, name="question"), aliased(Post, name="answer")
    weeks = bucket_table(numbered(period.week_buckets(), total=whole))
    values = (
        select(weeks.c.n, seconds_between(answer.created_at, question.created_at).label("value"))
        .select_from(weeks)
        .join(question, in_range(question.created_at, weeks.c.lo, weeks.c.hi))
        .outerjoin(answer, answer.id == question.accepted_answer_id)
        .where(question.is_question == true(), *scope.counts_post(question))
        .subquery("waits")
    )
    return _medians(median_by_bucket(values))


def inbox_items(scope: Scope, period: Period) -> Medians:
    """Return per week, and for the whole period, team inbox items received, answered, and the median wait.

    The figures of services.inbox.figures for every team at once: the wait is
    an item's first_answer_seconds, the median the nearest rank.
    """
    whole = period.whole()
    weeks = bucket_table(numbered(period.week_buckets(), total=whole))
    values = (
        select(weeks.c.n, InboxItem.first_answer_seconds.label("value"))
        .select_from(weeks)
        .join(InboxItem, in_range(InboxItem.received_at, weeks.c.lo, weeks.c.hi))
    )
    conditions = scope.counts_post(Post)
    if conditions:  # the item counts where its post does
        values = values.join(Post, Post.id == InboxItem.post_id).where(*conditions)
    return _medians(median_by_bucket(values.subquery("waits")))


# -- who talks to whom, and about what ------------------------------------------------


def department_pairs(scope: Scope, period: Period) -> dict[tuple[str, str], tuple[int, int]]:
    """Return (from, to) department -> (replies, mentions) between people in the period.

    A reply goes from its writer's department to the replied post's writer's;
    a mention from the post's writer's to the mentioned person's.  People
    answering themselves are left out; only people (no team or community
    accounts) count.  Public posts only, but in a community's own dashboard
    (models.rollups.TalkDay).
    """
    replies, said = func.sum(TalkDay.replies), func.sum(TalkDay.mentions)
    stmt = (
        select(TalkDay.source, TalkDay.target, replies, said)
        .where(*_in_cell(TalkDay, scope), TalkDay.day.between(period.first, period.last))
        .group_by(TalkDay.source, TalkDay.target)
        .having(replies + said > 0)
    )
    return {(s, t): (int(r), int(m)) for s, t, r, m in db.session.execute(stmt)}


def department_sizes(scope: Scope) -> dict[str, int]:
    """Return the active people per department (in a community's scope: its members per department)."""
    stmt = select(User.department, func.count()).where(User.kind == PERSON, User.is_active.is_(True))
    if scope.kind == COMMUNITY:
        population = scope.population()
        stmt = stmt.join(population, population.c.id == User.id)
    return dict(db.session.execute(stmt.group_by(User.department)).tuples().all())


def top_tags(scope: Scope, period: Period) -> list[tuple[str, int, int]]:
    """Return the tags of the most posts in the period: (name, posts, posts in the period before).

    Counted by tag id, and only the top ones named.  Ties go to the older tag.
    """
    before = period.before()
    current = func.sum(case((TagDay.day >= period.first, TagDay.posts), else_=0))
    counted = (
        select(
            TagDay.tag_id.label("id"),
            current.label("posts"),
            (func.sum(TagDay.posts) - current).label("before"),
        )
        .where(*_in_cell(TagDay, scope), TagDay.day.between(before.first, period.last))
        .group_by(TagDay.tag_id)
        .having(current > 0)
        .order_by(current.desc(), TagDay.tag_id)
        .limit(TOP)
        .subquery("counted")
    )
    stmt = (
        select(Tag.name, counted.c.posts, counted.c.before)
        .join(counted, counted.c.id == Tag.id)
        .order_by(counted.c.posts.desc(), Tag.name)
    )
    return [(name, int(posts), int(earlier)) for name, posts, earlier in db.session.execute(stmt)]


def top_communities(scope: Scope, period: Period) -> list[tuple[str, str, int, int]]:
    """Return the communities of the most public posts in the period: (handle, name, posts, posts before)."""
    before = period.before()
    department, _ = scope.cell()
    current = func.sum(case((PostDay.day >= period.first, PostDay.posts), else_=0))
    counted = (
        select(
            PostDay.community_id.label("id"),
            current.label("posts"),
            (func.sum(PostDay.posts) - current).label("before"),
        )
        .where(
            PostDay.department == department,
            PostDay.community_id != 0,
            PostDay.public.is_(True),
            PostDay.day.between(before.first, period.last),
        )
        .group_by(PostDay.community_id)
        .having(current > 0)
        .subquery("counted")
    )
    stmt = (
        select(User.username, User.display_name, counted.c.posts, counted.c.before)
        .join(counted, counted.c.id == User.id)
        .order_by(counted.c.posts.desc(), User.username)
        .limit(TOP)
    )
    return [(handle, name, int(n), int(b)) for handle, name, n, b in db.session.execute(stmt)]
