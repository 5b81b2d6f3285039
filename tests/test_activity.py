"""Reading activity: at most one write per person per day, on its own transaction, never failing a request."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from microblog.database import db
from microblog.services import activity, tokens
from models import DailyActivity, Post
from models.daily_activity import READ

from .factories import login, make_community, make_token

# 23:30 UTC on 2 March is 00:30 on 3 March in Oslo (the test site's zone): the day is the site's.
LATE_EVENING_UTC = datetime(2031, 3, 2, 23, 30, tzinfo=UTC)


def days_of(user_id: int) -> list[date]:
    """Return the days the person read (posting days are counted too, by services.rollups)."""
    db.session.rollback()  # a fresh read: the rows were written on another connection
    read = DailyActivity.did.op("&")(READ) != 0
    return list(
        db.session.scalars(
            select(DailyActivity.day)
            .where(DailyActivity.user_id == user_id, read)
            .order_by(DailyActivity.day)
        )
    )


def activity_writes(statements: list[str]) -> list[str]:
    return [s for s in statements if "daily_activity" in s.lower()]


@pytest.fixture
def clock(monkeypatch):
    """Set the moment services.activity takes for now."""
    moment = {"now": LATE_EVENING_UTC}
    monkeypatch.setattr(activity, "utcnow", lambda: moment["now"])
    return moment


def test_many_pages_in_a_day_write_one_row_and_only_the_first_writes(client, alice, clock, count_queries):
    login(client, "alice")
    with count_queries() as first:
        assert client.get("/").status_code == 200
    with count_queries() as later:
        for path in ("/", "/public", "/notifications", "/@alice", "/communities"):
            assert client.get(path).status_code == 200
    assert len(activity_writes(first.statements)) == 1
    assert activity_writes(later.statements) == []
    assert days_of(alice.id) == [date(2031, 3, 3)]  # Oslo's day, not UTC's


def test_a_new_day_writes_a_second_row(client, alice, clock):
    login(client, "alice")
    client.get("/")
    clock["now"] = LATE_EVENING_UTC + timedelta(hours=2)  # still 3 March in Oslo
    client.get("/public")
    clock["now"] = LATE_EVENING_UTC + timedelta(days=1)
    client.get("/")
    client.get("/public")
    assert days_of(alice.id) == [date(2031, 3, 3), date(2031, 3, 4)]


def test_anonymous_pages_and_logging_in_record_nothing(client, alice, clock):
    for path in ("/login", "/public", "/signup"):
        client.get(path)
    client.get("/api/v1/timelines/public")
    assert db.session.scalar(select(DailyActivity.user_id)) is None


def test_an_api_call_records_its_person_and_a_team_token_its_member(client, alice, bob, support, clock):
    client.get("/api/v1/timelines/home", headers=make_token(alice))
    client.get("/api/v1/accounts/verify_credentials", headers=make_token(alice))
    _, value = tokens.issue_team_token(None, support, bob, "read")
    team_token = {"Authorization": f"Bearer {value}"}
    assert client.get("/api/v1/timelines/home", headers=team_token).status_code == 200
    assert days_of(alice.id) == [date(2031, 3, 3)]
    assert days_of(bob.id) == [date(2031, 3, 3)]
    assert days_of(support.id) == []  # the team account is no person


def test_an_invalid_token_records_nothing(client, alice, clock):
    response = client.get("/api/v1/timelines/home", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert db.session.scalar(select(DailyActivity.user_id)) is None


def test_a_failing_write_fails_no_request_and_leaves_its_transaction_alone(client, alice, clock, monkeypatch):
    broken = text("INSERT INTO no_such_table (user_id, day) VALUES (:user_id, :day)")
    monkeypatch.setattr(activity, "set_flags", lambda connection, rows: connection.execute(broken, rows[0]))
    login(client, "alice")
    response = client.post("/posts", data={"text": "Written while the activity write fails"})
    assert response.status_code in (302, 303)
    assert client.get("/").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(Post.text).where(Post.author_id == alice.id)) == (
        "Written while the activity write fails"
    )
    assert days_of(alice.id) == []


def test_a_failed_write_is_tried_again_a_minute_later(client, alice, clock, monkeypatch, count_queries):
    # SQLite's write lock busy under a burst of posts: the person's day must not go unrecorded.
    written = activity.set_flags
    broken = text("INSERT INTO no_such_table (user_id, day) VALUES (:user_id, :day)")
    monkeypatch.setattr(activity, "set_flags", lambda connection, rows: connection.execute(broken, rows[0]))
    auth = make_token(alice)
    assert client.get("/api/v1/timelines/home", headers=auth).status_code == 200
    assert days_of(alice.id) == []
    monkeypatch.setattr(activity, "set_flags", written)  # the database is well again
    with count_queries() as soon:
        assert client.get("/api/v1/timelines/home", headers=auth).status_code == 200
    assert activity_writes(soon.statements) == []  # no second try within the minute
    later = time.monotonic() + activity.RETRY_AFTER + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    assert client.get("/api/v1/timelines/home", headers=auth).status_code == 200
    assert days_of(alice.id) == [date(2031, 3, 3)]


def test_the_write_does_not_join_the_request_s_transaction(app, alice, clock):
    # The request's transaction has begun; the day is written and committed on its own, so the
    # request rolling back its own change keeps the day (and the day's commit kept no change).
    community = make_community(alice, "kitchen")
    db.session.execute(select(Post.id)).all()
    assert activity.record_visit(alice.id) is True
    db.session.execute(text("UPDATE users SET bio = 'draft' WHERE id = :id"), {"id": community.id})
    db.session.rollback()
    assert days_of(alice.id) == [date(2031, 3, 3)]
    assert db.session.scalar(text("SELECT bio FROM users WHERE id = :id"), {"id": community.id}) != "draft"


def test_two_processes_racing_for_the_same_day_keep_one_row(app, alice, clock):
    assert activity.record_visit(alice.id) is True
    app.extensions["microblog.activity"] = activity.Recorded()  # another process: it has not seen alice
    assert activity.record_visit(alice.id) is True  # written, and ignored by the database
    assert days_of(alice.id) == [date(2031, 3, 3)]
    assert activity.record_visit(alice.id) is False


def test_the_memory_holds_one_day_and_ignores_a_clock_stepping_back():
    seen = activity.Recorded()
    today, yesterday = date(2031, 3, 3), date(2031, 3, 2)
    assert seen.claim(1, today) and not seen.claim(1, today) and seen.claim(2, today)
    assert not seen.claim(3, yesterday)
    assert seen.claim(1, date(2031, 3, 4)) and seen._people == {1}


@pytest.mark.settings(
    SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 1, "max_overflow": 0, "pool_timeout": 2}
)
@pytest.mark.parametrize("path", ["/api/v1/timelines/home", "/api/v1/accounts/verify_credentials"])
def test_the_visit_is_written_after_the_request_gave_its_connection_back(app, alice, bob, clock, path):
    # One connection in the pool: a visit written while the request still held it would wait for a
    # second one, time out and be lost (with a pool of 15, 15 such requests at once took it whole).
    headers = [make_token(alice), make_token(bob)]
    people = [alice.id, bob.id]
    db.session.remove()  # the test's own session lets the one connection go
    answers: list[int] = []

    def request_as(who: dict[str, str]) -> None:
        # A thread of its own: the request pushes its own app context, as on a server.
        answers.append(app.test_client().get(path, headers=who).status_code)

    for who in headers:
        worker = threading.Thread(target=request_as, args=(who,))
        worker.start()
        worker.join()
    assert answers == [200, 200]
    assert [days_of(person) for person in people] == [[date(2031, 3, 3)]] * 2


@pytest.mark.settings(
    SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 1, "max_overflow": 0, "pool_timeout": 2}
)
def test_a_page_records_its_reader_after_the_page_is_answered(app, alice, clock):
    client = app.test_client()
    login(client, "alice")
    alice_id = alice.id
    db.session.remove()
    answers: list[int] = []
    worker = threading.Thread(target=lambda: answers.append(client.get("/").status_code))
    worker.start()
    worker.join()
    assert answers == [200]
    assert days_of(alice_id) == [date(2031, 3, 3)]
