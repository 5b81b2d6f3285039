"""Status boards: figures known by hand, the reader's local days, who may see what, and the pages.

The data set: #apollo and @apollo-team over ten days, 24 March to 2 April 2026,
read in Oslo, where summer time starts on 29 March (02:00 becomes 03:00, so
that day has 23 hours).  Posts are dated to the second around local midnight
on either side of the change; people follow and join on known days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from microblog.database import db
from microblog.services import accounts, boards, communities, questions, social
from microblog.services.errors import NotFound, ValidationError
from models import Follow, Post, TagFollow

from .factories import login, make_community, make_post, make_user

TODAY = date(2026, 4, 2)
DAYS = 10  # 24 March .. 2 April
FIRST = date(2026, 3, 24)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def posted(author, text: str, when: datetime, **kwargs) -> Post:
    """Publish a post through the service, then date it (made in time order, as posts are written)."""
    post = make_post(author, text, **kwargs)
    db.session.execute(update(Post).where(Post.id == post.id).values(created_at=when))
    db.session.commit()
    return post


def day_counts(board) -> dict[date, int]:
    """Return the days with posts, as {day: count}."""
    return {day: n for day, n in board.posts_per_day if n}


def contributors(board) -> list[tuple[str, int]]:
    return [(c.account.username, c.posts) for c in board.contributors]


@pytest.fixture
def people(app):
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
    return {name: make_user(name, display_name=name.capitalize()) for name in names}


# The expected figures of #apollo for a reader in Oslo who may see public posts only.
APOLLO_DAYS = {
    date(2026, 3, 24): 2,  # 23:00:00 CET and 23:59:59 CET
    date(2026, 3, 25): 1,  # 00:00:00 CET: the next day
    date(2026, 3, 28): 1,  # 23:30 CET
    date(2026, 3, 29): 3,  # 00:00 CET, 01:59:59 CET (just before the change), 23:59 CEST
    date(2026, 3, 30): 2,  # 00:00 CEST, and a question
    date(2026, 4, 2): 3,  # three more, the last at 23:59:59 CEST
}


@pytest.fixture
def apollo(people):
    """#apollo: the posts of APOLLO_DAYS, two outside the window, questions, and followers on known days."""
    p = people
    old = posted(p["dave"], "Still open from last year? #apollo", utc(2025, 6, 1, 12), question=True)
    posted(p["grace"], "Kickoff #apollo", utc(2026, 3, 23, 22, 59, 59))  # 23 March, 23:59:59 CET: before
    posted(p["alice"], "Plan #apollo", utc(2026, 3, 24, 22, 0))
    posted(p["alice"], "Late note #apollo", utc(2026, 3, 24, 22, 59, 59))
    posted(p["bob"], "Midnight #apollo", utc(2026, 3, 24, 23, 0))
    posted(p["alice"], "Saturday #apollo", utc(2026, 3, 28, 22, 30))
    posted(p["carol"], "Sunday starts #apollo", utc(2026, 3, 28, 23, 0))
    posted(p["bob"], "Before the change #apollo", utc(2026, 3, 29, 0, 59, 59))
    posted(p["dave"], "Sunday ends #apollo", utc(2026, 3, 29, 21, 59))
    posted(p["erin"], "Monday #apollo", utc(2026, 3, 29, 22, 0))
    question = posted(
        p["alice"], "Who owns the launch checklist? #apollo", utc(2026, 3, 30, 8, 0), question=True
    )
    posted(p["frank"], "Thursday #apollo", utc(2026, 4, 2, 8, 0))
    answered = posted(p["bob"], "Is the demo on Friday? #apollo", utc(2026, 4, 2, 9, 0), question=True)
    posted(p["alice"], "Last word #apollo", utc(2026, 4, 2, 21, 59, 59))
    posted(p["carol"], "Too late #apollo", utc(2026, 4, 2, 22, 0))  # 3 April, 00:00 CEST: after
    reply = make_post(p["carol"], "@bob Yes, at ten", in_reply_to=answered.id)  # no tag: not on the board
    questions.accept_answer(p["bob"], reply.id)
    # Followers: grace long before, dave on 25 March (local), erin on 30 March, frank followed and left.
    for name, when in (
        ("grace", utc(2026, 1, 5, 12)),
        ("dave", utc(2026, 3, 24, 23, 30)),
        ("erin", utc(2026, 3, 30, 7)),
        ("frank", utc(2026, 3, 26, 7)),
    ):
        tag = social.follow_tag(p[name], "apollo")
        db.session.execute(update(TagFollow).where(TagFollow.user_id == p[name].id).values(created_at=when))
    social.unfollow_tag(p["frank"], "apollo")
    db.session.commit()
    return {"tag": tag, "question": question, "answered": answered, "old": old}


