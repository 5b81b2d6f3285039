"""The usefulness dashboard: figures known by hand, suppression, privacy, CSV, bad input, statements."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from microblog.services import dashboard
from microblog.services.dashboard import SUPPRESSED
from microblog.services.errors import NotFound, PermissionDenied, ValidationError

from . import dashboard_world as known
from .dashboard_world import FIRST, LAST, build_world
from .factories import login, make_user

# Every test builds the hand-made company of dashboard_world (two seconds each): `make test` runs them,
# `make test-fast` leaves them out.
pytestmark = pytest.mark.slow


@pytest.fixture
def world(app):
    return build_world()


def figures(measure, start: int) -> list[tuple]:
    return [row[start:] for row in measure.rows]


def approx_rows(rows):
    return [tuple(pytest.approx(v) if isinstance(v, float) else v for v in row) for row in rows]


# -- the company, by hand ----------------------------------------------------------


def test_weekly_people_as_shares_of_the_accounts(world):
    board = dashboard.dashboard(world.people["root"], FIRST, LAST)
    assert (board.people, board.suppressed) == (13, False)
    weeks = [row[:4] for row in board.measures["active"].rows]
    assert weeks == [
        ("week", date(2024, 1, 8), date(2024, 1, 14), 7),
        ("week", date(2024, 1, 15), date(2024, 1, 21), 7),
    ]
    assert figures(board.measures["active"], 4) == approx_rows(known.ACTIVE)
    assert figures(board.measures["engaged"], 4) == approx_rows(known.ENGAGED)
    assert figures(board.measures["posting"], 4) == approx_rows(known.POSTING)


def test_posts_replies_questions_and_inboxes(world):
    board = dashboard.dashboard(world.people["root"], FIRST, LAST)
    posts = board.measures["posts"]
    assert [row[0] for row in posts.rows] == [date(2024, 1, d) for d in range(8, 22)]
    assert figures(posts, 1) == known.POSTS_PER_DAY
    assert figures(board.measures["replies"], 4) == approx_rows(known.REPLIES)
    assert board.measures["replies"].rows[-1][:4] == ("period", date(2024, 1, 8), date(2024, 1, 21), 14)
    assert figures(board.measures["questions"], 4) == approx_rows(known.QUESTIONS)
    assert figures(board.measures["inbox"], 4) == approx_rows(known.INBOX)


def test_who_talks_to_whom_by_department_withholds_small_departments(world):
    board = dashboard.dashboard(world.people["root"], FIRST, LAST)
    pairs = {(row[0], row[1]): row[2:] for row in board.measures["departments"].rows}
    expected = {pair: (SUPPRESSED, SUPPRESSED) if v is None else v for pair, v in known.DEPARTMENTS.items()}
    assert pairs == expected
    assert board.departments == {"Engineering": 5, "Sales": 5, "Legal": 2, "": 1}


def test_top_tags_and_communities_count_public_posts_only(world):
    board = dashboard.dashboard(world.people["root"], FIRST, LAST)
    assert board.measures["tags"].rows == approx_rows(known.TAGS)  # not #hidden, used in @secret only
    assert board.measures["communities"].rows == known.COMMUNITIES  # not @secret


def test_the_team_inboxes_match_each_team_s_own_figures(world):
    from datetime import timedelta

    from microblog.services import inbox

    until = known.oslo(22, 0)
    team = inbox.figures(world.helpdesk, 14, now=until)
    period = dashboard.dashboard(world.people["root"], FIRST, LAST).measures["inbox"].rows[-1]
    assert until - timedelta(days=14) == known.oslo(8, 0)
    assert (team.received, team.answered, team.answered_share, team.median_seconds) == period[4:]


# -- a department, a community ------------------------------------------------------


def test_a_department_counts_its_people_and_their_public_posts(world):
    board = dashboard.dashboard(world.people["root"], FIRST, LAST, department="Engineering")
    assert (board.people, board.suppressed) == (5, False)  # not e6, who is deactivated
    assert figures(board.measures["active"], 4) == approx_rows([(5, 2, 0.4), (5, 2, 0.4)])
    # e3's post in @secret is private: it counts for the company and for @secret, not here
    assert figures(board.measures["posting"], 4) == approx_rows([(5, 2, 0.4), (5, 2, 0.4)])
    assert figures(board.measures["engaged"], 4) == approx_rows([(5, 2, 0.4), (5, 2, 0.4)])
    per_day = dict(zip(range(8, 22), figures(board.measures["posts"], 1), strict=True))
    assert {d: v for d, v in per_day.items() if v != (0, 0)} == {
        8: (1, 0),
        9: (1, 1),
        14: (0, 1),
        15: (0, 1),
        17: (0, 1),
        20: (1, 0),
    }
    assert figures(board.measures["replies"], 4) == approx_rows(
        [(2, 2, 1.0, 1800.0), (1, 0, 0.0, None), (3, 2, 2 / 3, 1800.0)]
    )
    pairs = {(row[0], row[1]) for row in board.measures["departments"].rows}
    assert pairs == set(known.DEPARTMENTS)  # each pair has Engineering on one side
    assert [row[0] for row in board.measures["tags"].rows] == ["apollo"]


def test_a_community_counts_its_members_and_all_its_posts(world):
    board = dashboard.dashboard(world.people["e3"], FIRST, LAST, community=world.secret)
    assert (board.people, board.suppressed) == (5, False)
    assert "communities" not in board.measures and board.departments == {}
    # Active in the community: e3 wrote P5, e4 replied, e5 liked it (e3 reading on the 16th is not counted)
    assert figures(board.measures["active"], 4) == approx_rows([(5, 0, 0.0), (5, 3, 0.6)])
    assert figures(board.measures["engaged"], 4) == approx_rows([(5, 0, 0.0), (5, 2, 0.4)])
    assert figures(board.measures["posting"], 4) == approx_rows([(5, 0, 0.0), (5, 2, 0.4)])
    assert figures(board.measures["replies"], 4) == approx_rows(
        [(0, 0, None, None), (1, 1, 1.0, 60.0), (1, 1, 1.0, 60.0)]
    )
    assert board.measures["tags"].rows == [("hidden", 1, 0, None)]
    # e3 and e4 are Engineering, but only three of the community's members are
    assert board.measures["departments"].rows == [("Engineering", "Engineering", SUPPRESSED, SUPPRESSED)]


# -- fewer than five people -----------------------------------------------------------


def test_a_community_of_fewer_than_five_shows_no_figure(world):
    board = dashboard.dashboard(world.people["s1"], FIRST, LAST, community=world.open)
    assert (board.people, board.suppressed) == (3, True)
    for name, measure in board.measures.items():
        for row in measure.rows:
            assert set(row[measure.values_from :]) <= {SUPPRESSED}, (name, row)
    assert board.measures["tags"].rows == []


def test_a_department_of_fewer_than_five_shows_no_figure(world):
    board = dashboard.dashboard(world.people["root"], FIRST, LAST, department="Legal")
    assert (board.people, board.suppressed) == (2, True)
    assert all(row[4:] == (SUPPRESSED,) * 3 for row in board.measures["active"].rows)
    assert all(row[1:] == (SUPPRESSED,) * 2 for row in board.measures["posts"].rows)
    assert all(set(row[2:]) == {SUPPRESSED} for row in board.measures["departments"].rows)
    assert board.measures["tags"].rows == [] and board.measures["communities"].rows == []


# -- who may see which dashboard ------------------------------------------------------


def test_only_site_administrators_see_the_company_and_its_departments(world):
    for who in ("e1", "e3", "s1"):
        with pytest.raises(PermissionDenied):
            dashboard.dashboard(world.people[who], FIRST, LAST)
        with pytest.raises(PermissionDenied):
            dashboard.measure(world.people[who], "active", FIRST, LAST, department="Engineering")
    with pytest.raises(PermissionDenied):
        dashboard.dashboard(None)
    with pytest.raises(NotFound):
        dashboard.dashboard(world.people["root"], department="Astrology")


def test_only_a_community_s_admins_see_its_dashboard(world):
    # a member, another community's admin, and a site administrator: not found
    for who in ("e4", "s1", "root"):
        with pytest.raises(NotFound):
            dashboard.dashboard(world.people[who], FIRST, LAST, community=world.secret)
    with pytest.raises(NotFound):
        dashboard.measure(world.people["root"], "tags", community=world.secret)
    with pytest.raises(NotFound):
        dashboard.measure(world.people["e3"], "communities", community=world.secret)


# -- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, last",
    [
        ("2024-13-01", LAST),
        ("yesterday", LAST),
        ("2024-1-8", LAST),
        (FIRST, "2024-02-30"),
        ("2024-01-22", "2024-01-21"),  # the start after the end
        ("2022-01-01", "2024-01-21"),  # more than 366 days
        ("1999-12-31", "2000-01-05"),
        ("2024-01-01", "9999-12-31"),  # after today
        ("\x00", None),
    ],
)
def test_a_bad_period_is_refused_with_a_message(world, first, last):
    with pytest.raises(ValidationError):
        dashboard.dashboard(world.people["root"], first, last)


def test_the_default_period_is_the_last_28_days_and_a_year_is_allowed(world):
    board = dashboard.dashboard(world.people["root"])
    assert board.period.days == 28 and board.period.last == dashboard.site_day()
    assert len(board.measures["active"].rows) == 4
    year = dashboard.dashboard(world.people["root"], "2023-01-22", "2024-01-21")
    assert year.period.days == 365 and len(year.measures["posts"].rows) == 365
    assert sum(row[1] for row in year.measures["posts"].rows) == 12 + 3


def test_weeks_end_on_the_period_s_last_day_and_the_first_may_be_short(world):
    board = dashboard.dashboard(world.people["root"], "2024-01-10", LAST)
    assert [row[1:4] for row in board.measures["active"].rows] == [
        (date(2024, 1, 10), date(2024, 1, 14), 5),
        (date(2024, 1, 15), date(2024, 1, 21), 7),
    ]
    assert figures(board.measures["active"], 4) == approx_rows(
        [(12, 3, 3 / 12), (13, 4, 4 / 13)]
    )  # e2, s1, root; not e1 nor l1


@pytest.mark.parametrize(("first", "active"), [("2024-01-15", (13, 4, 4 / 13)), ("2024-01-21", (13, 0, 0.0))])
def test_a_period_of_one_week_or_one_day_is_one_bucket(world, client, first, active):
    board = dashboard.dashboard(world.people["root"], first, LAST)
    assert figures(board.measures["active"], 4) == approx_rows([active])
    login(client, "root")
    assert client.get(f"/admin/dashboard?from={first}&to={LAST}").status_code == 200
    assert client.get(f"/admin/dashboard/active.csv?from={first}&to={LAST}").status_code == 200


def test_a_week_before_five_people_had_joined_shows_none_of_its_people(world):
    board = dashboard.dashboard(
        world.people["root"], "2023-11-24", "2023-12-07"
    )  # everyone joined 1 December
    assert figures(board.measures["active"], 4) == [(SUPPRESSED,) * 3, (12, 0, 0.0)]


def test_a_day_of_summer_time_change_is_23_hours_long(app):
    from microblog.services.dashboard_sql import Period

    day = Period(date(2024, 3, 31), date(2024, 3, 31)).day_buckets()[0]
    assert (day.hi - day.lo).total_seconds() == 23 * 3600


# -- the cost ---------------------------------------------------------------------------


def test_the_full_dashboard_costs_a_fixed_number_of_statements(world, count_queries):
    root = world.people["root"]
    assert root.is_admin  # loaded before counting
    with count_queries() as two_weeks:
        dashboard.dashboard(root, FIRST, LAST)
    with count_queries() as a_year:
        dashboard.dashboard(root, "2023-01-22", LAST)
    assert two_weeks.count == a_year.count <= 13


# -- the pages --------------------------------------------------------------------------

COMPANY_PAGE = f"/admin/dashboard?from={FIRST}&to={LAST}"
SECRET_PAGE = f"/communities/secret/dashboard?from={FIRST}&to={LAST}"


def test_the_company_page_shows_every_measure_to_a_site_administrator(world, client):
    login(client, "root")
    page = client.get(COMPANY_PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in dashboard.MEASURES:
        assert f'data-measure="{name}"' in html and f"/admin/dashboard/{name}.csv?" in html
    tags = html.split('data-measure="tags"')[1].split("</section>")[0]
    assert ">apollo<" in tags and "hidden" not in tags  # #hidden is used in @secret only
    assert "secret" not in html.split('data-measure="communities"')[1].split("</section>")[0]
    assert client.get("/admin/users").get_data(as_text=True).count('href="/admin/dashboard"') == 1


@pytest.mark.parametrize(
    "path", [COMPANY_PAGE, "/admin/dashboard/active.csv", "/admin/dashboard?department=Sales"]
)
def test_the_company_pages_refuse_anyone_but_site_administrators(world, client, path):
    assert client.get(path).status_code == 302  # anonymous: to the log-in page, as every admin page
    login(client, "e3")  # a community admin is no site administrator
    assert client.get(path).status_code == 403
    assert client.get("/admin/users").status_code == 403


@pytest.mark.parametrize("who", ["e4", "s1", "root"])
def test_a_community_page_is_not_found_but_for_its_admins(world, client, who):
    for path in (SECRET_PAGE, "/communities/secret/dashboard/tags.csv"):
        assert client.get(path).status_code == 302
    login(client, who)
    assert client.get(SECRET_PAGE).status_code == 404
    assert client.get("/communities/secret/dashboard/tags.csv").status_code == 404
    assert client.get("/communities/nosuch/dashboard").status_code == 404


def test_a_community_s_admin_sees_its_page_and_a_link_to_it(world, client, app):
    login(client, "e3")
    page = client.get(SECRET_PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-measure="communities"' not in html and 'data-measure="tags"' in html
    assert "/communities/secret/dashboard/posts.csv?" in html
    assert "data-dashboard-link" in client.get("/@secret").get_data(as_text=True)
    member = app.test_client()
    login(member, "e4")
    assert "data-dashboard-link" not in member.get("/@secret").get_data(as_text=True)


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_a_measure_downloads_as_csv_with_a_header_row(world, client):
    login(client, "root")
    response = client.get(f"/admin/dashboard/replies.csv?from={FIRST}&to={LAST}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="microblog-company-replies-2024-01-08-2024-01-21.csv"'
    )
    assert read_csv(response) == [
        ["bucket", "start", "end", "days", "posts", "replied", "share", "median_seconds"],
        ["week", "2024-01-08", "2024-01-14", "7", "5", "3", "0.6000", "1800"],
        ["week", "2024-01-15", "2024-01-21", "7", "7", "3", "0.4286", "2400"],
        ["period", "2024-01-08", "2024-01-21", "14", "12", "6", "0.5000", "1800"],
    ]
    rows = read_csv(client.get(f"/admin/dashboard/questions.csv?from={FIRST}&to={LAST}"))
    assert rows[1] == ["week", "2024-01-08", "2024-01-14", "7", "0", "0", "", ""]  # nothing: empty
    matrix = read_csv(client.get(f"/admin/dashboard/departments.csv?from={FIRST}&to={LAST}"))
    assert matrix[0] == ["from_department", "to_department", "replies", "mentions"]
    assert ["Engineering", "Sales", "2", "3"] in matrix
    assert ["Legal", "Engineering", "suppressed", "suppressed"] in matrix  # withheld: "suppressed"
    tags = read_csv(client.get(f"/admin/dashboard/tags.csv?from={FIRST}&to={LAST}"))
    assert tags == [
        ["tag", "posts", "previous_posts", "growth"],
        ["apollo", "2", "1", "1.0000"],
        ["zeus", "1", "2", "-0.5000"],
    ]


def test_a_small_group_s_csv_says_suppressed_and_a_community_s_csv_is_its_own(world, client, app):
    login(client, "root")
    legal = read_csv(client.get(f"/admin/dashboard/active.csv?department=Legal&from={FIRST}&to={LAST}"))
    assert legal[1] == ["week", "2024-01-08", "2024-01-14", "7", "suppressed", "suppressed", "suppressed"]
    admin_of_open = app.test_client()
    login(admin_of_open, "s1")
    response = admin_of_open.get(f"/communities/open/dashboard/posts.csv?from={FIRST}&to={LAST}")
    assert response.headers["Content-Disposition"].startswith('attachment; filename="microblog-open-posts-')
    assert read_csv(response)[1] == ["2024-01-08", "suppressed", "suppressed"]


def test_a_department_named_like_a_formula_is_written_as_text(world, client):
    from microblog.services import accounts

    for n in range(5):
        accounts.update_profile(make_user(f"x{n}"), department="=HYPERLINK(1)")
    login(client, "root")
    rows = read_csv(client.get("/admin/dashboard/active.csv?department=%3DHYPERLINK(1)"))
    assert len(rows) == 5  # four weeks of the default period
    page = client.get("/admin/dashboard")
    assert "=HYPERLINK(1)" in page.get_data(as_text=True)  # escaped in the page, a choice of the form
    from microblog.web.dashboard import csv_value

    assert csv_value("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_value(-0.5) == "-0.5000"


@pytest.mark.parametrize(
    "query",
    [
        "from=2024-01-22&to=2024-01-21",
        "from=2020-01-01&to=2024-01-21",
        "from=nonsense",
        "to=2024-02-31",
        "from=" + "9" * 5000,
    ],
)
def test_a_bad_period_shows_the_form_again_with_a_message(world, client, app, query):
    login(client, "root")
    page = client.get(f"/admin/dashboard?{query}")
    assert page.status_code == 422
    assert 'role="alert"' in page.get_data(as_text=True)
    assert client.get(f"/admin/dashboard/active.csv?{query}").status_code == 422
    admin_of_secret = app.test_client()
    login(admin_of_secret, "e3")
    assert admin_of_secret.get(f"/communities/secret/dashboard?{query}").status_code == 422


def test_a_control_character_is_refused_before_any_figure(world, client):
    login(client, "root")
    assert client.get("/admin/dashboard?from=%00").status_code == 400  # the site's guard on all input
    assert client.get("/admin/dashboard/active.csv?department=%00").status_code == 400


def test_an_unknown_measure_or_department_is_not_found(world, client, app):
    login(client, "root")
    assert client.get("/admin/dashboard/nosuch.csv").status_code == 404
    assert client.get("/admin/dashboard?department=Astrology").status_code == 404
    assert client.get("/admin/dashboard/active.csv?department=Astrology").status_code == 404
    admin_of_secret, member = app.test_client(), app.test_client()
    login(admin_of_secret, "e3")
    assert admin_of_secret.get("/communities/secret/dashboard/communities.csv").status_code == 404
    login(member, "e4")  # refused before the measure's name is even looked at
    assert member.get("/communities/secret/dashboard/nosuch.csv").status_code == 404
