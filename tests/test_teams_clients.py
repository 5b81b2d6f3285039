"""Team accounts, the shared inbox and questions against a real server process, with Mastodon.py.

The team is made and its token issued by IT with the CLI, as in production.  A
stock client (Mastodon.py) posts as the team with the team token; the inbox and
accept calls are this server's own (Mastodon.py has none), sent as raw requests
with a member's token.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from mastodon import Mastodon, MastodonUnauthorizedError

from .server import client_site, flask_cli, running_server
from .test_api_clients import mastodon_for

pytestmark = pytest.mark.server


@dataclass
class Site:
    url: str
    env: dict[str, str]
    database: str
    team_token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """gunicorn + gevent (production mode) on SQLite; @it-support led by alice, with bob; a token as bob."""
    root = tmp_path_factory.mktemp("teams-clients")
    env = client_site(root, "alice", "bob", "carol", "dave")
    created = flask_cli(
        env, "teams", "create", "it-support", "--name", "IT support", "--lead", "alice", "--member", "bob"
    )
    assert "Created the team account @it-support (IT support) with 2 members." in created
    flask_cli(env, "teams", "add", "it-support", "dave")
    assert "@alice" in flask_cli(env, "teams", "list")
    team_token = flask_cli(env, "users", "token", "it-support", "--as", "bob").split()[-1]
    with running_server(env, gunicorn=True) as url:
        yield Site(url, env, str(root / "microblog.db"), team_token)


def _row(site: Site, sql: str, *args: Any) -> tuple:
    with sqlite3.connect(site.database) as db:
        return db.execute(sql, args).fetchone()


class Raw:
    """This server's own calls, with a Mastodon.py client's token."""

    def __init__(self, site: Site, client: Mastodon) -> None:
        self.url = site.url
        self.headers = {"Authorization": f"Bearer {client.access_token}"}

    def __call__(self, method: str, path: str, expect: int = 200, **data: Any) -> Any:
        response = requests.request(
            method, self.url + path, json=data or None, headers=self.headers, timeout=10
        )
        assert response.status_code == expect, (path, response.status_code, response.text)
        return response.json()


def test_mastodon_py_posts_as_the_team_with_a_team_token_and_the_author_is_recorded(site):
    team = Mastodon(access_token=site.team_token, api_base_url=site.url)
    me = team.account_verify_credentials()
    assert me.username == "it-support" and me.fields[0].name == "Official"
    post = team.status_post("The VPN is back up #vpn")
    assert post.account.acct == "it-support" and str(post.account.id) == str(me.id)
    bob_id = _row(site, "SELECT id FROM users WHERE username = 'bob'")[0]
    assert _row(site, "SELECT author_id, posted_by_id FROM posts WHERE id = ?", int(post.id)) == (
        int(me.id),
        bob_id,
    )

    # A stock client's reply as the team answers the item it replies to.
    carol = mastodon_for(site.url, "carol")
    asked = carol.status_post("@it-support is the VPN flaky again?")
    reply = team.status_post("Fixed, restart your client", in_reply_to_id=asked.id)
    assert str(reply.in_reply_to_id) == str(asked.id) and reply.account.acct == "it-support"
    alice = Raw(site, mastodon_for(site.url, "alice"))
    (item,) = [
        i
        for i in alice("GET", f"/api/v1/teams/{me.id}/inbox?filter=answered")
        if i["status"]["id"] == str(asked.id)
    ]
    assert item["state"] == "answered" and item["answer_status_id"] == str(reply.id)
    assert any(n.type == "mention" and str(n.status.id) == str(reply.id) for n in carol.notifications())


def test_a_member_works_the_inbox_with_raw_requests(site):
    carol = mastodon_for(site.url, "carol")
    bob = Raw(site, mastodon_for(site.url, "bob"))
    (team,) = bob("GET", "/api/v1/teams")
    assert (team["account"]["acct"], team["role"]) == ("it-support", "member")
    support = team["account"]["id"]
    asked = carol.status_post("@it-support my laptop will not boot")
    (item,) = [
        i
        for i in bob("GET", f"/api/v1/teams/{support}/inbox?order=newest")
        if i["status"]["id"] == str(asked.id)
    ]
    assert item["state"] == "open"
    path = f"/api/v1/inbox/{item['id']}"

    assert bob("POST", f"{path}/assign")["assignee"]["acct"] == "bob"
    mine = bob("GET", f"/api/v1/teams/{support}/inbox?filter=mine")
    assert [i["id"] for i in mine] == [item["id"]]
    closed = bob("POST", f"{path}/close", reason="Asked twice")
    assert (closed["state"], closed["closed_reason"]) == ("closed", "Asked twice")
    assert bob("POST", f"{path}/reopen")["state"] == "assigned"
    answer = bob("POST", f"{path}/answer", status="Bring it to the desk on floor 2")
    assert answer["account"]["acct"] == "it-support" and answer["in_reply_to_id"] == str(asked.id)
    answered = bob("GET", f"/api/v1/teams/{support}/inbox?filter=answered")
    assert item["id"] in [i["id"] for i in answered]
    counts = bob("GET", f"/api/v1/teams/{support}/inbox/counts")
    assert counts["answered"] >= 1
    figures = bob("GET", f"/api/v1/teams/{support}/figures")
    assert figures["7"]["answered"] >= 1 and 0 < figures["7"]["answered_share"] <= 1
    assert str(carol.status_context(asked.id).descendants[0].id) == answer["id"]

    # Someone not on the team sees none of it.
    outsider = Raw(site, carol)
    outsider("GET", f"/api/v1/teams/{support}/inbox", expect=404)  # not on the team: not found, as on the web
    outsider("POST", f"{path}/reopen", expect=404)
    assert outsider("GET", "/api/v1/teams") == []


def test_questions_asked_accepted_and_the_unanswered_view(site):
    carol, bob = mastodon_for(site.url, "carol"), mastodon_for(site.url, "bob")
    raw_carol = Raw(site, carol)
    question = raw_carol("POST", "/api/v1/statuses", status="Who owns the staging database?", question=True)
    assert question["question"] == {"answered": False, "accepted_answer_id": None}
    tagged = carol.status_post("Is there a VPN guide? #question #vpn")  # a stock client's way to ask
    assert dict(tagged.question) == {"answered": False, "accepted_answer_id": None}
    unanswered = [s["id"] for s in raw_carol("GET", "/api/v1/timelines/questions")]
    assert question["id"] in unanswered and str(tagged.id) in unanswered
    assert [s["id"] for s in raw_carol("GET", "/api/v1/timelines/questions?tag=vpn")] == [str(tagged.id)]

    reply = bob.status_post("Ops does", in_reply_to_id=question["id"])
    Raw(site, bob)("POST", f"/api/v1/statuses/{reply.id}/accept", expect=403)  # not the asker
    accepted = raw_carol("POST", f"/api/v1/statuses/{reply.id}/accept")
    assert accepted["id"] == question["id"]
    assert accepted["question"] == {"answered": True, "accepted_answer_id": str(reply.id)}
    assert bob.status(question["id"]).question.accepted_answer_id == str(reply.id)
    assert "answer_accepted" in [n.type for n in bob.notifications()]
    assert question["id"] not in [s["id"] for s in raw_carol("GET", "/api/v1/timelines/questions")]
    again = raw_carol("POST", f"/api/v1/statuses/{question['id']}/unaccept")
    assert again["question"]["answered"] is False


def test_removing_the_member_ends_their_team_token_at_once(site):
    team = Mastodon(access_token=site.team_token, api_base_url=site.url)
    assert team.account_verify_credentials().username == "it-support"
    alice = Raw(site, mastodon_for(site.url, "alice"))
    dave = mastodon_for(site.url, "dave")
    out = flask_cli(site.env, "teams", "remove", "it-support", "bob")  # IT, while the server runs
    assert "@bob is no longer on @it-support" in out
    with pytest.raises(MastodonUnauthorizedError):
        team.account_verify_credentials()
    with pytest.raises(MastodonUnauthorizedError):
        team.status_post("still here?")
    assert dave.account_verify_credentials().username == "dave"
    assert [t["role"] for t in alice("GET", "/api/v1/teams")] == ["lead"]