def test_posts_per_day_are_counted_in_local_days_across_midnight_and_summer_time(people, apollo):
    tag, board = boards.tag_board(people["grace"], "apollo", days=DAYS, today=TODAY)
    assert tag.name == "apollo"
    assert board.zone == "Europe/Oslo"
    assert [day for day, _ in board.posts_per_day] == [FIRST + timedelta(days=n) for n in range(DAYS)]
    assert day_counts(board) == APOLLO_DAYS
    assert board.posts == 12
    assert (board.first_day, board.last_day, board.days) == (FIRST, TODAY, DAYS)


def test_contributors_are_the_five_most_active_with_their_counts(people, apollo):
    _, board = boards.tag_board(people["grace"], "apollo", days=DAYS, today=TODAY)
    # alice 5, bob 3; carol, dave, erin, frank 1 each: ties by who joined first (account id); frank is sixth.
    assert contributors(board) == [("alice", 5), ("bob", 3), ("carol", 1), ("dave", 1), ("erin", 1)]
    assert board.contributor_count == 6  # grace posted before the window only


def test_open_questions_are_those_asked_in_the_period_still_without_an_answer(people, apollo):
    _, board = boards.tag_board(people["grace"], "apollo", days=DAYS, today=TODAY)
    # Bob's was answered; last year's is still open, but not from these days.
    assert board.open_questions == 1
    assert [q.id for q in board.newest_questions] == [apollo["question"].id]
    questions.unaccept_answer(people["bob"], apollo["answered"].id)
    _, board = boards.tag_board(people["grace"], "apollo", days=DAYS, today=TODAY)
    assert board.open_questions == 2
    assert [q.id for q in board.newest_questions] == [apollo["answered"].id, apollo["question"].id]


def test_followers_over_time_are_todays_followers_by_the_day_each_joined(people, apollo):
    _, board = boards.tag_board(people["grace"], "apollo", days=DAYS, today=TODAY)
    growth = dict(board.followers_per_day)
    assert growth[date(2026, 3, 24)] == 1  # grace, since January
    assert growth[date(2026, 3, 25)] == 2  # dave: 24 March 23:30 UTC is 25 March in Oslo
    assert growth[date(2026, 3, 29)] == 2  # frank left: not counted on 26 March either
    assert growth[date(2026, 3, 30)] == 3  # erin
    assert growth[TODAY] == 3 == board.followers
    assert board.followers_before == 1
    assert board.new_followers == 2


