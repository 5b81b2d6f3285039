"""Log-in through the company directory, against a real OpenLDAP slapd (tests/ldap_server.py)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ldap3.utils import log as ldap3_log
from sqlalchemy import select

from config import TestingConfig
from microblog.database import db
from microblog.services import accounts, ldap_login
from microblog.services.errors import PermissionDenied, ValidationError
from models import User

from .conftest import missing_service
from .factories import PASSWORD, login, make_post, make_team, make_user
from .ldap_server import (
    PEOPLE,
    PEOPLE_BASE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    Directory,
    Person,
    Slapd,
    run_slapd,
    slapd_available,
)
from .test_oauth import password_grant, register

# Every test here talks to a real slapd process.
pytestmark = pytest.mark.server

KARI, ORJAN, ASE = PEOPLE
DISABLED_FILTER = "(&(uid={username})(!(employeeType=disabled)))"


@pytest.fixture(scope="session")
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A slapd with the test people, for the whole session."""
    if not slapd_available():
        missing_service("OpenLDAP's slapd is not installed (Debian: apt install slapd ldap-utils)")
    with run_slapd(tmp_path_factory.mktemp("slapd")) as server:
        yield server


@pytest.fixture
def people(slapd: Slapd) -> Directory:
    """The directory, its people as the LDIF has them."""
    people = Directory(slapd.url)
    people.reset()
    return people


@pytest.fixture
def extra_env() -> dict[str, str]:
    """More MICROBLOG_* settings; a test parametrizes extra_env to change them."""
    return {}


@pytest.fixture
def config(database_url: str, tmp_path: Path, people: Directory, extra_env: dict[str, str]) -> TestingConfig:
    """The test configuration with the directory (overrides conftest's)."""
    return TestingConfig(
        {
            "MICROBLOG_DATABASE_URL": database_url,
            "MICROBLOG_DATA_DIR": str(tmp_path / "data"),
            "MICROBLOG_LDAP_URL": people.url,
            "MICROBLOG_LDAP_BIND_DN": SERVICE_DN,
            "MICROBLOG_LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "MICROBLOG_LDAP_USER_BASE": PEOPLE_BASE,
            "MICROBLOG_LDAP_USER_FILTER": DISABLED_FILTER,
            "MICROBLOG_LDAP_TIMEOUT": "3",
            **extra_env,
        }
    )


def log_in(client, person: Person = KARI, password: str | None = None, login_name: str | None = None):
    return client.post(
        "/login", data={"login": login_name or person.uid, "password": password or person.password}
    )


def account(username: str) -> User:
    db.session.expire_all()  # the app's requests changed the rows
    return db.session.scalars(select(User).where(User.username == username)).one()


def test_first_login_creates_the_account_from_the_entry(client):
    for person in (KARI, ORJAN):
        response = log_in(client, person)
        assert response.status_code == 302, response.data
        client.post("/logout")
    kari, orjan = account("kari"), account("orjan")
    assert (kari.display_name, kari.email, kari.job_title, kari.department) == (
        "Kari Nordmann",
        "kari.nordmann@example.com",
        "Utvikler",
        "Plattform",
    )
    assert kari.directory_dn == KARI.dn and kari.password_hash is None
    assert (orjan.display_name, orjan.job_title) == ("Ørjan Åsheim", "Driftsleder")
    assert "Log in with your company account" in client.get("/login").text


def test_later_logins_refresh_the_profile(client, people):
    assert log_in(client).status_code == 302
    client.post("/logout")
    people.modify(
        "kari", cn="Kari Nordmann-Ås", title="Teamleder", departmentNumber="Data", mail="kari@example.com"
    )
    assert log_in(client).status_code == 302
    kari = account("kari")
    assert (kari.display_name, kari.job_title, kari.department, kari.email) == (
        "Kari Nordmann-Ås",
        "Teamleder",
        "Data",
        "kari@example.com",
    )
    assert log_in(client, login_name="kari@example.com").status_code == 302  # a directory account's email


def test_wrong_password_is_refused(client):
    response = log_in(client, password="not-Karis-password")
    assert response.status_code == 422 and "Wrong username or password." in response.text
    assert db.session.scalar(select(User.id)) is None
    with pytest.raises(ValidationError):
        accounts.authenticate("kari", "")  # an empty password would be an anonymous bind


@pytest.mark.parametrize("change", ["delete", "disable"])
def test_a_person_removed_or_disabled_in_the_directory_cannot_log_in(client, people, change):
    assert log_in(client).status_code == 302
    client.post("/logout")
    if change == "delete":
        people.delete("kari")
    else:
        people.modify("kari", employeeType="disabled")
    response = log_in(client)
    assert response.status_code == 422 and "Wrong username or password." in response.text


