"""Team accounts, the shared inbox and questions through the Mastodon-style API, in process.

Each endpoint's happy path beside its refusals: a team token posts as the team
with the real author recorded, a member works the inbox (list, assign, close,
reopen, answer), accepted answers, the unanswered-questions timeline.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

import realtime
from microblog.database import db
from microblog.services import communities, inbox, team_desk, tokens
from models import InboxItem, Post

from .factories import make_community, make_post, make_team, make_token, make_user


@pytest.fixture
def carol(app):
    return make_user("carol")


@pytest.fixture
def auth(support, alice, bob, carol):
    """Personal tokens of alice, bob and carol, and @it-support's team token on behalf of bob."""
    _, team = tokens.issue_team_token(None, support, bob, "read write")
    return {
        "alice": make_token(alice),
        "bob": make_token(bob),
        "carol": make_token(carol),
        "team": {"Authorization": f"Bearer {team}"},
    }


@pytest.fixture
def published(monkeypatch):
    """The live events sent: (event, payload)."""
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(realtime, "publish", lambda stream, event, payload: sent.append((event, payload)))
    return sent


def _asked(carol, support, n: int = 1) -> list[int]:
    """carol asks @it-support n things; return the inbox item ids, oldest first."""
    posts = [make_post(carol, f"@it-support question {i}").id for i in range(n)]
    return [
        db.session.scalar(select(InboxItem.id).where(InboxItem.post_id == p, InboxItem.team_id == support.id))
        for p in posts
    ]


# ---------------------------------------------------------------- posting with a team token


def test_a_team_token_posts_as_the_team_and_the_member_is_recorded(client, support, bob, auth):
    response = client.post("/api/v1/statuses", data={"status": "The VPN is back"}, headers=auth["team"])
    assert response.status_code == 200, response.get_json()
    status = response.get_json()
    assert status["account"]["username"] == "it-support"
    assert status["account"]["fields"][0]["name"] == "Official"
    post = db.session.get(Post, int(status["id"]))
    assert (post.author_id, post.posted_by_id) == (support.id, bob.id)
    me = client.get("/api/v1/accounts/verify_credentials", headers=auth["team"]).get_json()
    assert me["username"] == "it-support"
    assert client.get("/api/v1/notifications", headers=auth["team"]).status_code == 200
    assert client.get("/api/v1/timelines/home", headers=auth["team"]).status_code == 200
    own = client.post("/api/v1/statuses", data={"status": "mine"}, headers=auth["bob"]).get_json()
    assert db.session.get(Post, int(own["id"])).posted_by_id is None


def test_removing_the_member_kills_their_team_token(client, support, alice, bob, auth):
    assert client.get("/api/v1/accounts/verify_credentials", headers=auth["team"]).status_code == 200
    team_desk.remove_member(alice, support, bob)
    assert client.get("/api/v1/accounts/verify_credentials", headers=auth["team"]).status_code == 401
    refused = client.post("/api/v1/statuses", data={"status": "still here?"}, headers=auth["team"])
    assert refused.status_code == 401
    assert client.get("/api/v1/accounts/verify_credentials", headers=auth["bob"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": "Why is staging down?", "question": "true"}, True),
        ({"status": "Why is staging down?", "question": "1"}, True),
        ({"status": "Staging is down", "question": "false"}, False),
        ({"status": "Staging is down"}, False),
        ({"status": "Staging down again? #question"}, True),
        ({"status": "Staging down igjen? #spørsmål"}, True),
    ],
)
def test_question_marks_a_status_a_question(client, auth, body, expected):
    status = client.post("/api/v1/statuses", data=body, headers=auth["carol"]).get_json()
    assert status["question"] == ({"answered": False, "accepted_answer_id": None} if expected else None)
    assert db.session.get(Post, int(status["id"])).is_question is expected


def test_question_in_json_and_its_refusals(client, auth):
    asked = client.post("/api/v1/statuses", json={"status": "json?", "question": True}, headers=auth["carol"])
    assert asked.get_json()["question"]["answered"] is False
    for bad in ("maybe", {"x": 1}, [True], 2):
        refused = client.post(
            "/api/v1/statuses", json={"status": "x", "question": bad}, headers=auth["carol"]
        )
        assert refused.status_code == 422, bad
        assert "question must be true or false" in refused.get_json()["error"]


