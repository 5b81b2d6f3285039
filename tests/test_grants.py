"""Access tokens remembered per process (services.grants): no query per request, revocation immediate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import realtime
from microblog.database import db
from microblog.services import accounts, team_desk, tokens
from models import AccessToken

from .factories import PASSWORD, make_team, make_token

ROOT = Path(__file__).resolve().parent.parent
ME = "/api/v1/accounts/verify_credentials"


def token_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "access_tokens" in s.lower()]


def test_a_token_is_read_from_the_database_once_then_remembered(client, alice, count_queries):
    auth = make_token(alice)
    with count_queries() as first:
        assert client.get(ME, headers=auth).status_code == 200
    with count_queries() as later:
        for _ in range(3):
            assert client.get(ME, headers=auth).get_json()["username"] == "alice"
    assert len(token_reads(first.statements)) >= 1
    assert token_reads(later.statements) == []


def test_a_remembered_token_keeps_its_scopes(client, alice):
    auth = make_token(alice, "read")
    assert client.get(ME, headers=auth).status_code == 200
    refused = client.post("/api/v1/statuses", headers=auth, data={"status": "Read-only token"})
    assert refused.status_code == 403


def _revoke_it(admin, alice, token_id):
    tokens.revoke_token(alice, token_id)


def _change_password_revoking_all(admin, alice, token_id):
    accounts.change_password(alice, PASSWORD, "a new long passphrase", revoke_tokens=True)


def _deactivate(admin, alice, token_id):
    accounts.set_active(admin, "alice", False)


# The home timeline reads no users row for its reader: the grant alone must end.
@pytest.mark.parametrize("path", [ME, "/api/v1/timelines/home"])
@pytest.mark.parametrize("end", [_revoke_it, _change_password_revoking_all, _deactivate])
def test_a_remembered_token_is_refused_the_moment_it_ends(client, alice, admin, end, path):
    auth = make_token(alice)
    token_id = max(db.session.scalars(db.select(AccessToken.id).where(AccessToken.user_id == alice.id)))
    assert client.get(path, headers=auth).status_code == 200  # remembered now
    end(admin, alice, token_id)
    assert client.get(path, headers=auth).status_code == 401


def test_a_team_token_is_refused_the_moment_its_member_leaves_the_team(client, alice, bob):
    team = make_team("it-help", members=(bob,), leads=(alice,))
    _, value = tokens.issue_team_token(None, team, bob, "read write")
    auth = {"Authorization": f"Bearer {value}"}
    assert client.get(ME, headers=auth).get_json()["username"] == "it-help"
    team_desk.remove_member(alice, team, bob)
    assert client.get(ME, headers=auth).status_code == 401


def test_another_process_revoking_a_token_is_heard_without_redis(client, app, alice):
    # `make run` has no Redis: a command-line process revokes, and the site must refuse at once.
    auth = make_token(alice)
    assert client.get(ME, headers=auth).status_code == 200  # remembered now
    token_id = db.session.scalar(db.select(AccessToken.id).where(AccessToken.user_id == alice.id))
    code = (
        "import sys\n"
        "from microblog import create_app\n"
        "from microblog.services import accounts, tokens\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    tokens.revoke_token(accounts.access_user('alice'), int(sys.argv[1]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROBLOG_")}
    env.update(
        MICROBLOG_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        MICROBLOG_DATA_DIR=str(app.config["DATA_DIR"]),
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(token_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    db.session.rollback()  # test requests share the test's session: end its snapshot, as a request would
    assert client.get(ME, headers=auth).status_code == 401


def test_a_token_deleted_behind_the_process_s_back_is_still_refused_once_announced(client, app, alice):
    # The control for the test above: what is remembered is trusted until an end is announced.
    auth = make_token(alice)
    assert client.get(ME, headers=auth).status_code == 200
    db.session.execute(db.delete(AccessToken).where(AccessToken.user_id == alice.id))
    db.session.commit()
    assert client.get(ME, headers=auth).status_code == 200  # nobody said so: still remembered
    realtime.end_sessions(alice.id)
    assert client.get(ME, headers=auth).status_code == 401


def test_a_token_read_while_it_is_revoked_is_not_remembered(client, alice, monkeypatch):
    # The request read the token just before another request revoked it and the end was announced:
    # it may answer (it started first), but what it read must not be remembered after the end.
    auth = make_token(alice)
    token_id = db.session.scalar(db.select(AccessToken.id).where(AccessToken.user_id == alice.id))
    read = tokens.authenticate_token

    def read_then_revoked(value):
        token = read(value)
        tokens.revoke_token(alice, token_id)  # commits and announces, while this read is under way
        monkeypatch.setattr(tokens, "authenticate_token", read)
        return token

    monkeypatch.setattr(tokens, "authenticate_token", read_then_revoked)
    assert client.get(ME, headers=auth).status_code == 200
    assert client.get(ME, headers=auth).status_code == 401