def test_an_account_deactivated_here_stays_deactivated(client, admin):
    assert log_in(client).status_code == 302
    client.post("/logout")
    accounts.set_active(admin, "kari", False)
    response = log_in(client)
    assert response.status_code == 403 and "deactivated" in response.text
    assert account("kari").is_active is False


def test_local_accounts_keep_their_passwords_while_local_passwords_are_on(client, alice):
    assert "Create an account" in client.get("/login").text
    login(client, "alice")
    assert account("alice").directory_dn is None


@pytest.mark.parametrize("extra_env", [{"MICROBLOG_LOCAL_PASSWORDS": "off"}])
def test_without_local_passwords_only_the_directory_logs_in(client, alice):
    response = client.post("/login", data={"login": "alice", "password": PASSWORD})
    assert response.status_code == 422 and "Wrong username or password." in response.text
    page = client.get("/login").text
    assert "Log in with your company account" in page and "Create an account" not in page
    assert 'href="/signup"' not in page  # nor in the header
    for response in (client.get("/signup"), client.post("/signup", data={"username": "eve"})):
        assert response.status_code == 404 and "come from the company directory" in response.text
    assert db.session.scalar(select(User.id).where(User.username == "eve")) is None
    assert log_in(client).status_code == 302


def test_a_directory_account_never_logs_in_with_a_local_password(client):
    assert log_in(client).status_code == 302
    client.post("/logout")
    kari = account("kari")
    kari.set_password("a local password")  # however one got there
    db.session.commit()
    response = client.post("/login", data={"login": "kari", "password": "a local password"})
    assert response.status_code == 422
    with pytest.raises(PermissionDenied):
        accounts.change_password(kari, "a local password", "another password")


def test_directory_accounts_change_neither_password_nor_directory_fields_here(client):
    assert log_in(client).status_code == 302
    page = client.get("/settings").text
    assert "Change password" not in page and "company account" in page
    response = client.post("/settings/password", data={"current_password": "x", "new_password": "y" * 10})
    assert response.status_code == 403
    response = client.post("/settings", data={"display_name": "Someone Else", "bio": "Hei"})
    assert response.status_code == 422 and "comes from the company directory" in response.text
    response = client.post(
        "/settings",
        data={
            "display_name": "Kari Nordmann",
            "job_title": "Utvikler",
            "department": "Plattform",
            "bio": "Hei",
        },
    )
    assert response.status_code == 302 and account("kari").bio == "Hei"


def test_a_local_account_with_the_directory_username_is_adopted(client):
    local = make_user("kari", display_name="Old Kari")
    make_post(local, "Posted before the directory")
    assert log_in(client).status_code == 302
    kari = account("kari")
    assert kari.id == local.id and kari.directory_dn == KARI.dn and kari.password_hash is None
    assert (kari.display_name, kari.posts_count) == ("Kari Nordmann", 1)
    client.post("/logout")
    assert client.post("/login", data={"login": "kari", "password": PASSWORD}).status_code == 422


def test_no_one_logs_in_as_a_team_account_with_the_directory_s_username(client):
    make_team("kari", members=(make_user("someone"),), name="Kari's desk")
    response = log_in(client)
    assert response.status_code == 403 and "@kari is a team account here" in response.text
    assert account("kari").directory_dn is None


def test_an_email_taken_by_another_account_is_a_clear_conflict(client):
    accounts.create_user("someone", ORJAN.mail, PASSWORD)
    response = log_in(client, ORJAN)
    assert response.status_code == 409 and "belongs to another microblog account (@someone)" in response.text


def test_attributes_are_fitted_and_unusable_usernames_explained(client, people):
    long = Person(
        "lang", "Kari " + "Nordmann" * 20, "lang@example.com", "T" * 200, "D\tept  " * 30, "lang-Pw-9"
    )
    people.add(long)
    assert log_in(client, long).status_code == 302
    user = account("lang")
    assert user.display_name == long.cn[:60] and user.job_title == "T" * 80
    assert user.department == ("D ept " * 30)[:80].rstrip()  # whitespace folded, then cut
    client.post("/logout")
    people.add(Person("øyvind", "Øyvind Ås", "oyvind@example.com", "", "", "oyvind-Pw-8"))
    response = client.post("/login", data={"login": "øyvind", "password": "oyvind-Pw-8"})
    assert response.status_code == 422 and "cannot be a microblog username" in response.text


