"""A team account's page and figures, the administrators' teams page, leads managing members and tokens."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from microblog.database import db
from microblog.services import inbox, teams, tokens
from models import AccessToken, InboxItem, utcnow

from .factories import login, make_post, make_team, make_user


def _items(team, asker, waits: list[int | None], *, age: timedelta = timedelta(days=1)) -> None:
    """Make one inbox item per wait (seconds to the first answer; None: unanswered), received `age` ago."""
    for n, wait in enumerate(waits):
        post = make_post(asker, f"@{team.username} question {n}")
        item = db.session.scalar(select(InboxItem).where(InboxItem.post_id == post.id))
        item.received_at = utcnow() - age
        if wait is not None:
            item.answered_at = item.received_at + timedelta(seconds=wait)
            item.first_answer_seconds = wait
            item.state = "answered"
    db.session.commit()


# Ten items: eight answered after 1..8 minutes... and two unanswered.
WAITS = [60, 120, 180, 240, 300, 360, 420, 3600 + 1800, None, None]


def test_figures_from_fixed_timestamps(app, support):
    carol = make_user("carol")
    now = utcnow()
    _items(support, carol, WAITS, age=timedelta(days=2))
    _items(support, carol, [86400, None], age=timedelta(days=20))  # in the 30 days, not the 7
    _items(support, carol, [10], age=timedelta(days=40))  # in neither
    week = inbox.figures(support, 7, now=now)
    assert (week.days, week.received, week.answered) == (7, 10, 8)
    assert week.answered_share == 0.8
    assert week.median_seconds == 240  # nearest rank: the 4th of 8
    assert week.p90_seconds == 5400  # the 8th of 8
    month = inbox.figures(support, 30, now=now)
    assert (month.received, month.answered, month.answered_share) == (12, 9, 0.75)
    assert (month.median_seconds, month.p90_seconds) == (300, 86400)
    empty = inbox.figures(support, 7, now=now - timedelta(days=100))
    assert (empty.received, empty.answered_share) == (0, None)
    assert (empty.median_seconds, empty.p90_seconds) == (None, None)


def _figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert match, name
    return match.group(1)


def test_the_team_page_shows_members_and_figures_to_the_team_only(client, support, admin):
    carol = make_user("carol")
    _items(support, carol, WAITS, age=timedelta(days=2))
    login(client, "bob")
    page = client.get("/@it-support").get_data(as_text=True)
    assert "data-official" in page and "Official" in page
    assert "/teams/it-support/inbox" in page and "Manage members" not in page
    assert re.search(r"Alice Andersen</a> <span class=\"badge badge-admin\">lead", page)
    assert (_figure(page, "received-7"), _figure(page, "answered-7")) == ("10", "80%")
    assert _figure(page, "median-7") == "4 minutes"
    assert _figure(page, "p90-7") == "1 hour 30 minutes"
    assert _figure(page, "received-30") == "10"

    client.post("/settings/preferences", data={"locale": "nb", "timezone": ""})
    norsk = client.get("/@it-support").get_data(as_text=True)
    assert _figure(norsk, "answered-7") == "80\xa0%"
    assert _figure(norsk, "median-7") == "4 minutter" and _figure(norsk, "p90-7") == "1 time 30 minutter"
    assert "Offisielt" in norsk

    for outsider in ("carol", "root"):  # figures and the inbox are the team's business, not an admin's
        client.post("/logout")
        login(client, outsider)
        other = client.get("/@it-support").get_data(as_text=True)
        assert "data-official" in other and "Bob Berg" in other
        assert "data-figure" not in other and "/teams/it-support/inbox" not in other
    assert "Manage members" in other  # a site administrator manages members all the same


def test_the_team_page_lists_its_posts_and_its_fragment_only_the_posts(client, support, bob):
    from microblog.services import posts

    older = posts.post_status(support, "The VPN is down", posted_by=bob)
    newer = posts.post_status(support, "The VPN is back", posted_by=bob)
    login(client, "bob")
    page = client.get("/@it-support").get_data(as_text=True)
    assert "The VPN is back" in page and "The VPN is down" in page and "profile-head" in page
    fragment = client.get("/@it-support?fragment=1").get_data(as_text=True)
    assert "The VPN is back" in fragment and "The VPN is down" in fragment
    assert "profile-head" not in fragment and "<html" not in fragment and "data-figure" not in fragment
    paged = client.get(f"/@it-support?fragment=1&max_id={newer.id}").get_data(as_text=True)
    assert "The VPN is down" in paged and "The VPN is back" not in paged
    assert older.id < newer.id


def test_admins_create_team_accounts_on_the_web(client, admin, alice, bob):
    login(client, "alice")
    assert client.get("/admin/teams").status_code == 403
    client.post("/logout")
    login(client, "root")
    assert client.get("/admin/teams").status_code == 200
    response = client.post(
        "/admin/teams",
        data={
            "handle": "hr",
            "name": "Human resources",
            "description": "Pensions, leave, contracts",
            "members": "bob",
            "leads": "@alice",
        },
    )
    assert response.status_code == 302
    team = teams.access_team("hr")
    assert (team.display_name, team.bio) == ("Human resources", "Pensions, leave, contracts")
    assert (teams.role_of(alice, team), teams.role_of(bob, team)) == ("lead", "member")
    listing = client.get("/admin/teams").get_data(as_text=True)
    assert "Human resources" in listing and "/teams/hr/manage" in listing

    taken = client.post("/admin/teams", data={"handle": "alice", "name": "Taken"})
    assert taken.status_code == 409 and "That handle is taken" in taken.get_data(as_text=True)
    unknown = client.post("/admin/teams", data={"handle": "ops", "name": "Ops", "members": "nobody"})
    assert unknown.status_code == 422 and "@nobody" in unknown.get_data(as_text=True)
    assert client.post("/admin/teams", data={"handle": "ops", "name": ""}).status_code == 422


def test_a_lead_adds_removes_members_and_changes_roles(client, support, alice, bob):
    carol = make_user("carol")
    login(client, "bob")  # a member, not a lead
    assert client.get("/teams/it-support/manage").status_code == 403
    assert client.post("/teams/it-support/members", data={"username": "carol"}).status_code == 403
    assert client.post("/teams/it-support/members", data={"username": "nobody"}).status_code == 403
    client.post("/logout")
    login(client, "alice")
    assert client.get("/teams/it-support/manage").status_code == 200
    client.post("/teams/it-support/members", data={"username": "carol", "role": "member"})
    assert teams.role_of(carol, support) == "member"
    client.post("/teams/it-support/members", data={"username": "carol", "role": "lead"})
    assert teams.role_of(carol, support) == "lead"
    page = client.get("/teams/it-support/manage").get_data(as_text=True)
    assert 'data-action="make-member-carol"' in page and 'data-action="remove-bob"' in page

    _, value = tokens.issue_team_token(None, support, bob, "read write")
    response = client.post("/teams/it-support/members/bob/remove", data={"next": "/teams/it-support/manage"})
    assert response.status_code == 302
    assert teams.role_of(bob, support) is None
    assert tokens.authenticate_token(value) is None  # removal revoked bob's team token
    bad = client.post("/teams/it-support/members", data={"username": "nobody"}, follow_redirects=True)
    assert "@nobody" in bad.get_data(as_text=True)


def test_a_lead_changes_the_teams_name_and_description_on_its_manage_page(client, support, alice, bob, admin):
    def saved() -> tuple[str, str]:
        db.session.refresh(support)
        return support.display_name, support.bio

    before = saved()
    carol = make_user("carol")
    edit = {"name": "Helpdesk", "description": "Ask us"}
    for outsider in (bob, carol):  # a member who does not lead, someone not on the team: as the page
        login(client, outsider.username)
        assert client.post("/teams/it-support/manage", data=edit).status_code == 403
        assert client.post("/teams/it-support/manage", data={"name": ""}).status_code == 403
        client.post("/logout")
    assert saved() == before

    login(client, "alice")
    page = client.get("/teams/it-support/manage").get_data(as_text=True)
    assert "Name and description" in page and 'value="IT support"' in page
    empty = client.post("/teams/it-support/manage", data={"name": "  ", "description": "kept"})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 422 and saved() == before
    # Beside the name field, and what was typed is kept.
    assert re.search(
        r'name="name"[^>]*>\s*<p class="field-error" role="alert">Give the team account a name\.', html
    )
    assert "kept</textarea>" in html
    long = client.post("/teams/it-support/manage", data={"name": "x" * 61})
    assert long.status_code == 422 and "Name is at most 60 characters." in long.get_data(as_text=True)
    assert saved() == before

    done = client.post("/teams/it-support/manage", data=edit)
    assert done.status_code == 302 and done.location == "/teams/it-support/manage"
    assert "Saved." in client.get(done.location).get_data(as_text=True)
    assert saved() == ("Helpdesk", "Ask us")
    assert "Helpdesk" in client.get("/@it-support").get_data(as_text=True)
    assert client.post("/teams/nowhere/manage", data=edit).status_code == 404
    client.post("/logout")

    login(client, "root")  # site administrators too
    assert client.post("/teams/it-support/manage", data={"name": "IT", "description": ""}).status_code == 302
    assert saved() == ("IT", "")


def test_a_lead_issues_lists_and_revokes_team_tokens_in_settings(client, support, alice, bob):
    login(client, "bob")  # members who do not lead see no team section
    assert "Team tokens for" not in client.get("/settings/tokens").get_data(as_text=True)
    assert (
        client.post("/settings/tokens/teams/it-support", data={"name": "x", "read": "y"}).status_code == 403
    )
    client.post("/logout")
    login(client, "alice")
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "Team tokens for @it-support" in page and "It acts for you (@alice)" in page

    # A lead's token acts for the lead, whatever the form says: a by-line never names who wrote nothing.
    issue = {"member": "bob", "name": "VPN bot", "read": "y", "write": "y"}
    response = client.post("/settings/tokens/teams/it-support", data=issue)
    html = response.get_data(as_text=True)
    value = re.search(r'value="([^"]+)" data-select-on-click aria-label="New team token"', html).group(1)
    token = tokens.authenticate_token(value)
    assert (token.user_id, token.on_behalf_of_id, token.name) == (support.id, alice.id, "VPN bot")
    assert "acts for @alice" in html
    assert value not in client.get("/settings/tokens").get_data(as_text=True)  # shown once

    refused = client.post("/settings/tokens/teams/it-support", data={"name": "x" * 101, "read": "y"})
    assert refused.status_code == 422

    response = client.post(f"/settings/tokens/teams/it-support/{token.id}/revoke")
    assert response.status_code == 302
    assert db.session.scalar(select(AccessToken).where(AccessToken.id == token.id)) is None
    assert tokens.authenticate_token(value) is None


def test_a_removed_member_s_team_token_is_revoked_from_the_settings_list(client, support, alice, bob):
    tokens.issue_team_token(None, support, bob, "read", name="bob's bot")
    login(client, "alice")
    assert "bob&#39;s bot" in client.get("/settings/tokens").get_data(as_text=True)
    client.post("/teams/it-support/members/bob/remove")
    assert "bob&#39;s bot" not in client.get("/settings/tokens").get_data(as_text=True)


def test_the_admin_teams_page_and_settings_tokens_cost_the_same_with_more_teams(
    client, support, alice, bob, admin, count_queries
):
    def cost(username: str, path: str) -> tuple[int, str]:
        login(client, username)
        client.get(path)  # warm: the session's user, babel, ...
        with count_queries() as counter:
            response = client.get(path)
        client.post("/logout")
        assert response.status_code == 200
        return counter.count, response.get_data(as_text=True)

    tokens.issue_team_token(None, support, bob, "read")
    (admin_one, _), (settings_one, _) = cost("root", "/admin/teams"), cost("alice", "/settings/tokens")
    for n in range(1, 4):
        team = make_team(f"team-{n}", members=(bob,), leads=(alice,), name=f"Team {n}")
        tokens.issue_team_token(None, team, bob, "read", name=f"bot {n}")
    (admin_four, listed), (settings_four, led) = (
        cost("root", "/admin/teams"),
        cost("alice", "/settings/tokens"),
    )
    assert 'data-manage="team-3"' in listed and "bot 3" in led
    assert (admin_four, settings_four) == (admin_one, settings_one)