# ---------------------------------------------------------------- teams and the inbox


def test_the_teams_i_am_on(client, auth):
    listed = {name: client.get("/api/v1/teams", headers=auth[name]).get_json() for name in auth}
    assert [(t["account"]["username"], t["role"]) for t in listed["alice"]] == [("it-support", "lead")]
    assert [(t["account"]["username"], t["role"]) for t in listed["bob"]] == [("it-support", "member")]
    assert [(t["account"]["username"], t["role"]) for t in listed["team"]] == [("it-support", "member")]
    assert listed["carol"] == []


def test_the_inbox_oldest_first_paged_with_after(client, support, carol, auth):
    ids = _asked(carol, support, 3)
    url = f"/api/v1/teams/{support.id}/inbox"
    page = client.get(url, headers=auth["bob"])
    assert page.status_code == 200
    items = page.get_json()
    assert [i["id"] for i in items] == [str(i) for i in ids]
    first = items[0]
    assert first["state"] == "open" and first["assignee"] is None and first["team_id"] == str(support.id)
    assert first["status"]["account"]["username"] == "carol" and first["received_at"].endswith("Z")
    newest = client.get(f"{url}?order=newest", headers=auth["bob"]).get_json()
    assert [i["id"] for i in newest] == [str(i) for i in reversed(ids)]

    short = client.get(f"{url}?limit=2&filter=open", headers=auth["team"])
    assert [i["id"] for i in short.get_json()] == [str(ids[0]), str(ids[1])]
    link = short.headers["Link"]
    assert link.endswith('rel="next"')
    query = parse_qs(urlsplit(link[1 : link.index(">")]).query)
    assert query == {"after": [str(ids[1])], "limit": ["2"], "filter": ["open"]}
    rest = client.get(f"{url}?limit=2&filter=open&after={ids[1]}", headers=auth["team"]).get_json()
    assert [i["id"] for i in rest] == [str(ids[2])]
    assert client.get(f"{url}?after={ids[2]}", headers=auth["bob"]).get_json() == []
    assert client.get(f"{url}?filter=mine", headers=auth["bob"]).get_json() == []
    assert len(client.get(f"{url}?filter=unassigned", headers=auth["alice"]).get_json()) == 3


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("filter=spam", 422),
        ("order=sideways", 422),
        ("after=abc", 422),
        ("limit=-1", 422),
        ("limit=lots", 422),
    ],
)
def test_the_inbox_refuses_bad_parameters(client, support, auth, query, status):
    response = client.get(f"/api/v1/teams/{support.id}/inbox?{query}", headers=auth["bob"])
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]


def test_the_inbox_is_for_the_team_only(client, support, alice, auth):
    hr = make_team("hr", members=(make_user("dave"),))
    for who, team in (
        ("carol", support),
        ("bob", hr),
    ):  # not on the team: its inbox is not found, as on the web
        for path in ("inbox", "inbox/counts", "figures"):
            refused = client.get(f"/api/v1/teams/{team.id}/{path}", headers=auth[who])
            assert refused.status_code == 404, (who, path)
            assert refused.get_json() == {"error": "No such team account."}
    for team_id in (alice.id, 999999, "abc", hr.id):  # a person, nobody, not an id, another team
        response = client.get(f"/api/v1/teams/{team_id}/inbox", headers=auth["team"])
        assert response.status_code == 404, (team_id, response.get_json())
        assert client.get(f"/api/v1/teams/{team_id}/figures", headers=auth["team"]).status_code == 404


def test_a_team_token_works_its_own_teams_inbox_only(client, support, alice, bob, carol, auth):
    hr = make_team("hr", members=(bob,))
    make_post(carol, "@hr pension deadline?")
    (hr_item,) = [i.id for i in inbox.list_items(bob, hr)]
    assert client.get(f"/api/v1/teams/{hr.id}/inbox", headers=auth["bob"]).status_code == 200
    assert client.get(f"/api/v1/teams/{hr.id}/inbox", headers=auth["team"]).status_code == 404
    assert client.post(f"/api/v1/inbox/{hr_item}/assign", headers=auth["team"]).status_code == 404
    assert client.post(f"/api/v1/inbox/{hr_item}/assign", headers=auth["bob"]).status_code == 200
    assert [
        t["account"]["username"] for t in client.get("/api/v1/teams", headers=auth["bob"]).get_json()
    ] == [
        "hr",
        "it-support",
    ]


