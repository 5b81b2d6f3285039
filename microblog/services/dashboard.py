"""The usefulness dashboard: how much microblog is used and how well it answers, as aggregates only.

Site administrators see the whole company and each department; a
community's admins see their community.  Every figure is an SQL aggregate
(services.dashboard_measures), most of them over the rollups kept as posts
and likes are written (services.rollups): as fresh as the posts.  No page
shows who read or wrote what.  A figure about a group of fewer than MIN_GROUP people
is suppressed: a department or community that small shows no figure at all,
and a cell of the department matrix whose departments either is that small
shows none.  Which posts count where is decided by dashboard_sql.Scope.

Each measure is a table (a header of column names and rows), as the page
shows it and as its CSV export writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from microblog.database import db
from models import User

from . import communities
from . import dashboard_measures as m
from .activity import site_day
from .dashboard_sql import COMMUNITY, COMPANY, DEPARTMENT, TOTAL, Bucket, Period, Scope, parse_period
from .errors import NotFound, PermissionDenied

MIN_GROUP = 5


class Suppressed:
    """A figure withheld because it describes fewer than MIN_GROUP people."""

    def __repr__(self) -> str:
        return "SUPPRESSED"

    def __str__(self) -> str:
        return "suppressed"


SUPPRESSED = Suppressed()

# The measures, in the order the page shows them; their names are the CSV files' names.
WEEKLY_PEOPLE = ("active", "engaged", "posting")
MEASURES = (*WEEKLY_PEOPLE, "posts", "replies", "questions", "inbox", "departments", "tags", "communities")
WEEK_COLUMNS = ("bucket", "start", "end", "days")


@dataclass(frozen=True)
class Measure:
    """One measure as a table: column names and rows; `values_from` is the first column of figures."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    values_from: int = 0


@dataclass(frozen=True)
class Dashboard:
    """A scope's measures over a period, with the population they are shares of."""

    scope: Scope
    period: Period
    people: int
    suppressed: bool
    measures: dict[str, Measure] = field(default_factory=dict)
    departments: dict[str, int] = field(default_factory=dict)  # the selector's: active people of each
    # Results two measures share (the population per week, the posts per day), computed once a view.
    shared: dict[str, Any] = field(default_factory=dict, repr=False)

    def once(self, key: str, compute: Callable[[Scope, Period], Any]) -> Any:
        """Return compute(scope, period), computed at most once for this dashboard."""
        if key not in self.shared:
            self.shared[key] = compute(self.scope, self.period)
        return self.shared[key]


# -- who may see which dashboard -------------------------------------------------


def access_scope(
    actor: User | None, *, department: str | None = None, community: User | None = None
) -> Scope:
    """Return the scope the actor asks for, if they may see it.

    The company and its departments: site administrators (others: refused,
    as every admin page is).  A community: its admins only; to anyone else,
    site administrators included, its dashboard is not found.
    """
    if community is not None:
        if not communities.is_admin(actor, community):
            raise NotFound(_("There is no dashboard for you here."))
        return Scope(COMMUNITY, community_id=community.id)
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only administrators see the company's dashboard."))
    if department:
        if db.session.scalar(select(User.id).where(User.department == department).limit(1)) is None:
            raise NotFound(_("No one works in a department called “%(name)s”.", name=department))
        return Scope(DEPARTMENT, department=department)
    return Scope(COMPANY)


def period_of(first: str | None, last: str | None) -> Period:
    """Return the period between two ISO dates, the last 28 days up to today by default."""
    return parse_period(first, last, today=site_day())


def dashboard(
    actor: User | None,
    first: str | None = None,
    last: str | None = None,
    *,
    department: str | None = None,
    community: User | None = None,
) -> Dashboard:
    """Return every measure of the scope the actor asks for, over the period (refused: see access_scope)."""
    scope = access_scope(actor, department=department, community=community)
    period = period_of(first, last)
    people = _population(scope)
    found = Dashboard(scope, period, people, people < MIN_GROUP)
    if scope.kind != COMMUNITY:  # the departments to choose from: the company's, as the matrix counts them
        found.departments.update(found.once("sizes", _department_sizes))
    for name in MEASURES:
        if name != "communities" or scope.kind != COMMUNITY:
            found.measures[name] = _measure(found, name)
    return found


def measure(
    actor: User | None,
    name: str,
    first: str | None = None,
    last: str | None = None,
    *,
    department: str | None = None,
    community: User | None = None,
) -> Measure:
    """Return one measure of the scope the actor asks for, over the period (its CSV export)."""
    scope = access_scope(actor, department=department, community=community)
    if name not in MEASURES or (name == "communities" and scope.kind == COMMUNITY):
        raise NotFound(_("There is no measure called “%(name)s”.", name=name))
    period = period_of(first, last)
    people = _population(scope)
    return _measure(Dashboard(scope, period, people, people < MIN_GROUP), name)


def _population(scope: Scope) -> int:
    population = scope.population()
    return db.session.scalar(select(func.count()).select_from(population)) or 0


def _measure(board: Dashboard, name: str) -> Measure:
    if name in WEEKLY_PEOPLE:
        return _people(board, name)
    return _BUILDERS[name](board)


# -- the tables ---------------------------------------------------------------------


def _share(part: Any, whole: Any) -> float | None:
    return part / whole if isinstance(part, int) and isinstance(whole, int) and whole else None


def _withheld(board: Dashboard, *values: Any) -> tuple[Any, ...]:
    """Return the figures, or SUPPRESSED for each when the scope's group is too small."""
    return tuple(SUPPRESSED for _ in values) if board.suppressed else values


