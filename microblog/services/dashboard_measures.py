"""The dashboard's measures: each one SQL aggregate over the period, computed fresh on every view.

Each function takes a scope and a period and returns plain rows: counts per
bucket, with no suppression (services.dashboard applies it).  The weekly
measures count distinct people per 7-day bucket; the per-day ones, posts per
local day.  Medians are nearest-rank, computed by the database
(dashboard_sql.median_by_bucket).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, or_, select, true, union_all
from sqlalchemy.orm import aliased

from microblog.database import db
from models import DailyActivity, InboxItem, Like, Post, Tag, User, mentions, post_tags
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
    writer,
)
from .visibility import post_is_public

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


def _distinct_people(scope: Scope, period: Period, events: Any, *, by_day: bool = False) -> dict[int, int]:
    """Count per week the distinct people of the population among events (user_id, at or day).

    Each week's people are made distinct first, and only then looked up in
    the population: a few thousand lookups, not one per event.
    """
    weeks = bucket_table(numbered(period.week_buckets()))
    when = (
        events.c.day.between(weeks.c.first_day, weeks.c.last_day)
        if by_day
        else in_range(events.c.at, weeks.c.lo, weeks.c.hi)
    )
    seen = (
        select(weeks.c.n, weeks.c.hi, events.c.user_id)
        .select_from(weeks)
        .join(events, when)
        .distinct()
        .subquery("seen")
    )
    population = scope.population()
    stmt = (
        select(seen.c.n, func.count())
        .select_from(seen)
        .join(population, and_(population.c.id == seen.c.user_id, population.c.since < seen.c.hi))
        .group_by(seen.c.n)
    )
    return _by_bucket(stmt)


def active_people(scope: Scope, period: Period) -> dict[int, int]:
    """Return per week the people who used microblog on at least one day of it (daily_activity)."""
    whole = period.whole()
    days = (
        select(DailyActivity.user_id.label("user_id"), DailyActivity.day.label("day"))
        .where(DailyActivity.day.between(whole.first, whole.last))
        .subquery("days")
    )
    return _distinct_people(scope, period, days, by_day=True)


def engaged_people(scope: Scope, period: Period) -> dict[int, int]:
    """Return per week the people who liked or replied to a post that counts in the scope."""
    whole = period.whole()
    liked = select(Like.user_id.label("user_id"), Like.created_at.label("at")).where(
        in_range(Like.created_at, whole.lo, whole.hi)
    )
    conditions = scope.counts_post(Post)
    if conditions:
        liked = liked.join(Post, Post.id == Like.post_id).where(*conditions)
    replied = select(writer(Post).label("user_id"), Post.created_at.label("at")).where(
        Post.in_reply_to_id.is_not(None), in_range(Post.created_at, whole.lo, whole.hi), *conditions
    )
    return _distinct_people(scope, period, union_all(liked, replied).subquery("events"))


def posting_people(scope: Scope, period: Period) -> dict[int, int]:
    """Return per week the people who wrote a post or a reply that counts in the scope."""
    whole = period.whole()
    wrote = (
        select(writer(Post).label("user_id"), Post.created_at.label("at"))
        .where(in_range(Post.created_at, whole.lo, whole.hi), *scope.counts_post(Post))
        .subquery("events")
    )
    return _distinct_people(scope, period, wrote)


# -- posts, replies, questions, the team inboxes ------------------------------------


def posts_by_day(scope: Scope, period: Period) -> dict[int, tuple[int, int]]:
    """Return per day (bucket number) the posts that start a thread and the replies, in the scope."""
    days = bucket_table(numbered(period.day_buckets()))
    stmt = (
        select(days.c.n, func.count(), func.count(Post.in_reply_to_id))
        .select_from(days)
        .join(Post, in_range(Post.created_at, days.c.lo, days.c.hi))
        .where(*scope.counts_post(Post))
        .group_by(days.c.n)
    )
    return {n: (total - replies, replies) for n, total, replies in db.session.execute(stmt)}


def first_replies(scope: Scope, period: Period) -> Medians:
    """Return per week, and for the whole period, the posts that got a reply and the median wait for it.

    A post (one that starts a thread) got a reply when someone other than its
    writer replied to it, at any time up to now; the wait is to the first such
    reply.  Read from the replies' side: replies are few beside all posts.
    """
    whole = period.whole()
    # The period's replies first (a partial index holds them), materialized: left to itself, a
    # planner walks every post of the period and looks for replies to each.
    replies = (
        select(
            Post.in_reply_to_id.label("post_id"),
            Post.created_at.label("at"),
            writer(Post).label("writer"),
        )
        .where(Post.in_reply_to_id.is_not(None), Post.created_at >= whole.lo)
        .cte("replies")
        .prefix_with("MATERIALIZED")
    )
    post = aliased(Post, name="post")
    firsts = (
        select(post.created_at.label("posted"), func.min(replies.c.at).label("replied"))
        .select_from(replies)
        .join(post, post.id == replies.c.post_id)
        .where(
            in_range(post.created_at, whole.lo, whole.hi),
            # Not "IS NULL": SQLite would walk the index of in_reply_to_id from its NULLs (nearly every post).
            func.coalesce(post.in_reply_to_id, 0) == 0,
            replies.c.writer != writer(post),
            *scope.counts_post(post),
        )
        .group_by(post.id, post.created_at)
        .subquery("firsts")
    )
    weeks = bucket_table(numbered(period.week_buckets(), total=whole))
    values = (
        select(weeks.c.n, seconds_between(firsts.c.replied, firsts.c.posted).label("value"))
        .select_from(weeks)
        .join(firsts, in_range(firsts.c.posted, weeks.c.lo, weeks.c.hi))
        .subquery("waits")
    )
    return _medians(median_by_bucket(values))


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
    accounts) count.  Public posts only, but in a community's own dashboard.
    """
    whole = period.whole()
    reply, post = aliased(Post, name="reply"), aliased(Post, name="post")
    source, target = aliased(User, name="source"), aliased(User, name="target")
    replies = (
        select(
            literal(0).label("mention"), source.department.label("source"), target.department.label("target")
        )
        .select_from(reply)
        .join(post, post.id == reply.in_reply_to_id)
        .join(source, source.id == writer(reply))
        .join(target, target.id == writer(post))
        .where(reply.in_reply_to_id.is_not(None), in_range(reply.created_at, whole.lo, whole.hi))
        .where(*_pair_conditions(scope, reply, source, target))
    )
    said = (
        select(literal(1).label("mention"), source.department, target.department)
        .select_from(post)
        .join(mentions, mentions.c.post_id == post.id)
        .join(source, source.id == writer(post))
        .join(target, target.id == mentions.c.user_id)
        .where(in_range(post.created_at, whole.lo, whole.hi))
        .where(*_pair_conditions(scope, post, source, target))
    )
    both = union_all(replies, said).subquery("said")
    stmt = select(
        both.c.source,
        both.c.target,
        func.count() - func.sum(both.c.mention),
        func.sum(both.c.mention),
    ).group_by(both.c.source, both.c.target)
    return {(s, t): (int(r), int(m)) for s, t, r, m in db.session.execute(stmt)}


