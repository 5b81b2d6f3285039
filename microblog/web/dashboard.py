"""The dashboard's pages: the company's and a department's (site admins), a community's (its admins).

Each shows every measure of services.dashboard over a period chosen by a GET
form, a trend plot and a table per measure, and a link to the measure's CSV.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from flask import Response, render_template, request
from flask_babel import format_date, format_decimal, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from microblog.services import communities, dashboard
from microblog.services.dashboard import SUPPRESSED, Dashboard, Measure
from microblog.services.errors import ValidationError

from . import bp, duration, percent
from .admin import admin_required

# What each column of a measure is called on the page, and how its values read.
COLUMNS = {
    "bucket": (_l("Period"), "bucket"),
    "start": (_l("From"), "date"),
    "end": (_l("To"), "date"),
    "days": (_l("Days"), "number"),
    "day": (_l("Day"), "date"),
    "people": (_l("People"), "number"),
    "active": (_l("Active"), "number"),
    "engaged": (_l("Engaged"), "number"),
    "posting": (_l("Posting"), "number"),
    "share": (_l("Share"), "percent"),
    "posts": (_l("Posts"), "number"),
    "replies": (_l("Replies"), "number"),
    "replied": (_l("Got a reply"), "number"),
    "median_seconds": (_l("Median wait"), "duration"),
    "asked": (_l("Asked"), "number"),
    "answered": (_l("Answered"), "number"),
    "received": (_l("Received"), "number"),
    "from_department": (_l("From department"), "department"),
    "to_department": (_l("To department"), "department"),
    "mentions": (_l("Mentions"), "number"),
    "tag": (_l("Tag"), "text"),
    "handle": (_l("Community"), "text"),
    "name": (_l("Name"), "text"),
    "previous_posts": (_l("Posts in the period before"), "number"),
    "growth": (_l("Growth"), "percent"),
}

# Each measure on the page: its heading, what it counts, and the columns its plots follow.
SECTIONS = {
    "active": (
        _l("Weekly active people"),
        _l("People who opened microblog on at least one day of the week."),
        ("share",),
    ),
    "engaged": (
        _l("Weekly engaged people"),
        _l("People who liked or replied to a post in the week."),
        ("share",),
    ),
    "posting": (
        _l("Weekly posting people"),
        _l("People who wrote a post or a reply in the week."),
        ("share",),
    ),
    "posts": (
        _l("Posts and replies per day"),
        _l("New posts that start a thread, and replies."),
        ("posts", "replies"),
    ),
    "replies": (
        _l("Posts that got a reply"),
        _l("Posts that start a thread and got a reply from someone else, and how long the first one took."),
        ("share",),
    ),
    "questions": (
        _l("Questions"),
        _l("Questions asked, the share with an accepted answer, and how long until it was written."),
        ("share",),
    ),
    "inbox": (
        _l("Team inboxes"),
        _l("What the team accounts were asked, the share answered, and the time to the first answer."),
        ("share",),
    ),
    "departments": (
        _l("Who talks to whom"),
        _l("Replies and mentions from people of one department to people of another, in public posts."),
        (),
    ),
    "tags": (_l("Top tags"), _l("The tags of the most public posts, and their growth."), ()),
    "communities": (
        _l("Top communities"),
        _l("The communities with the most public posts, and their growth."),
        (),
    ),
}


# What differs on a community's dashboard: what its measures count is the community's.
COMMUNITY_SECTIONS = {
    "active": (
        _l("Weekly active members"),
        _l("Members who wrote, replied or liked in the community in the week."),
        ("share",),
    ),
    "engaged": (
        _l("Weekly engaged members"),
        _l("Members who liked or replied to a post of the community in the week."),
        ("share",),
    ),
    "posting": (
        _l("Weekly posting members"),
        _l("Members who wrote a post or a reply in the community in the week."),
        ("share",),
    ),
    "departments": (
        _l("Who talks to whom"),
        _l("Replies and mentions from people of one department to people of another, in the community."),
        (),
    ),
    "tags": (_l("Top tags"), _l("The tags of the most posts of the community, and their growth."), ()),
}


@bp.route("/admin/dashboard")
@admin_required
def admin_dashboard():
    """The company's dashboard, or a department's."""
    return _page(department=request.args.get("department") or None)


@bp.route("/admin/dashboard/<measure>.csv")
@admin_required
def admin_dashboard_csv(measure: str):
    """One measure of the company's or a department's dashboard, as CSV."""
    department = request.args.get("department") or None
    found = dashboard.measure(current_user, measure, *_period_args(), department=department)
    return csv_response(found, f"{_slug(department or 'company')}-{measure}")


@bp.route("/communities/<handle>/dashboard")
@login_required
def community_dashboard(handle: str):
    """A community's dashboard, for its admins."""
    return _page(community=communities.access_community(handle))


