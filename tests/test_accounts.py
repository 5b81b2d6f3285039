"""Account services: sign-up rules, log-in checks, admin controls."""

import hashlib

import pytest
import werkzeug.security
from sqlalchemy import select, update

import models.user
from microblog.database import db
from microblog.services import accounts
from microblog.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from models import User

from .factories import PASSWORD, login, make_user


def test_create_user_stores_a_scrypt_hash_and_normalizes(app):
    user = accounts.create_user(
        "Kari.Nordmann", "Kari@Example.COM", "long enough pw", display_name=" Kari  N "
    )
    stored = db.session.scalars(select(User)).one()
    assert stored.id == user.id
    assert (stored.username, stored.email, stored.display_name) == (
        "kari.nordmann",
        "kari@example.com",
        "Kari N",
    )
    assert stored.password_hash.startswith("scrypt:")
    assert "long enough pw" not in stored.password_hash
    assert stored.check_password("long enough pw") and not stored.check_password("wrong")


@pytest.mark.parametrize(
    "username, email, password, field",
    [
        ("a", "a@example.com", PASSWORD, "username"),
        ("has space", "a@example.com", PASSWORD, "username"),
        ("trailing.", "a@example.com", PASSWORD, "username"),
        ("x" * 31, "a@example.com", PASSWORD, "username"),
        ("okname", "not-an-email", PASSWORD, "email"),
        ("okname", "a@example.com", "short", "password"),
    ],
)
def test_create_user_refuses_bad_input(app, username, email, password, field):
    with pytest.raises(ValidationError) as info:
        accounts.create_user(username, email, password)
    assert info.value.field == field
    assert db.session.scalar(select(User.id)) is None


def test_sign_up_restricted_to_allowed_domains(app):
    with pytest.raises(ValidationError, match="company addresses"):
        accounts.create_user("eve", "eve@gmail.com", PASSWORD, allowed_domains=("example.com",))
    user = accounts.create_user("kari", "kari@Example.com", PASSWORD, allowed_domains=("example.com",))
    assert user.id


def test_duplicate_username_or_email_conflicts(app, alice):
    with pytest.raises(Conflict) as info:
        accounts.create_user("ALICE", "other@example.com", PASSWORD)
    assert info.value.field == "username"
    with pytest.raises(Conflict) as info:
        accounts.create_user("alice2", "Alice@example.com", PASSWORD)
    assert info.value.field == "email"


def test_authenticate_by_username_or_email(app, alice):
    assert accounts.authenticate("Alice", PASSWORD).id == alice.id
    assert accounts.authenticate("alice@example.com", PASSWORD).id == alice.id
    with pytest.raises(ValidationError, match="Wrong username or password"):
        accounts.authenticate("alice", "nope")
    with pytest.raises(ValidationError, match="Wrong username or password"):
        accounts.authenticate("nobody", PASSWORD)


def test_deactivated_user_cannot_authenticate(app, admin, alice):
    accounts.set_active(admin, "alice", False)
    with pytest.raises(PermissionDenied, match="deactivated"):
        accounts.authenticate("alice", PASSWORD)
    accounts.set_active(admin, "alice", True)
    assert accounts.authenticate("alice", PASSWORD).id == alice.id


def test_only_admins_change_accounts_and_not_their_own(app, admin, alice, bob):
    with pytest.raises(PermissionDenied):
        accounts.set_active(alice, "bob", False)
    with pytest.raises(PermissionDenied):
        accounts.set_admin(alice, "alice", True)
    with pytest.raises(PermissionDenied):
        accounts.set_active(admin, "root", False)
    with pytest.raises(NotFound):
        accounts.set_admin(admin, "ghost", True)
    assert accounts.set_admin(admin, "bob", True).is_admin
    assert db.session.get(User, bob.id).is_admin


