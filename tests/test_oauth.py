"""OAuth for API clients: app registration, consent, codes with and without PKCE, password grant."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import delete, func, select, update

from microblog.database import db
from microblog.services import tokens
from models import AccessToken, AuthorizationCode, OAuthApp

from .factories import PASSWORD, login

OOB = "urn:ietf:wg:oauth:2.0:oob"
CALLBACK = "http://127.0.0.1:8123/callback"


def register(
    client, redirect_uris: str = f"{OOB} {CALLBACK}", scopes: str = "read write follow push"
) -> dict:
    response = client.post(
        "/api/v1/apps", data={"client_name": "Deploy bot", "redirect_uris": redirect_uris, "scopes": scopes}
    )
    assert response.status_code == 200, response.data
    return response.get_json()


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize_url(app: dict, redirect_uri: str = CALLBACK, **extra: str) -> str:
    query = {
        "client_id": app["client_id"],
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "read write",
        **extra,
    }
    return "/oauth/authorize?" + urlencode(query)


def consent(client, url: str, decision: str = "approve"):
    page = client.get(url)
    assert page.status_code == 200, page.data
    assert b"Authorize Deploy bot?" in page.data
    return client.post(url, data={"decision": decision})


def code_from(response) -> str:
    assert response.status_code == 302, response.data
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def exchange(client, app: dict, code: str, redirect_uri: str = CALLBACK, **extra: str):
    return client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            **extra,
        },
    )


def test_registering_an_app_returns_its_credentials_and_keeps_a_digest(client):
    app = register(client)
    assert app["name"] == "Deploy bot" and app["redirect_uris"] == [OOB, CALLBACK]
    stored = db.session.scalars(select(OAuthApp)).one()
    assert app["client_secret"] not in stored.client_secret_hash


@pytest.mark.parametrize(
    "data",
    [
        {"redirect_uris": OOB},
        {"client_name": "x"},
        {"client_name": "x", "redirect_uris": "not a uri"},
        {"client_name": "x", "redirect_uris": "javascript:alert(1)"},
        {"client_name": "x", "redirect_uris": f"{OOB} data:text/html,<script>alert(1)</script>"},
        {"client_name": "x", "redirect_uris": "https:///no-host"},
        {"client_name": "x", "redirect_uris": OOB, "website": "javascript:alert(document.cookie)"},
        {"client_name": "x", "redirect_uris": OOB, "website": "JaVaScRiPt:alert(1)"},
        {"client_name": "x", "redirect_uris": OOB, "website": "data:text/html,hi"},
        {"client_name": "x", "redirect_uris": OOB, "website": "//evil.example"},
        {"client_name": "x", "redirect_uris": OOB, "scopes": "read admin:everything"},
    ],
)
def test_bad_registrations_are_422(client, data):
    response = client.post("/api/v1/apps", data=data)
    assert response.status_code == 422 and response.get_json()["error"]
    assert db.session.scalar(select(func.count()).select_from(OAuthApp)) == 0


def test_an_http_website_is_kept_and_linked_on_the_consent_page(client, alice):
    response = client.post(
        "/api/v1/apps",
        data={
            "client_name": "Deploy bot",
            "redirect_uris": CALLBACK,
            "website": "https://ci.example/bot",
            "scopes": "read write",
        },
    )
    assert response.status_code == 200 and response.get_json()["website"] == "https://ci.example/bot"
    login(client, "alice")
    page = client.get(authorize_url(response.get_json()))
    assert b'<a href="https://ci.example/bot"' in page.data


def test_the_consent_page_never_links_a_stored_script_url(client, alice):
    app = register(client)
    # An app stored before the rule (or written around it): the page still must not link it.
    db.session.execute(update(OAuthApp).values(website="javascript:alert(document.cookie)"))
    db.session.commit()
    login(client, "alice")
    page = client.get(authorize_url(app))
    assert page.status_code == 200
    assert b"javascript:" not in page.data


def test_consent_needs_a_login_first(client, alice):
    app = register(client)
    response = client.get(authorize_url(app))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_authorization_code_with_pkce_s256(client, alice):
    app = register(client)
    login(client, "alice")
    verifier = "a-long-enough-random-code-verifier-0123456789-abcdefgh"
    url = authorize_url(app, code_challenge=challenge(verifier), code_challenge_method="S256")
    code = code_from(consent(client, url))
    assert (
        exchange(client, app, code, code_verifier="the-wrong-verifier-0123456789-abcdefghijklmno").status_code
        == 400
    )
    code = code_from(consent(client, url))
    assert exchange(client, app, code).status_code == 400  # a code made with PKCE needs its verifier
    code = code_from(consent(client, url))
    token = exchange(client, app, code, code_verifier=verifier)
    assert token.status_code == 200, token.data
    body = token.get_json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write" and "expires_in" not in body
    me = client.get(
        "/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.get_json()["username"] == "alice"
    again = exchange(client, app, code, code_verifier=verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"  # single use


def test_plain_pkce_is_refused(client, alice):
    app = register(client)
    login(client, "alice")
    page = client.get(authorize_url(app, code_challenge="x" * 50, code_challenge_method="plain"))
    assert page.status_code == 400 and b"code_challenge_method" in page.data


def test_a_challenge_without_a_method_is_refused_not_taken_as_plain(client, alice):
    app = register(client)
    login(client, "alice")
    verifier = "a-long-enough-random-code-verifier-0123456789-abcdefgh"
    page = client.get(authorize_url(app, code_challenge=verifier))  # plain: the challenge is the verifier
    assert page.status_code == 400 and b"code_challenge_method" in page.data
    assert (
        client.post(authorize_url(app, code_challenge=verifier), data={"decision": "approve"}).status_code
        == 400
    )
    assert db.session.scalars(select(AuthorizationCode)).all() == []


def test_a_code_stored_as_plain_is_never_checked_the_plain_way(client, alice):
    app = register(client)
    login(client, "alice")
    verifier = "a-long-enough-random-code-verifier-0123456789-abcdefgh"
    code = code_from(
        consent(client, authorize_url(app, code_challenge=challenge(verifier), code_challenge_method="S256"))
    )
    # A row written under the old rule (or around it) with the verifier itself as its challenge:
    db.session.execute(
        update(AuthorizationCode).values(code_challenge=verifier, code_challenge_method="plain")
    )
    db.session.commit()
    assert exchange(client, app, code, code_verifier=verifier).status_code == 400


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        ("read:statuses", "read:statuses"),
        ("read:statuses write:statuses", "read:statuses write:statuses"),
        ("", "read"),
    ],
)
def test_a_token_gets_what_was_asked_and_granted_no_more(client, alice, asked, granted):
    app = register(client, scopes="read write")
    login(client, "alice")
    url = authorize_url(app, redirect_uri=OOB, scope=asked)
    page = client.get(url)
    shown = re.findall(r"<li><code>([^<]+)</code>", page.data.decode())
    assert shown == granted.split()  # the consent page names exactly what will be granted
    code = re.search(
        r'value="([^"]+)"[^>]*data-code', client.post(url, data={"decision": "approve"}).data.decode()
    )
    body = exchange(client, app, code.group(1), redirect_uri=OOB).get_json()
    assert body["scope"] == granted
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    notifications = client.get("/api/v1/notifications", headers=headers).status_code
    assert notifications == (200 if granted == "read" else 403)  # read:statuses does not read notifications
    password = password_grant(client, app, scope=asked).get_json()
    assert password["scope"] == granted


@pytest.mark.parametrize("asked", ["follow", "read push", "admin:read"])
def test_asking_beyond_the_apps_registered_scopes_is_refused(client, alice, asked):
    app = register(client, scopes="read write")
    login(client, "alice")
    assert client.get(authorize_url(app, redirect_uri=OOB, scope=asked)).status_code == 400
    refused = password_grant(client, app, scope=asked)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_scope"
    assert db.session.scalars(select(AccessToken)).all() == []


def test_authorization_code_without_pkce_and_out_of_band(client, alice):
    app = register(client)
    login(client, "alice")
    page = consent(client, authorize_url(app, redirect_uri=OOB))
    assert page.status_code == 200 and b"Copy this code" in page.data
    code = re.search(r'value="([^"]+)"[^>]*data-code', page.data.decode()).group(1)
    token = exchange(client, app, code, redirect_uri=OOB)
    assert token.status_code == 200, token.data
    assert exchange(client, app, code, redirect_uri=OOB).status_code == 400


def test_denying_consent_issues_nothing(client, alice):
    app = register(client)
    login(client, "alice")
    response = consent(client, authorize_url(app), decision="deny")
    assert response.status_code == 302 and "error=access_denied" in response.headers["Location"]
    assert db.session.scalars(select(AccessToken)).all() == []


def test_unknown_client_or_redirect_shows_an_error_page(client, alice):
    app = register(client)
    login(client, "alice")
    assert client.get(authorize_url({"client_id": "nope"})).status_code == 400
    page = client.get(authorize_url(app, redirect_uri="http://evil.example/steal"))
    assert page.status_code == 400 and b"cannot be used" in page.data


def password_grant(client, app: dict, username: str = "alice", password: str = PASSWORD, **extra: str):
    """Ask for a token with the password grant, as the registered app."""
    form = {"grant_type": "password", "username": username, "password": password}
    form |= {"client_id": app["client_id"], "client_secret": app.get("client_secret"), **extra}
    return client.post("/oauth/token", data={k: v for k, v in form.items() if v is not None})


def test_password_grant_with_email_or_username(client, alice):
    app = register(client)
    for login_name in ("alice@example.com", "alice"):
        response = password_grant(client, app, login_name, scope="read write follow push")
        assert response.status_code == 200, response.data
        assert response.get_json()["scope"] == "read write follow push"
    wrong = password_grant(client, app, password="wrong password")
    assert wrong.status_code == 400 and wrong.get_json() == {
        "error": "invalid_grant",
        "error_description": "Wrong username or password.",
    }
    bad_secret = password_grant(client, {"client_id": app["client_id"]})
    assert bad_secret.status_code == 401 and bad_secret.get_json()["error"] == "invalid_client"


def test_revoking_a_token_through_oauth(client, alice):
    app = register(client)
    token = password_grant(client, app).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    revoked = client.post(
        "/oauth/revoke",
        data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
    )
    assert revoked.status_code == 200
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 401


@pytest.mark.settings(LOGIN_RATE_LIMIT="3 per minute")
def test_password_grants_are_rate_limited_like_the_login_page(app, alice):
    client = app.test_client()
    registered = register(client)

    def attempt(password: str) -> int:
        return password_grant(client, registered, password=password).status_code

    login(client, "alice")  # the log-in page's attempts share the allowance: one of three
    # Code exchanges are not password attempts: they go on.
    for _ in range(3):
        code = code_from(consent(client, authorize_url(registered)))
        assert exchange(client, registered, code).status_code == 200
    # Every attempt counts when it arrives (counting failures after the answer let parallel guesses in).
    assert [attempt(PASSWORD), attempt("guess one"), attempt(PASSWORD)] == [200, 400, 429]


@pytest.mark.settings(LOGIN_RATE_LIMIT="5 per minute")
def test_parallel_guesses_cannot_outrun_the_limit(app, alice):
    from concurrent.futures import ThreadPoolExecutor

    registered = register(app.test_client())

    def attempt(i: int) -> int:
        with app.app_context():
            status = password_grant(app.test_client(), registered, password=f"guess {i}").status_code
            db.session.remove()
            return status

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(16)))
    assert statuses.count(400) == 5 and statuses.count(429) == 11


def test_a_code_exchanged_twice_at_once_gives_one_token(client, alice, monkeypatch):
    app = register(client)
    login(client, "alice")
    code = code_from(consent(client, authorize_url(app)))
    find = tokens.find_authorization_code

    def found_then_used_elsewhere(oauth_app, value):
        row = find(oauth_app, value)
        # Another exchange of the same code, between this one's look-up and its token:
        assert tokens.consume_authorization_code(row) is True
        return row

    monkeypatch.setattr(tokens, "find_authorization_code", found_then_used_elsewhere)
    response = exchange(client, app, code)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert db.session.scalars(select(AccessToken)).all() == []


def test_revoking_with_http_basic_client_authentication(client, alice):
    app = register(client)
    token = password_grant(client, app).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    wrong = base64.b64encode(f"{app['client_id']}:not-the-secret".encode()).decode()
    refused = client.post("/oauth/revoke", data={"token": token}, headers={"Authorization": f"Basic {wrong}"})
    assert refused.status_code == 401
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    revoked = client.post("/oauth/revoke", data={"token": token}, headers={"Authorization": f"Basic {basic}"})
    assert revoked.status_code == 200
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 401


def test_an_app_registers_a_bounded_number_of_redirect_uris(client):
    many = " ".join(f"https://cb.example/{i}" for i in range(tokens.REDIRECT_URIS_MAX + 1))
    response = client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": many})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(OAuthApp)) == 0


@pytest.mark.settings(LOGIN_RATE_LIMIT="2 per minute")
def test_a_password_grant_named_in_the_query_string_is_limited_too(app, alice):
    client = app.test_client()
    registered = register(client)
    form = {
        "username": "alice",
        "client_id": registered["client_id"],
        "client_secret": registered["client_secret"],
    }
    statuses = [
        client.post("/oauth/token?grant_type=password", data={**form, "password": f"guess {i}"}).status_code
        for i in range(3)
    ]
    assert statuses == [400, 400, 429]


@pytest.mark.settings(LOGIN_RATE_LIMIT="3 per minute")
def test_the_log_in_page_and_the_password_grant_share_one_allowance(app, alice):
    client = app.test_client()
    registered = register(client)
    assert client.post("/login", data={"login": "alice", "password": "guess 1"}).status_code == 422
    assert client.post("/login", data={"login": "alice", "password": "guess 2"}).status_code == 422
    assert password_grant(client, registered, password="guess 3").status_code == 400
    assert password_grant(client, registered, password="guess 4").status_code == 429
    assert client.post("/login", data={"login": "alice", "password": PASSWORD}).status_code == 429


def test_a_token_revoked_while_its_first_use_is_recorded_is_refused_not_a_500(client, alice, monkeypatch):
    app = register(client)
    token = password_grant(client, app).get_json()["access_token"]
    commit = db.session.commit
    revoked = []

    def revoked_meanwhile():
        commit()
        if not revoked:  # another request revokes it between the last-use write and the reload
            revoked.append(True)
            with db.engine.begin() as other:
                other.execute(delete(AccessToken))

    monkeypatch.setattr(db.session, "commit", revoked_meanwhile, raising=False)
    response = client.get("/api/v1/accounts/verify_credentials", headers={"Authorization": f"Bearer {token}"})
    monkeypatch.undo()
    assert revoked and response.status_code == 401


def test_json_bodies_work_as_forms_do_for_tokens_and_revocation(client, alice):
    # masto.js and megalodon send JSON to /oauth/token and /oauth/revoke, as Mastodon accepts.
    app = register(client)
    credentials = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    granted = client.post(
        "/oauth/token",
        json={"grant_type": "password", "username": "alice", "password": PASSWORD, **credentials},
    )
    assert granted.status_code == 200, granted.data
    token = granted.get_json()["access_token"]
    login(client, "alice")
    code = code_from(consent(client, authorize_url(app)))
    exchanged = client.post(
        "/oauth/token",
        json={"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, **credentials},
    )
    assert exchanged.status_code == 200, exchanged.data
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 200
    assert client.post("/oauth/revoke", json={**credentials, "token": token}).status_code == 200
    assert client.get("/api/v1/accounts/verify_credentials", headers=headers).status_code == 401
    assert (
        client.post("/oauth/revoke", json={"client_id": app["client_id"], "token": token}).status_code == 401
    )


@pytest.mark.parametrize(
    "body", ["[1, 2]", '"password"', "{not json", '{"grant_type": ["password"]}', "null"]
)
def test_a_json_body_that_is_no_object_of_text_is_a_clear_400(client, alice, body):
    response = client.post("/oauth/token", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]