def test_the_oauth_password_grant_works_for_a_directory_user(client):
    app = register(client)
    response = password_grant(client, app, "kari", KARI.password, scope="read")
    assert response.status_code == 200, response.data
    headers = {"Authorization": f"Bearer {response.get_json()['access_token']}"}
    me = client.get("/api/v1/accounts/verify_credentials", headers=headers).get_json()
    assert (me["username"], me["display_name"]) == ("kari", "Kari Nordmann")
    wrong = password_grant(client, app, "kari", "wrong-Guess")
    assert wrong.status_code == 400 and wrong.get_json()["error"] == "invalid_grant"


@pytest.mark.parametrize("login_name", ["*", "k*", "a)(uid=*", "kari)(|(uid=*", "*)(uid=*))(|(uid=*", "\\2a"])
def test_filter_injection_finds_no_one(client, login_name):
    response = client.post("/login", data={"login": login_name, "password": KARI.password})
    assert response.status_code == 422
    assert ldap_login.find_person(ldap_login.configured_directory(), login_name) is None


def test_an_unreachable_directory_is_a_clear_error(app, client, alice):
    app.config["LDAP_URL"] = "ldap://127.0.0.1:1"  # nothing listens on tcpmux
    response = log_in(client)
    assert response.status_code == 503 and "company directory cannot be reached" in response.text
    grant = password_grant(client, register(client), "kari", KARI.password)
    assert grant.status_code == 400 and "cannot be reached" in grant.get_json()["error_description"]
    login(client, "alice")  # local accounts do not need the directory


def test_a_directory_that_does_not_answer_times_out(app, client):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        app.config.update(LDAP_URL=f"ldap://127.0.0.1:{silent.getsockname()[1]}", LDAP_TIMEOUT=0.5)
        started = time.monotonic()
        response = log_in(client)
    assert response.status_code == 503 and time.monotonic() - started < 5


def test_start_tls_checks_the_directory_certificate(app, client, slapd):
    app.config.update(LDAP_START_TLS=True, LDAP_CA_FILE=slapd.ca_file)
    assert log_in(client).status_code == 302  # slapd's certificate is the test CA's
    client.post("/logout")
    app.config["LDAP_CA_FILE"] = None  # the system's CAs do not vouch for it
    response = log_in(client)
    assert response.status_code == 503 and "cannot be reached" in response.text


def test_secrets_are_never_logged(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    ldap3_log.set_library_log_detail_level(ldap3_log.EXTENDED)  # ldap3's own logger at its most verbose
    try:
        bodies = [log_in(client).text, client.post("/logout").text]
        bodies.append(log_in(client, password="wrong-Guess-5150").text)
        bodies.append(password_grant(client, register(client), "orjan", ORJAN.password).text)
        app.config["LDAP_BIND_PASSWORD"] = "wrong-Bind-Secret-42"
        refused = log_in(client, ASE)
        app.config["LDAP_URL"] = "ldap://127.0.0.1:1"
        bodies += [refused.text, log_in(client, ASE).text]
    finally:
        ldap3_log.set_library_log_detail_level(ldap3_log.OFF)
    assert refused.status_code == 503 and "directory refused microblog" in refused.text
    assert "ldap3" in {record.name for record in caplog.records}
    logged = caplog.text + "\n".join(bodies)
    for secret in (SERVICE_PASSWORD, "wrong-Bind-Secret-42", KARI.password, ORJAN.password, ASE.password):
        for form in (secret, repr(secret.encode())[2:-1], secret.encode().hex()):
            assert form not in logged, secret
    assert "wrong-Guess-5150" not in logged


def test_sync_deactivates_people_gone_from_the_directory_and_refreshes_the_rest(app, client, people):
    for person in PEOPLE:
        assert log_in(client, person).status_code == 302
        client.post("/logout")
    people.delete("ase")
    people.modify("orjan", employeeType="disabled")
    people.modify("kari", title="Teamleder")
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["users", "sync-directory", "--dry-run"])
    assert dry.exit_code == 0 and "Would deactivate @ase" in dry.output
    assert account("ase").is_active and account("kari").job_title == "Utvikler"
    result = runner.invoke(args=["users", "sync-directory"])
    assert result.exit_code == 0, result.output
    assert "1 refreshed, 0 unchanged, 2 deactivated" in result.output
    assert [account(name).is_active for name in ("kari", "orjan", "ase")] == [True, False, False]
    assert account("kari").job_title == "Teamleder"
    app.config["LDAP_USER_BASE"] = "ou=nobody,dc=example,dc=com"  # a mistake, not everyone leaving
    result = runner.invoke(args=["users", "sync-directory"])
    assert result.exit_code == 1 and "found no one" in result.output
    assert account("kari").is_active