def test_the_inbox_hides_a_post_the_team_may_not_see(client, support, alice, carol, auth):
    board = make_community(alice, "board", private=True, members=(carol,))
    make_post(carol, "@board @it-support the board's laptops?")  # the team is not in @board: never enters
    assert client.get(f"/api/v1/teams/{support.id}/inbox", headers=auth["bob"]).get_json() == []
    communities.add_member(None, board, support)
    make_post(carol, "@board @it-support and now?")
    (seen,) = client.get(f"/api/v1/teams/{support.id}/inbox", headers=auth["bob"]).get_json()
    communities.remove_member(None, board, support)
    assert db.session.get(InboxItem, int(seen["id"])) is None  # dropped as the team left @board
    assert client.get(f"/api/v1/teams/{support.id}/inbox", headers=auth["bob"]).get_json() == []


def test_counts_and_figures(client, support, carol, auth):
    first, _second = _asked(carol, support, 2)
    answered = client.post(
        f"/api/v1/inbox/{first}/answer", data={"status": "Restart it"}, headers=auth["bob"]
    )
    assert answered.status_code == 200
    counts = client.get(f"/api/v1/teams/{support.id}/inbox/counts", headers=auth["bob"]).get_json()
    assert counts == {"open": 1, "unassigned": 1, "assigned": 0, "answered": 1, "closed": 0}
    figures = client.get(f"/api/v1/teams/{support.id}/figures", headers=auth["team"]).get_json()
    assert sorted(figures) == ["30", "7"]
    week = figures["7"]
    assert set(week) == {"days", "received", "answered", "answered_share", "median_seconds", "p90_seconds"}
    assert (week["days"], week["received"], week["answered"], week["answered_share"]) == (7, 2, 1, 0.5)
    assert isinstance(week["median_seconds"], int) and week["median_seconds"] == week["p90_seconds"]
    assert figures["30"]["days"] == 30 and figures["30"]["received"] == 2


def test_a_member_works_an_item_through_every_state(client, support, alice, bob, carol, auth, published):
    (item,) = _asked(carol, support)
    url = f"/api/v1/inbox/{item}"
    published.clear()

    taken = client.post(f"{url}/assign", headers=auth["bob"]).get_json()
    assert taken["state"] == "assigned" and taken["assignee"]["username"] == "bob"
    assert ("inbox.update", taken) in published
    assert any(e == "inbox.state" and p["state"] == "assigned" for e, p in published)
    moved = client.post(f"{url}/assign", data={"account_id": str(alice.id)}, headers=auth["bob"]).get_json()
    assert moved["assignee"]["username"] == "alice"
    mine = client.get(f"/api/v1/teams/{support.id}/inbox?filter=mine", headers=auth["alice"]).get_json()
    assert [i["id"] for i in mine] == [str(item)]
    outsider = client.post(f"{url}/assign", json={"account_id": carol.id}, headers=auth["bob"])
    assert outsider.status_code == 422 and outsider.get_json()["error"] == "@carol is not on @it-support."
    assert client.post(f"{url}/assign", data={"account_id": "999999"}, headers=auth["bob"]).status_code == 404
    back = client.post(f"{url}/unassign", headers=auth["alice"]).get_json()
    assert (back["state"], back["assignee"]) == ("open", None)

    no_reason = client.post(f"{url}/close", headers=auth["bob"])
    assert no_reason.status_code == 422 and no_reason.get_json()["error"]
    closed = client.post(f"{url}/close", data={"reason": "Duplicate"}, headers=auth["team"]).get_json()
    assert (closed["state"], closed["closed_reason"]) == ("closed", "Duplicate")
    assert client.post(f"{url}/assign", headers=auth["bob"]).status_code == 422  # reopen first
    reopened = client.post(f"{url}/reopen", headers=auth["bob"]).get_json()
    assert (reopened["state"], reopened["closed_reason"]) == ("open", None)

    reply = client.post(f"{url}/answer", json={"status": "Restart the client"}, headers=auth["bob"])
    assert reply.status_code == 200, reply.get_json()
    status = reply.get_json()
    assert status["account"]["username"] == "it-support" and status["in_reply_to_account_id"] == str(carol.id)
    post = db.session.get(Post, int(status["id"]))
    assert (post.author_id, post.posted_by_id) == (support.id, bob.id)
    answered = db.session.get(InboxItem, item)
    assert (answered.state, answered.answer_post_id) == ("answered", post.id)
    listed = client.get(f"/api/v1/teams/{support.id}/inbox?filter=answered", headers=auth["bob"]).get_json()
    assert listed[0]["answer_status_id"] == status["id"] and listed[0]["answered_at"]