def _week(kind: str, bucket: Bucket) -> tuple[Any, ...]:
    return (kind, bucket.first, bucket.last, bucket.days)


def _people(board: Dashboard, name: str) -> Measure:
    """Weekly active, engaged or posting people, and their share of the population."""
    weeks = board.period.week_buckets()
    population = board.once("population", m.population_by_week)
    counted = board.once("people", m.weekly_people)[name]
    rows = []
    for n, week in enumerate(weeks):
        people, count = population.get(n, 0), counted.get(n, 0)
        figures = (people, count, _share(count, people))
        # A week whose population was still small is withheld, however many count today.
        small = people < MIN_GROUP
        rows.append(
            _week("week", week)
            + (tuple(SUPPRESSED for _ in figures) if small else _withheld(board, *figures))
        )
    return Measure(name, (*WEEK_COLUMNS, "people", name, "share"), rows, len(WEEK_COLUMNS))


def _posts(board: Dashboard) -> Measure:
    """Posts that start a thread, and replies, per day."""
    counted = board.once("daily", m.posts_by_day)
    rows = [
        (day.first, *_withheld(board, *counted.get(n, (0, 0))))
        for n, day in enumerate(board.period.day_buckets())
    ]
    return Measure("posts", ("day", "posts", "replies"), rows, 1)


def _with_total(board: Dashboard) -> list[tuple[int, tuple[Any, ...]]]:
    weeks = [(n, _week("week", week)) for n, week in enumerate(board.period.week_buckets())]
    return [*weeks, (TOTAL, _week("period", board.period.whole()))]


def _replies(board: Dashboard) -> Measure:
    """Per week and for the period: posts, those that got a reply, the share, and the median wait."""
    daily = board.once("daily", m.posts_by_day)
    firsts = m.first_replies(board.scope, board.period)
    day_numbers = {bucket.first: n for n, bucket in enumerate(board.period.day_buckets())}
    rows = []
    for n, head in _with_total(board):
        first, last = head[1], head[2]
        posts = sum(daily.get(day_numbers[d], (0, 0))[0] for d in day_numbers if first <= d <= last)
        replied = firsts.counted.get(n, 0)
        figures = (posts, replied, _share(replied, posts), firsts.median.get(n))
        rows.append(head + _withheld(board, *figures))
    columns = (*WEEK_COLUMNS, "posts", "replied", "share", "median_seconds")
    return Measure("replies", columns, rows, len(WEEK_COLUMNS))


def _answered(board: Dashboard, name: str, figures: m.Medians, asked: str) -> Measure:
    rows = []
    for n, head in _with_total(board):
        total, answered = figures.rows.get(n, 0), figures.counted.get(n, 0)
        values = (total, answered, _share(answered, total), figures.median.get(n))
        rows.append(head + _withheld(board, *values))
    columns = (*WEEK_COLUMNS, asked, "answered", "share", "median_seconds")
    return Measure(name, columns, rows, len(WEEK_COLUMNS))


def _questions(board: Dashboard) -> Measure:
    """Per week and for the period: questions asked, answered, the share, and the median wait."""
    return _answered(board, "questions", m.questions(board.scope, board.period), "asked")


def _inbox(board: Dashboard) -> Measure:
    """Per week and for the period: team inbox items received, answered, the share, the median wait."""
    return _answered(board, "inbox", m.inbox_items(board.scope, board.period), "received")


def _departments(board: Dashboard) -> Measure:
    """Replies and mentions from one department to another, every pair of the departments that talked.

    A pair with a department of fewer than MIN_GROUP people is withheld,
    a zero as much as any other figure.
    """
    sizes = board.once("sizes", _department_sizes)
    pairs = m.department_pairs(board.scope, board.period)
    names = sorted({name for pair in pairs for name in pair})
    rows = []
    for source in names:
        for target in names:
            small = board.suppressed or min(sizes.get(source, 0), sizes.get(target, 0)) < MIN_GROUP
            figures = pairs.get((source, target), (0, 0))
            rows.append((source, target, *(SUPPRESSED if small else v for v in figures)))
    return Measure("departments", ("from_department", "to_department", "replies", "mentions"), rows, 2)


def _department_sizes(scope: Scope, period: Period) -> dict[str, int]:
    return m.department_sizes(scope)


def _growth(now: int, before: int) -> float | None:
    return (now - before) / before if before else None


def _tags(board: Dashboard) -> Measure:
    """The tags of the most posts, with their posts in the period before and the growth."""
    rows = [
        (name, *_withheld(board, posts, before, _growth(posts, before)))
        for name, posts, before in ([] if board.suppressed else m.top_tags(board.scope, board.period))
    ]
    return Measure("tags", ("tag", "posts", "previous_posts", "growth"), rows, 1)


def _communities(board: Dashboard) -> Measure:
    """The communities of the most posts (public ones: see dashboard_sql.Scope), with their growth."""
    rows = [
        (handle, name, *_withheld(board, posts, before, _growth(posts, before)))
        for handle, name, posts, before in (
            [] if board.suppressed else m.top_communities(board.scope, board.period)
        )
    ]
    return Measure("communities", ("handle", "name", "posts", "previous_posts", "growth"), rows, 2)


_BUILDERS: dict[str, Callable[[Dashboard], Measure]] = {
    "posts": _posts,
    "replies": _replies,
    "questions": _questions,
    "inbox": _inbox,
    "departments": _departments,
    "tags": _tags,
    "communities": _communities,
}