def test_days_are_the_readers_even_where_midnight_falls_inside_an_hour(people, apollo):
    kolkata = make_user("ravi")
    accounts.update_preferences(kolkata, locale="", timezone="Asia/Kolkata")  # UTC+5:30 all year
    posted(kolkata, "Before midnight #apollo", utc(2026, 3, 26, 18, 29, 59))  # 23:59:59 IST, 26 March
    posted(kolkata, "After midnight #apollo", utc(2026, 3, 26, 18, 30))  # 00:00 IST, 27 March
    _, board = boards.tag_board(kolkata, "apollo", days=DAYS, today=TODAY)
    assert board.zone == "Asia/Kolkata"
    assert day_counts(board) == {
        date(2026, 3, 24): 1,  # grace's kickoff, 23 March 22:59:59 UTC: 04:29:59 IST
        date(2026, 3, 25): 3,  # alice's two and bob's midnight post (03:30 to 04:30 IST)
        date(2026, 3, 26): 1,  # 23:59:59 IST
        date(2026, 3, 27): 1,  # 00:00 IST
        date(2026, 3, 29): 3,
        date(2026, 3, 30): 3,  # dave's 23:59 CEST is 03:29 IST the next day
        date(2026, 4, 2): 2,  # alice's 21:59:59 UTC is 3 April in Kolkata
    }


def test_the_default_board_covers_ninety_days_ending_today(people, apollo):
    _, board = boards.tag_board(people["grace"], "apollo")
    assert board.days == 90
    assert board.last_day == datetime.now(boards.reader_zone(people["grace"])).date()
    assert len(board.followers_per_day) == 90


# -- who may see what -----------------------------------------------------------------------


@pytest.fixture
def secret(people, apollo):
    """A private community with bob in it, where bob asks an #apollo question on 26 March."""
    community = make_community(people["alice"], "secret", private=True, members=(people["bob"],))
    post = posted(
        people["bob"], "@secret Is the budget approved? #apollo", utc(2026, 3, 26, 12), question=True
    )
    assert post.visibility == "private"
    db.session.execute(
        update(Follow).where(Follow.followee_id == community.id).values(created_at=utc(2026, 1, 9))
    )
    db.session.commit()
    return {"community": community, "post": post}


def test_a_private_post_counts_for_a_member_and_not_for_anyone_else(people, apollo, secret):
    _, member = boards.tag_board(people["bob"], "apollo", days=DAYS, today=TODAY)
    _, other = boards.tag_board(people["carol"], "apollo", days=DAYS, today=TODAY)
    _, nobody = boards.tag_board(None, "apollo", days=DAYS, today=TODAY)
    private_day = date(2026, 3, 26)
    assert day_counts(member) == {**APOLLO_DAYS, private_day: 1}
    assert day_counts(other) == day_counts(nobody) == APOLLO_DAYS
    assert (member.posts, other.posts) == (13, 12)
    assert ("bob", 4) in contributors(member) and ("bob", 3) in contributors(other)
    assert (member.open_questions, other.open_questions) == (2, 1)
    assert secret["post"].id in [q.id for q in member.newest_questions]
    assert secret["post"].id not in [q.id for q in other.newest_questions]


def test_a_tag_used_only_in_private_posts_has_no_board_for_outsiders(people, secret):
    posted(people["bob"], "@secret Budget #hushhush", utc(2026, 3, 27, 12))
    _, board = boards.tag_board(people["bob"], "hushhush", days=DAYS, today=TODAY)
    assert board.posts == 1
    with pytest.raises(NotFound):
        boards.tag_board(people["carol"], "hushhush", days=DAYS, today=TODAY)


def test_a_private_communitys_board_is_for_its_members_only(people, apollo, secret):
    _, board = boards.community_board(people["bob"], "secret", days=DAYS, today=TODAY)
    assert day_counts(board) == {date(2026, 3, 26): 1}
    assert board.open_questions == 1
    assert board.followers == 2  # alice (its creator) and bob
    for outsider in (people["carol"], None):
        with pytest.raises(NotFound):
            boards.community_board(outsider, "secret", days=DAYS, today=TODAY)


