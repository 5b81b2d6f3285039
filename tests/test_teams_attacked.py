"""What an attack on team accounts found: each a way past the team's edges, now closed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import realtime
from microblog.database import db
from microblog.services import accounts, communities, inbox, tokens
from microblog.services.errors import NotFound
from models import InboxItem

from .factories import PASSWORD, make_community, make_post, make_token, make_user


def test_deactivating_a_member_closes_the_streams_of_team_tokens_on_their_behalf(
    app, support, alice, bob, admin
):
    _, value = tokens.issue_team_token(None, support, bob, "read write")
    sio = realtime.socketio.test_client(app, auth={"token": value})
    assert sio.is_connected()
    accounts.set_active(admin, "bob", False)
    assert not sio.is_connected()
    assert tokens.authenticate_token(value) is None


def test_revoking_every_token_revokes_team_tokens_on_their_behalf_too(support, alice, bob):
    _, value = tokens.issue_team_token(None, support, bob, "read write")
    accounts.change_password(bob, PASSWORD, "a brand new passphrase", revoke_tokens=True)
    assert tokens.authenticate_token(value) is None


def test_a_team_token_cannot_rewrite_the_team_s_profile(client, support, alice, bob):
    _, value = tokens.issue_team_token(None, support, bob, "read write")
    response = client.patch(
        "/api/v1/accounts/update_credentials",
        data={"note": "HACKED", "display_name": ""},
        headers={"Authorization": f"Bearer {value}"},
    )
    assert response.status_code == 403
    db.session.refresh(support)
    assert (support.display_name, support.bio) == ("IT support", "")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/timelines/home?endpoint=x",
        "/api/v1/timelines/public?_external=0",
        "/api/v1/timelines/tag/it?hashtag=x",
        "/api/v1/timelines/questions?endpoint=x",
    ],
)
def test_query_parameters_named_like_url_for_s_own_are_no_500(client, alice, path):
    make_post(alice, "#it hello, anyone? #question")
    response = client.get(path, headers=make_token(alice))
    assert response.status_code == 200


def test_a_token_id_beyond_any_id_is_not_found(alice_client):
    response = alice_client.post("/settings/tokens/99999999999999999999/revoke")
    assert response.status_code == 404


def test_items_the_team_can_no_longer_see_leave_its_inbox(support, alice, bob):
    carol = make_user("carol")
    board = make_community(carol, "board", private=True)
    communities.add_member(None, board, support)
    make_post(carol, "@board @it-support the boardroom screen")
    make_post(carol, "@it-support a public question")
    private_item, public_item = db.session.scalars(select(InboxItem.id).order_by(InboxItem.id))
    assert inbox.counts(support)["open"] == 2
    communities.remove_member(None, board, support)
    assert inbox.counts(support)["open"] == 1
    assert [v.id for v in inbox.list_items(bob, support, filter="all")] == [public_item]
    with pytest.raises(NotFound):
        inbox.close(bob, private_item, "not ours any more")
    db.session.expire_all()
    assert db.session.get(InboxItem, private_item) is None  # dropped as the team left
    assert db.session.get(InboxItem, public_item).state == "open"


def test_a_site_admin_who_does_not_lead_the_team_issues_no_token_on_the_web(client, support, bob, admin):
    from models import AccessToken

    from .factories import login

    login(client, "root")
    response = client.post("/settings/tokens/teams/it-support", data={"member": "bob", "name": "unseen"})
    assert response.status_code == 403
    assert db.session.scalar(select(AccessToken.id).where(AccessToken.user_id == support.id)) is None


def test_inbox_link_headers_take_any_query_parameter(client, support, bob):
    from .factories import make_token

    carol = make_user("carol")
    make_post(carol, "@it-support one")
    for params in ("team_id=1", "endpoint=x", "_external=0"):
        response = client.get(f"/api/v1/teams/{support.id}/inbox?{params}", headers=make_token(bob))
        assert response.status_code == 200, params