@bp.route("/communities/<handle>/dashboard/<measure>.csv")
@login_required
def community_dashboard_csv(handle: str, measure: str):
    """One measure of a community's dashboard, as CSV."""
    community = communities.access_community(handle)
    found = dashboard.measure(current_user, measure, *_period_args(), community=community)
    return csv_response(found, f"{community.username}-{measure}")


def _period_args() -> tuple[str | None, str | None]:
    return request.args.get("from") or None, request.args.get("to") or None


def _page(*, department: str | None = None, community=None):
    """Render a dashboard; a period that is no period shows the form again with its message (422)."""
    error: ValidationError | None = None
    board: Dashboard | None = None
    try:
        board = dashboard.dashboard(current_user, *_period_args(), department=department, community=community)
    except ValidationError as refused:
        error = refused
        dashboard.access_scope(current_user, department=department, community=community)
    if community is not None:
        title = gettext("%(name)s: dashboard", name=community.name)
    elif department:
        title = gettext("Dashboard: %(department)s", department=department)
    else:
        title = gettext("Dashboard")
    csv_args = {"from": request.args.get("from"), "to": request.args.get("to")}
    return render_template(
        "dashboard/show.html",
        board=board,
        error=error,
        community=community,
        department=department or "",
        csv_args={k: v for k, v in csv_args.items() if v},
        sections=SECTIONS | COMMUNITY_SECTIONS if community is not None else SECTIONS,
        columns=COLUMNS,
        title=title,
        **_helpers(),
    ), (error.status_code if error else 200)


def _helpers() -> dict[str, Any]:
    return {"cell": cell, "series": series, "heat": heat_rows, "min_group": dashboard.MIN_GROUP}


def cell(kind: str, value: Any) -> str:
    """Return a table cell's text in the reader's language."""
    if value is SUPPRESSED:
        return gettext("withheld")
    if value is None:
        return "–"
    if kind == "date":
        return format_date(value, "medium")
    if kind == "percent":
        return percent(value)
    if kind == "duration":
        return duration(value)
    if kind == "number":
        return format_decimal(value)
    if kind == "bucket":
        return gettext("Week") if value == "week" else gettext("Whole period")
    if kind == "department":
        return value or gettext("No department")
    return str(value)


def series(measure: Measure, column: str) -> list[tuple[date, float]]:
    """Return the (day, value) points a plot follows: per day, or per week by its first day (no period row).

    A week without a value (a share of nothing) is drawn at zero; its table says "–".
    """
    at = measure.columns.index(column)
    day = measure.columns.index("start") if "start" in measure.columns else 0
    points = []
    for row in measure.rows:
        if row[0] == "period":
            continue
        value = row[at]
        points.append((row[day], float(value) if isinstance(value, int | float) else 0.0))
    return points


def heat_rows(measure: Measure, column: str) -> tuple[list[str], list[tuple[str, list[tuple[Any, int]]]]]:
    """Return the matrix of one figure (replies or mentions): departments, and rows of (value, heat 0-4)."""
    at = measure.columns.index(column)
    values = {(row[0], row[1]): row[at] for row in measure.rows}
    departments = sorted({d for pair in values for d in pair})
    numbers = [v for v in values.values() if isinstance(v, int)]
    top = max(numbers, default=0)
    rows = []
    for source in departments:
        cells = []
        for target in departments:
            value = values.get((source, target), 0)
            level = -(-4 * value // top) if isinstance(value, int) and top and value else 0
            cells.append((value, level))
        rows.append((source, cells))
    return departments, rows


# -- CSV --------------------------------------------------------------------------

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> str:
    """Return a value as a CSV cell: "suppressed" when withheld, empty when there is none."""
    if value is SUPPRESSED:
        return "suppressed"
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value  # text a spreadsheet would run as a formula (a department's name is free text)
    return str(value)


def csv_response(measure: Measure, name: str) -> Response:
    """Return a measure as a CSV attachment: a header row of column names, then one row per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(measure.columns)
    writer.writerows([csv_value(v) for v in row] for row in measure.rows)
    response = Response(out.getvalue(), mimetype="text/csv")
    first, last = _period_args()
    period = f"-{first}-{last}" if first and last else ""
    response.headers["Content-Disposition"] = f'attachment; filename="microblog-{_slug(name + period)}.csv"'
    return response


def _slug(text: str) -> str:
    """Return text fit for a file name: letters, digits, - and _ only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "dashboard"