def test_a_community_board_counts_its_posts_contributors_and_members(people):
    p = people
    team = make_community(p["alice"], "apollo-team")
    for name, when in (
        ("bob", utc(2026, 2, 1, 9)),
        ("carol", utc(2026, 3, 31, 22, 30)),
        ("dave", utc(2026, 4, 1, 8)),
    ):
        communities.join(p[name], team)
        db.session.execute(
            update(Follow)
            .where(Follow.follower_id == p[name].id, Follow.followee_id == team.id)
            .values(created_at=when)
        )
    db.session.execute(
        update(Follow)
        .where(Follow.followee_id == team.id, Follow.follower_id == p["alice"].id)
        .values(created_at=utc(2026, 1, 2, 9))
    )
    communities.leave(p["dave"], team)
    db.session.commit()
    posted(p["bob"], "@apollo-team Standup notes", utc(2026, 3, 31, 7))
    posted(p["carol"], "@apollo-team Hello", utc(2026, 3, 31, 22, 30))  # 1 April, 00:30 CEST
    posted(p["bob"], "@apollo-team Anyone seen the keys?", utc(2026, 4, 1, 9), question=True)
    posted(p["erin"], "Not in the community #apollo", utc(2026, 4, 1, 10))
    community, board = boards.community_board(p["grace"], "apollo-team", days=DAYS, today=TODAY)
    assert community.username == "apollo-team"
    assert day_counts(board) == {date(2026, 3, 31): 1, date(2026, 4, 1): 2}
    assert contributors(board) == [("bob", 2), ("carol", 1)]
    assert board.open_questions == 1
    growth = dict(board.followers_per_day)
    assert (growth[FIRST], growth[date(2026, 3, 31)], growth[date(2026, 4, 1)]) == (2, 2, 3)
    assert (board.followers, board.new_followers) == (3, 1)


def test_an_unknown_or_malformed_name_is_not_found_or_refused(people, apollo):
    with pytest.raises(NotFound):
        boards.tag_board(people["bob"], "nosuchtag")
    with pytest.raises(ValidationError):
        boards.tag_board(people["bob"], "no such tag!")
    with pytest.raises(NotFound):
        boards.community_board(people["bob"], "nosuchcommunity")
    with pytest.raises(NotFound):
        boards.community_board(people["bob"], "alice")  # a person, not a community
    for days in (0, -1, 367, "90", 2.5, True):
        with pytest.raises(ValidationError):
            boards.tag_board(people["bob"], "apollo", days=days)


def test_one_board_costs_a_fixed_number_of_statements(people, apollo, count_queries):
    with count_queries() as small:
        boards.tag_board(people["grace"], "apollo", days=DAYS, today=TODAY)
    for n in range(20):
        posted(
            people["carol"],
            f"More {n} #apollo",
            utc(2026, 3, 25, 12) + timedelta(days=n % 8),
            question=n % 3 == 0,
        )
        social.follow_tag(people["erin" if n % 2 else "frank"], "apollo")
    with count_queries() as large:
        boards.tag_board(people["grace"], "apollo", days=DAYS, today=TODAY)
    assert small.count == large.count <= 7, large.statements


# -- the pages -------------------------------------------------------------------------------


def test_the_tag_page_shows_the_board_with_a_table_matching_the_plot(client, people, apollo):
    login(client, "grace")
    response = client.get("/tags/apollo")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "data-board" in html and 'role="img"' in html
    assert "Show the figures as a table" in html
    assert html.count('class="plot-bar"') == 90  # the real today's 90 days, bars of zero for 2026
    assert "data-board-contributors" not in html or "No posts in this period." in html


def test_the_pages_show_a_board_only_to_those_who_may_read(client, people, apollo, secret):
    login(client, "carol")
    page = client.get("/@secret")
    assert page.status_code == 200 and "data-board" not in page.get_data(as_text=True)
    assert client.get("/tags/apollo?max_id=1").get_data(as_text=True).count("data-board") == 0


@pytest.mark.parametrize(
    "path",
    ["/tags/no%20such", "/tags/%00", "/tags/" + "a" * 300, "/tags/..%2f", "/tags/nosuchtag", "/@nosuch"],
)
def test_weird_names_are_answered_with_a_4xx(client, people, path):
    login(client, "alice")
    assert 400 <= client.get(path).status_code < 500