def test_inbox_actions_refuse_outsiders_bad_ids_and_bad_input(client, support, bob, carol, auth):
    (item,) = _asked(carol, support)
    for action in ("assign", "unassign", "close", "reopen", "answer"):
        data = {"reason": "x", "status": "x"}
        assert (
            client.post(f"/api/v1/inbox/{item}/{action}", data=data, headers=auth["carol"]).status_code == 404
        )
        for bad in ("abc", "0", "999999", "1e3", "-1"):
            response = client.post(f"/api/v1/inbox/{bad}/{action}", data=data, headers=auth["bob"])
            assert response.status_code == 404, (action, bad)
    assert client.post(f"/api/v1/inbox/{item}/answer", headers=auth["bob"]).status_code == 422
    too_long = client.post(f"/api/v1/inbox/{item}/close", data={"reason": "x" * 201}, headers=auth["bob"])
    assert too_long.status_code == 422
    objects = client.post(f"/api/v1/inbox/{item}/close", json={"reason": {"x": 1}}, headers=auth["bob"])
    assert objects.status_code == 422
    read_only = make_token(bob, "read")
    assert client.post(f"/api/v1/inbox/{item}/assign", headers=read_only).status_code == 403
    assert db.session.get(InboxItem, item).state == "open"


# ---------------------------------------------------------------- questions and accepted answers


def test_accepting_and_taking_back_an_answer(client, alice, bob, carol, auth):
    question = client.post(
        "/api/v1/statuses", data={"status": "Who owns staging?", "question": "true"}, headers=auth["carol"]
    ).get_json()
    reply = client.post(
        "/api/v1/statuses", data={"status": "Ops does", "in_reply_to_id": question["id"]}, headers=auth["bob"]
    ).get_json()
    assert client.post(f"/api/v1/statuses/{reply['id']}/accept", headers=auth["alice"]).status_code == 403
    accepted = client.post(f"/api/v1/statuses/{reply['id']}/accept", headers=auth["carol"])
    assert accepted.status_code == 200
    assert accepted.get_json()["id"] == question["id"]
    assert accepted.get_json()["question"] == {"answered": True, "accepted_answer_id": reply["id"]}
    notes = client.get("/api/v1/notifications?types[]=answer_accepted", headers=auth["bob"]).get_json()
    assert [n["type"] for n in notes] == ["answer_accepted"]
    undone = client.post(f"/api/v1/statuses/{question['id']}/unaccept", headers=auth["carol"]).get_json()
    assert undone["question"] == {"answered": False, "accepted_answer_id": None}
    assert client.post(f"/api/v1/statuses/{question['id']}/unaccept", headers=auth["bob"]).status_code == 403

    plain = client.post("/api/v1/statuses", data={"status": "Lunch?"}, headers=auth["carol"]).get_json()
    answer = client.post(
        "/api/v1/statuses", data={"status": "Yes", "in_reply_to_id": plain["id"]}, headers=auth["bob"]
    ).get_json()
    assert client.post(f"/api/v1/statuses/{answer['id']}/accept", headers=auth["carol"]).status_code == 422
    assert client.post(f"/api/v1/statuses/{question['id']}/accept", headers=auth["carol"]).status_code == 422
    for bad in ("abc", "999999", "0"):
        assert client.post(f"/api/v1/statuses/{bad}/accept", headers=auth["carol"]).status_code == 404
        assert client.post(f"/api/v1/statuses/{bad}/unaccept", headers=auth["carol"]).status_code == 404


