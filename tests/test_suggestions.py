"""The composer's @ and # completion (GET /suggestions/...): what it offers, to whom, and bad input."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from microblog.database import db
from microblog.services import accounts
from models import Tag

from .factories import login, make_community, make_post, make_user


def accounts_for(client, q: str) -> list[str]:
    response = client.get("/suggestions/accounts", query_string={"q": q})
    assert response.status_code == 200, response.data
    return [a["username"] for a in response.get_json()["accounts"]]


def tags_for(client, q: str) -> list[str]:
    response = client.get("/suggestions/tags", query_string={"q": q})
    assert response.status_code == 200, response.data
    return response.get_json()["tags"]


def test_accounts_start_with_the_prefix_usernames_first(alice_client, alice, bob):
    make_user("bodil", display_name="Bodil Dahl")
    make_user("kari", display_name="Kari Bolstad")  # a later word of the name
    make_user("robert", display_name="Robert Olsen")  # "bo" inside a word only: not offered
    response = alice_client.get("/suggestions/accounts?q=%40bo")
    assert response.status_code == 200 and response.is_json
    found = response.get_json()["accounts"]
    assert [a["username"] for a in found] == ["bob", "bodil", "kari"]
    assert found[0] == {
        "username": "bob",
        "name": "Bob Berg",
        "avatar": found[0]["avatar"],
        "community": False,
    }
    assert found[0]["avatar"].startswith("/avatars/bob.svg")
    assert accounts_for(alice_client, "BOB") == ["bob"]  # any case; the exact handle first
    assert accounts_for(alice_client, "bob") == ["bob"]


def test_deactivated_accounts_are_not_offered(alice_client, alice, admin):
    make_user("bodil")
    accounts.set_active(admin, "bodil", False)
    assert accounts_for(alice_client, "bod") == []


def test_at_most_eight_suggestions_each(alice_client, alice, bob):
    for n in range(12):
        make_user(f"team{n:02}")
        make_post(bob, f"#teamwork{n:02} counts")
    assert len(accounts_for(alice_client, "team")) == 8
    assert len(tags_for(alice_client, "team")) == 8


def test_a_private_community_is_offered_to_its_members_only(client, alice, bob):
    make_community(alice, "apollo", private=True)
    make_community(alice, "apex")
    login(client, "bob")
    assert accounts_for(client, "ap") == ["apex"]
    client.post("/logout")
    login(client, "alice")
    assert accounts_for(client, "ap") == ["apex", "apollo"]
    response = client.get("/suggestions/accounts?q=apollo")
    assert response.get_json()["accounts"][0]["community"] is True


def test_a_tag_used_only_in_a_private_community_is_offered_to_its_members_only(client, alice, bob):
    carol = make_user("carol")
    make_community(alice, "apollo", private=True, members=(carol,))
    make_post(carol, "@apollo launch window moved #apollo-launch")
    make_post(bob, "Public talk about the #apollo-program")
    assert set(db.session.scalars(select(Tag.name))) == {"apollo-launch", "apollo-program"}
    login(client, "bob")  # not a member
    assert tags_for(client, "#apo") == ["apollo-program"]
    assert tags_for(client, "apollo-l") == []
    client.post("/logout")
    login(client, "carol")  # a member
    assert tags_for(client, "#apo") == ["apollo-launch", "apollo-program"]
    assert tags_for(client, "launch") == ["apollo-launch"]  # a word after a hyphen, as search does


def test_a_tag_nobody_used_is_not_offered(alice_client, alice, bob):
    make_post(bob, "#release notes")
    assert tags_for(alice_client, "rel") == ["release"]
    assert tags_for(alice_client, "relx") == []


def test_logged_out_visitors_are_sent_to_log_in(client, alice, bob):
    for path in ("/suggestions/accounts?q=bo", "/suggestions/tags?q=bo"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("path", ["/suggestions/accounts", "/suggestions/tags"])
@pytest.mark.parametrize(
    "q",
    [
        "",
        "@",
        "#",
        "   ",
        "bo b",
        "bo%",
        "b_o\\",
        "\x01\x02",
        "\u202ebo",
        "a\nb",
        "💥",
        "'; drop table users;--",
    ],
)
def test_odd_input_gives_an_empty_list(alice_client, alice, bob, path, q):
    make_post(bob, "#bob_o stuff")
    response = alice_client.get(path, query_string={"q": q})
    assert response.status_code == 200, response.data
    assert next(iter(response.get_json().values())) == []


@pytest.mark.parametrize("path", ["/suggestions/accounts", "/suggestions/tags"])
def test_too_long_or_unreadable_input_is_refused_with_a_4xx(alice_client, alice, path):
    assert alice_client.get(path, query_string={"q": "b" * 101}).status_code == 422
    assert alice_client.get(path, query_string={"q": "b" * 100}).status_code == 200
    assert alice_client.get(path, query_string={"q": "b" * 100_000}).status_code in (414, 422)
    assert alice_client.get(path + "?q=bo%00").status_code == 400
    assert alice_client.get(path + "?q=%ff%fe").status_code == 400


def test_suggesting_changes_nothing_and_posting_takes_no_get(alice_client, alice, bob, count_queries):
    alice_client.get("/")  # the composer's page notes, once a day, that alice came (services.activity)
    with count_queries() as counter:
        accounts_for(alice_client, "bo")
        tags_for(alice_client, "bo")
    writes = [s for s in counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == [] and counter.count < 12
    assert alice_client.post("/suggestions/accounts?q=bo").status_code == 405