def _pair_conditions(scope: Scope, post: Any, source: Any, target: Any) -> list[Any]:
    people = [source.kind == PERSON, target.kind == PERSON, source.id != target.id]
    if scope.kind == COMMUNITY:
        return [*people, post.community_id == scope.community_id]
    if scope.kind == DEPARTMENT:  # the department's row and column: what it says, and what is said to it
        pair = or_(source.department == scope.department, target.department == scope.department)
        return [*people, post_is_public(post), pair]
    return [*people, post_is_public(post)]


def department_sizes(scope: Scope) -> dict[str, int]:
    """Return the active people per department (in a community's scope: its members per department)."""
    stmt = select(User.department, func.count()).where(User.kind == PERSON, User.is_active.is_(True))
    if scope.kind == COMMUNITY:
        population = scope.population()
        stmt = stmt.join(population, population.c.id == User.id)
    return dict(db.session.execute(stmt.group_by(User.department)).tuples().all())


def top_tags(scope: Scope, period: Period) -> list[tuple[str, int, int]]:
    """Return the tags of the most posts in the period: (name, posts, posts in the period before).

    Counted by tag id, and only the top ones named: a tag's name is looked up
    TOP times, not once per tagged post.  Ties go to the older tag.
    """
    now, before = period.whole(), period.before().whole()
    current = func.sum(case((Post.created_at >= now.lo, 1), else_=0))
    counted = (
        select(
            post_tags.c.tag_id.label("id"), current.label("posts"), (func.count() - current).label("before")
        )
        .select_from(Post)
        .join(post_tags, post_tags.c.post_id == Post.id)
        .where(in_range(Post.created_at, before.lo, now.hi), *scope.counts_post(Post, naming=True))
        .group_by(post_tags.c.tag_id)
        .having(current > 0)
        .order_by(current.desc(), post_tags.c.tag_id)
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
    """Return the communities of the most posts in the period: (handle, name, posts, posts before)."""
    now, before = period.whole(), period.before().whole()
    current = func.sum(case((Post.created_at >= now.lo, 1), else_=0))
    counted = (
        select(
            Post.community_id.label("id"), current.label("posts"), (func.count() - current).label("before")
        )
        .where(
            Post.community_id.is_not(None),
            in_range(Post.created_at, before.lo, now.hi),
            *scope.counts_post(Post, naming=True),
        )
        .group_by(Post.community_id)
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