def test_a_team_member_accepts_for_a_team_question_with_the_team_token(client, support, carol, auth):
    question = client.post(
        "/api/v1/statuses", data={"status": "Anyone seen printer 3? #question"}, headers=auth["team"]
    ).get_json()
    reply = client.post(
        "/api/v1/statuses", data={"status": "Room 2", "in_reply_to_id": question["id"]}, headers=auth["carol"]
    ).get_json()
    accepted = client.post(f"/api/v1/statuses/{reply['id']}/accept", headers=auth["team"]).get_json()
    assert accepted["question"]["accepted_answer_id"] == reply["id"]


def test_the_unanswered_questions_timeline(client, alice, bob, carol, auth):
    make_community(alice, "board", private=True)
    secret = make_post(alice, "@board budget? #question")
    asked = make_post(carol, "Where is the VPN guide? #question #vpn")
    other = make_post(carol, "Any lunch plans?", question=True)
    make_post(carol, "Not a question #vpn")
    url = "/api/v1/timelines/questions"
    ids = [s["id"] for s in client.get(url, headers=auth["bob"]).get_json()]
    assert ids == [str(other.id), str(asked.id)]
    assert str(secret.id) in [s["id"] for s in client.get(url, headers=auth["alice"]).get_json()]
    tagged = client.get(f"{url}?tag=vpn", headers=auth["bob"]).get_json()
    assert [s["id"] for s in tagged] == [str(asked.id)]
    inside = client.get(f"{url}?community=board", headers=auth["alice"]).get_json()
    assert [s["id"] for s in inside] == [str(secret.id)]
    assert client.get(f"{url}?community=board", headers=auth["bob"]).get_json() == []
    assert client.get(f"{url}?tag=neverused", headers=auth["bob"]).get_json() == []
    assert client.get(f"{url}?community=nowhere", headers=auth["bob"]).status_code == 404
    assert client.get(f"{url}?tag=vpn&community=board", headers=auth["bob"]).status_code == 422
    assert client.get(f"{url}?tag=!!", headers=auth["bob"]).status_code == 422
    assert client.get(f"{url}?max_id=abc", headers=auth["bob"]).status_code == 422
    first = client.get(f"{url}?limit=1", headers=auth["bob"])
    assert [s["id"] for s in first.get_json()] == [str(other.id)] and 'rel="next"' in first.headers["Link"]

    reply = make_post(bob, "It's on the wiki", in_reply_to=asked.id)
    client.post(f"/api/v1/statuses/{reply.id}/accept", headers=auth["carol"])
    ids = [s["id"] for s in client.get(url, headers=auth["bob"]).get_json()]
    assert ids == [str(other.id)]


def test_hostile_values_in_the_inbox_and_its_actions_are_4xx(client, support, carol, auth):
    from .test_fuzz_forms import HOSTILE

    (item,) = _asked(carol, support)
    for value in (v for v in HOSTILE if len(v) < 10_000):
        for query in ("filter", "order", "after", "limit"):
            response = client.get(f"/api/v1/teams/{support.id}/inbox?{query}={value}", headers=auth["bob"])
            assert response.status_code < 500, (query, value[:80])
        for action, field in (("assign", "account_id"), ("close", "reason"), ("answer", "status")):
            response = client.post(f"/api/v1/inbox/{item}/{action}", json={field: value}, headers=auth["bob"])
            assert response.status_code < 500, (action, value[:80])
        response = client.post(
            "/api/v1/statuses", json={"status": "x", "question": value}, headers=auth["bob"]
        )
        valid = value.strip().lower() in ("true", "false", "1", "0", "on", "off", "yes", "no", "")
        assert response.status_code == (200 if valid else 422), value[:80]


def test_listing_my_teams_costs_the_same_with_more_teams(client, support, alice, bob, auth, count_queries):
    def cost() -> tuple[int, list[dict]]:
        client.get("/api/v1/teams", headers=auth["alice"])  # warm
        with count_queries() as counter:
            response = client.get("/api/v1/teams", headers=auth["alice"])
        assert response.status_code == 200
        return counter.count, response.get_json()

    one, _ = cost()
    for n in range(1, 4):
        make_team(f"team-{n}", members=(alice,) if n % 2 else (), leads=() if n % 2 else (alice,))
    four, listed = cost()
    assert [(t["account"]["username"], t["role"]) for t in listed] == [
        ("it-support", "lead"),
        ("team-1", "member"),
        ("team-2", "lead"),
        ("team-3", "member"),
    ]
    assert four == one
