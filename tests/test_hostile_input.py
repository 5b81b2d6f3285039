"""Input no field may hold is a clear 4xx that stores nothing, never a 500: the reproductions of each class.

tests/test_fuzz_forms.py sends the whole hostile corpus to every form, route and event.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import pytest
from sqlalchemy import func, select

from microblog.database import db
from microblog.services import tokens
from models import AccessToken, AuthorizationCode, ListAccount, OAuthApp, Post, TimelineList

from .factories import make_post, make_token


@pytest.fixture
def auth(alice):
    return make_token(alice, "read", "write")


@pytest.mark.parametrize("name", ["+2", "%2B2", "%EF%BC%92", "%D9%A2", "2_0", "%202", "02x", "1" * 5000])
def test_ids_are_ascii_digits_only(alice_client, alice, bob, auth, name):
    client = alice_client
    make_post(alice, "the first post")
    assert bob.id == make_post(bob, "the second post").id == 2  # what each name below means to int()
    assert client.get("/api/v1/accounts/2", headers=auth).status_code == 200
    assert client.get(f"/api/v1/accounts/{name}", headers=auth).status_code == 404
    assert client.get(f"/api/v1/statuses/{name}", headers=auth).status_code == 404
    assert client.get(f"/posts/{name}").status_code == 404
    refused = client.get(f"/api/v1/timelines/public?max_id={name}", headers=auth)
    assert refused.status_code == 422
    assert "max_id" in refused.get_json()["error"]


@pytest.mark.parametrize("offset", ["1" * 5000, "+1", "%EF%BC%91"])
def test_a_search_offset_is_ascii_digits_too(client, alice, auth, offset):
    response = client.get(f"/api/v2/search?q=a&offset={offset}", headers=auth)
    assert response.status_code == 422
    assert "offset" in response.get_json()["error"]


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
DEEP = "[" * 100_000 + "]" * 100_000


def test_a_lone_surrogate_in_a_status_is_a_400_and_stores_nothing(client, alice, auth):
    response = client.post("/api/v1/statuses", data='{"status": "a\\ud800b"}', headers=auth | JSON)
    assert response.status_code == 400
    assert "surrogate" in response.get_json()["error"]
    assert _count(Post) == 0


def test_a_lone_surrogate_in_a_list_title_or_account_ids_is_a_400_and_stores_nothing(client, alice, auth):
    for body in ('{"title": "a\\ud800b"}', '{"title": "search: \\udc80"}'):
        assert client.post("/api/v1/lists", data=body, headers=auth | JSON).status_code == 400
    team = client.post("/api/v1/lists", json={"title": "Team"}, headers=auth).get_json()["id"]
    body = '{"account_ids": ["\\ud800"]}'
    assert client.post(f"/api/v1/lists/{team}/accounts", data=body, headers=auth | JSON).status_code == 400
    assert client.delete(f"/api/v1/lists/{team}/accounts", data=body, headers=auth | JSON).status_code == 400
    assert _count(TimelineList) == 1 and _count(ListAccount) == 0


def test_a_lone_surrogate_in_a_display_name_or_note_is_a_400(client, alice, auth):
    for field in ("display_name", "note"):
        body = f'{{"{field}": "\\udc80"}}'
        response = client.patch("/api/v1/accounts/update_credentials", data=body, headers=auth | JSON)
        assert response.status_code == 400, field
    db.session.refresh(alice)
    assert (alice.display_name, alice.bio) == ("Alice Andersen", "")


@pytest.mark.parametrize("value", ["a\\ud800b", "a\\u0000b"])
def test_a_lone_surrogate_or_nul_in_an_app_name_is_a_400(client, value):
    body = f'{{"client_name": "{value}", "redirect_uris": "{tokens.OOB_REDIRECT}"}}'
    assert client.post("/api/v1/apps", data=body, headers=JSON).status_code == 400
    assert _count(OAuthApp) == 0


@pytest.mark.parametrize("name", ["evil\u202etxt.exe", "tab\x07bell", "\u2066isolate"])
def test_bidi_overrides_and_controls_in_app_and_token_names_are_refused(alice_client, alice, name):
    response = alice_client.post(
        "/api/v1/apps", json={"client_name": name, "redirect_uris": tokens.OOB_REDIRECT}
    )
    assert response.status_code == 422
    assert "control characters" in response.get_json()["error"]
    assert alice_client.post("/settings/tokens", data={"name": name, "read": "y"}).status_code == 422
    assert _count(OAuthApp) == 0
    assert _count(AccessToken) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/statuses"),
        ("PATCH", "/api/v1/accounts/update_credentials"),
        ("POST", "/api/v1/apps"),
        ("POST", "/oauth/token"),
        ("POST", "/api/v1/lists"),
        ("PUT", "/api/v1/lists/1"),
        ("DELETE", "/api/v1/lists/1/accounts"),
        ("POST", "/posts"),
        ("POST", "/settings"),
    ],
)
def test_deeply_nested_json_is_a_400_anywhere(alice_client, auth, method, path):
    response = alice_client.open(path, method=method, data=DEEP, headers=auth | JSON)
    assert response.status_code == 400
    if path.startswith(("/api/", "/oauth/")):
        assert "nested" in response.get_json()["error"]
    shallow = {"status": [[[["ok"]]]]}
    response = alice_client.open(path, method=method, json=shallow, headers=auth)
    assert response.status_code < 500


def test_a_json_object_or_list_where_text_is_expected_is_a_422_not_its_repr(client, alice, auth):
    for value in ({"x": 1}, ["Alice"], True, 1.5):
        response = client.patch(
            "/api/v1/accounts/update_credentials", json={"display_name": value}, headers=auth
        )
        assert response.status_code == 422, value
        assert response.get_json()["error"] == "display_name must be a string."
    db.session.refresh(alice)
    assert alice.display_name == "Alice Andersen"
    for body in (
        {"status": {"x": 1}},
        {"status": "ok", "in_reply_to_id": ["1"]},
        {"status": "ok", "spoiler_text": {}},
    ):
        assert client.post("/api/v1/statuses", json=body, headers=auth).status_code == 422, body
    assert (
        client.post("/api/v1/apps", json={"client_name": {"x": 1}, "redirect_uris": "x:y"}).status_code == 422
    )
    assert (
        client.post("/api/v1/apps", json={"client_name": "c", "redirect_uris": [{"x": 1}]}).status_code == 422
    )
    assert (_count(Post), _count(OAuthApp)) == (0, 0)
    # A JSON number where Mastodon clients send digits still means them.
    post = make_post(alice, "parent")
    reply = client.post("/api/v1/statuses", json={"status": "reply", "in_reply_to_id": post.id}, headers=auth)
    assert reply.get_json()["in_reply_to_id"] == str(post.id)


def test_web_forms_read_no_fields_from_a_json_body(alice_client, alice):
    for path, body in [
        ("/posts", {"text": {"x": 1}}),
        ("/settings", {"display_name": {"x": 1}, "bio": ["b"]}),
        ("/settings/tokens", {"name": {"x": 1}, "read": True}),
    ]:
        response = alice_client.post(path, json=body)
        assert response.status_code == 415, path
        assert "JSON goes to the API" in response.text
    password = alice_client.post("/settings/password", json={"current_password": {}, "new_password": []})
    assert password.status_code == 422
    db.session.refresh(alice)
    assert alice.display_name == "Alice Andersen"
    assert (_count(Post), _count(AccessToken)) == (0, 0)


@pytest.mark.parametrize("raw", ["%FF", "%ED%A0%80", "%C0%AF", "%F4%90%80%80", "%00"])
def test_invalid_utf8_or_nul_in_the_path_query_or_form_is_a_400(alice_client, alice, auth, raw):
    client = alice_client
    octets = unquote_to_bytes(raw).decode("latin-1")
    for response in (
        client.get(f"/api/v1/accounts/{raw}", headers=auth),  # the raw path (RAW_URI), as Werkzeug's server
        # As gunicorn passes a path: its bytes, percent-decoded, as Latin-1 (the test client decodes them).
        client.get("/api/v1/accounts/x", environ_overrides={"PATH_INFO": f"/api/v1/accounts/{octets}"}),
        client.get(f"/api/v1/accounts/search?q=a{raw}", headers=auth),
        client.get(f"/search?q={raw}"),
        client.post("/api/v1/statuses", data=f"status=a{raw}", headers=auth | FORM),
        client.post("/posts", data=f"text=a{raw}", headers=FORM),
        client.post("/settings", data=f"display_name={raw}", headers=FORM),
        client.post(
            "/api/v1/statuses", data=b'{"status": "%s"}' % unquote_to_bytes(raw), headers=auth | JSON
        ),
    ):
        assert response.status_code == 400, response.request.url
        message = response.get_json()["error"] if response.is_json else response.text
        assert any(why in message for why in ("UTF-8", "NUL", "JSON", "surrogate")), message
    db.session.refresh(alice)
    assert (_count(Post), alice.display_name) == (0, "Alice Andersen")


def test_headers_the_app_reads_must_be_text(client, alice, auth):
    for headers in ({"Authorization": "Bearer \udc80"}, auth | {"Idempotency-Key": "k\ud800"}):
        response = client.post("/api/v1/statuses", data={"status": "hello"}, headers=headers)
        assert response.status_code == 400
        assert "header" in response.get_json()["error"]
    latin1 = auth | {"Idempotency-Key": "caf\xe9"}  # the byte E9 alone, as a server passes it
    assert client.post("/api/v1/statuses", data={"status": "hello"}, headers=latin1).status_code == 400
    utf8 = auth | {"Idempotency-Key": "café".encode().decode("latin-1")}
    assert client.post("/api/v1/statuses", data={"status": "hello"}, headers=utf8).status_code == 200
    assert _count(Post) == 1


@pytest.mark.parametrize("field", ["response_type", "redirect_uri", "scope", "state"])
@pytest.mark.parametrize("value", ["é", "\u202e", "\x01"])
def test_oauth_parameters_outside_printable_ascii_are_a_400(alice_client, field, value):
    app = alice_client.post(
        "/api/v1/apps", data={"client_name": "c", "redirect_uris": "https://a.example/cb"}
    )
    query = {"response_type": "code", "client_id": app.get_json()["client_id"], field: value}
    assert alice_client.get("/oauth/authorize", query_string=query).status_code == 400
    assert alice_client.post("/oauth/authorize", data=query | {"decision": "approve"}).status_code == 400
    assert _count(AuthorizationCode) == 0


@pytest.mark.parametrize("host", ["..", "x" * 5000])
def test_a_host_header_that_names_no_host_is_a_400_even_on_a_page(app, client, host):
    app.config["SERVER_NAME"] = None  # as in production: the site answers at the host it is reached at
    page = client.get("/login", headers={"Host": host})
    assert page.status_code == 400
    assert page.mimetype == "text/plain"  # the error page's links need a host to point to
    assert client.get("/api/v1/instance", headers={"Host": host}).status_code == 400


def test_every_value_and_name_of_a_multipart_form_is_checked(alice_client, alice, auth):
    from werkzeug.datastructures import MultiDict

    repeated = MultiDict([("status", "hello"), ("status", "bad\x00value")])
    for data in (repeated, {"status": "hello", "na\x00me": "x"}):
        response = alice_client.post(
            "/api/v1/statuses", data=data, headers=auth, content_type="multipart/form-data"
        )
        assert response.status_code == 400
    assert _count(Post) == 0