def test_update_profile_limits_and_strips(app, alice):
    accounts.update_profile(
        alice, job_title="  Staff   Engineer ", department="Platform", bio="Hei!\nI fix builds."
    )
    assert (alice.job_title, alice.department, alice.bio) == (
        "Staff Engineer",
        "Platform",
        "Hei!\nI fix builds.",
    )
    with pytest.raises(ValidationError, match="at most 300"):
        accounts.update_profile(alice, bio="x" * 301)
    db.session.rollback()
    assert db.session.get(User, alice.id).bio == "Hei!\nI fix builds."


@pytest.mark.parametrize("field", ["display_name", "job_title", "department", "bio"])
@pytest.mark.parametrize("value", ["Kari\u202eNordmann", "bell\x07", "tab\there"])
def test_profile_refuses_control_and_bidi_override_characters(app, alice, field, value):
    with pytest.raises(ValidationError, match="control characters"):
        accounts.update_profile(alice, **{field: value})


def test_bio_keeps_line_breaks(app, alice):
    accounts.update_profile(alice, bio="Line one\r\nLine two")
    assert alice.bio == "Line one\nLine two"


def test_change_password_checks_the_current_one(app, alice):
    with pytest.raises(ValidationError):
        accounts.change_password(alice, "wrong", "new password 1")
    accounts.change_password(alice, PASSWORD, "new password 1")
    assert accounts.authenticate("alice", "new password 1").id == alice.id


def test_make_user_factory_sets_profile(app):
    user = make_user("kari", department="Finance")
    assert user.department == "Finance"


@pytest.fixture
def scrypt_runs(monkeypatch):
    """Count the scrypt computations (the slow part of checking a password)."""
    runs = []
    real = hashlib.scrypt
    # The stand-in hash for unknown names is made once per process; whichever test comes first
    # must not count its making as a check.
    accounts._unmatchable_hash()

    def counting(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    # conftest checks each (hash, password) pair once per session; here every check must really run.
    monkeypatch.setattr(models.user, "check_password_hash", werkzeug.security.check_password_hash)
    return runs


@pytest.mark.parametrize("login_name", ["alice", "alice@example.com", "nobody", "nobody@example.com", ""])
def test_a_log_in_costs_the_same_scrypt_work_whether_or_not_the_name_exists(
    app, alice, scrypt_runs, login_name
):
    with pytest.raises(ValidationError):
        accounts.authenticate(login_name, "not the password")
    assert len(scrypt_runs) == 1


def test_an_account_without_a_local_password_costs_the_same_too(app, alice, scrypt_runs):
    db.session.execute(update(User).where(User.id == alice.id).values(password_hash=None))
    db.session.commit()
    with pytest.raises(ValidationError):
        accounts.authenticate("alice", "anything at all")
    assert len(scrypt_runs) == 1


def test_the_password_grant_costs_the_same_for_unknown_names(client, alice, scrypt_runs):
    app = client.post(
        "/api/v1/apps", data={"client_name": "bot", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
    ).get_json()
    for name in ("alice", "nobody"):
        scrypt_runs.clear()
        response = client.post(
            "/oauth/token",
            data={"grant_type": "password", "username": name, "password": "wrong password", **app},
        )
        assert response.status_code == 400 and len(scrypt_runs) == 1


@pytest.mark.settings(LOGIN_RATE_LIMIT="3 per minute")
def test_guessing_the_current_password_in_settings_is_rate_limited(client, alice):
    login(client, "alice")
    guesses = [
        client.post(
            "/settings/password", data={"current_password": f"guess {i}", "new_password": "new password 1"}
        ).status_code
        for i in range(4)
    ]
    assert guesses == [422, 422, 422, 429]
    right = client.post(
        "/settings/password", data={"current_password": PASSWORD, "new_password": "new password 1"}
    )
    assert right.status_code == 429  # the limit holds for the right one too, until it resets
    assert db.session.get(User, alice.id).check_password(PASSWORD)
