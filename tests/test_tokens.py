"""Personal access tokens: made and revoked in Settings or by `users token`; deactivation stops them."""

from __future__ import annotations

import re

from sqlalchemy import select

from microblog.database import db
from microblog.services import accounts
from models import AccessToken

from .factories import make_token


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_settings_create_a_token_shown_once_and_stored_as_a_digest(alice_client):
    page = alice_client.post("/settings/tokens", data={"name": "CI for #apollo", "write": "y"})
    assert page.status_code == 200
    value = re.search(r'value="([^"]+)"[^>]*data-new-token', page.data.decode()).group(1)
    (token,) = db.session.scalars(select(AccessToken))
    assert token.name == "CI for #apollo" and token.scopes == "write" and value not in token.token_hash
    assert value not in alice_client.get("/settings/tokens").data.decode()
    posted = alice_client.post(
        "/api/v1/statuses", data={"status": "Build 7 passed #apollo"}, headers=_bearer(value)
    )
    assert posted.status_code == 200
    assert alice_client.get("/api/v1/timelines/home", headers=_bearer(value)).status_code == 403  # no read


def test_settings_refuse_a_token_without_a_name_or_scope(alice_client):
    assert alice_client.post("/settings/tokens", data={"name": "", "read": "y"}).status_code == 422
    response = alice_client.post("/settings/tokens", data={"name": "bot"})
    assert response.status_code == 422 and b"at least one scope" in response.data
    assert db.session.scalars(select(AccessToken)).all() == []


def test_revoking_in_settings_stops_the_token_at_once(alice_client, alice, bob):
    headers = make_token(alice)
    (token,) = db.session.scalars(select(AccessToken))
    other = make_token(bob)
    bobs = db.session.scalars(select(AccessToken).where(AccessToken.user_id == bob.id)).one()
    assert alice_client.post(f"/settings/tokens/{bobs.id}/revoke").status_code == 404  # not hers
    assert alice_client.post(f"/settings/tokens/{token.id}/revoke").status_code == 302
    assert alice_client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 401
    assert alice_client.get("/api/v1/accounts/verify_credentials", headers=other).status_code == 200


def test_a_deactivated_persons_tokens_stop_working(client, alice, admin):
    headers = make_token(alice)
    accounts.set_active(admin, "alice", False)
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 401


def test_cli_prints_a_token_for_scripts(app, client, alice):
    result = app.test_cli_runner().invoke(
        args=["users", "token", "alice", "--name", "deploy", "--scope", "read"]
    )
    assert result.exit_code == 0, result.output
    value = result.stdout.strip()
    assert len(value.split()) == 1
    me = client.get("/api/v1/accounts/verify_credentials", headers=_bearer(value))
    assert me.get_json()["username"] == "alice"
    assert client.post("/api/v1/statuses", data={"status": "x"}, headers=_bearer(value)).status_code == 403
    missing = app.test_cli_runner().invoke(args=["users", "token", "nobody"])
    assert missing.exit_code == 1 and "nobody" in missing.output


def test_socketio_accepts_an_access_token(app, alice):
    from realtime import socketio

    value = make_token(alice)["Authorization"].split()[1]
    sio = socketio.test_client(app, auth={"token": value})
    assert sio.is_connected()
    sio.disconnect()
    refused = socketio.test_client(app, auth={"token": "wrong"})
    assert not refused.is_connected()
