"""Never a 500, whatever the input: every web form, a sample of pages, every Socket.IO event.

Each value goes into one field at a time (the others valid), as the raw bytes a
browser or a script could send: lone surrogates and other invalid UTF-8, NUL,
bidi overrides, 100,000 characters, huge numbers, JSON where a form is expected.
A refusal (4xx) must store nothing; no request may answer 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote_from_bytes, unquote_to_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import realtime
from microblog.database import db
from microblog.services import lists
from models import (
    AccessToken,
    AuthorizationCode,
    Community,
    CommunityAdmin,
    Follow,
    FollowRequest,
    InboxItem,
    Like,
    Login,
    MediaAttachment,
    OAuthApp,
    Post,
    TagFollow,
    TeamMember,
    TimelineList,
    User,
)

from .factories import login, make_community, make_post, make_team, make_token

# An exhaustive sweep (some 250 forms and fields, each with every hostile value): `make test` and CI
# run it; `make test-fast`, the quick loop, leaves it out.
pytestmark = pytest.mark.slow

# Percent-encoded, as they travel in a form body or a query string.
HOSTILE = [
    "%ED%A0%80",  # a lone high surrogate, UTF-8 encoded (invalid UTF-8)
    "a%ED%B2%80b",  # a lone low surrogate inside text
    "%FF",  # never valid in UTF-8
    "%C0%80",  # an overlong NUL
    "%F4%90%80%80",  # beyond U+10FFFF
    "%00",
    "a%00b",
    "%E2%80%AE",  # right-to-left override
    "%E2%81%A6x",  # left-to-right isolate
    "%EF%BB%BF",  # byte order mark
    "%0D%0A",
    "%F0%9F%92%A9",  # a valid 4-byte character, for contrast
    "x" * 100_000,
    "9" * 5000,
    "-1",
    "%2B2",  # +2
    "%EF%BC%92",  # a fullwidth 2
    "%3Cscript%3E",
    "",
]
DEEP = "[" * 50_000 + "]" * 50_000
ODD_JSON = [DEEP, '{"a": "\\ud800"}', '"just a string"', "[1, 2]", "{", "1e999999", "9" * 5000]

# Every form the web UI posts: (path, fields, the other fields at valid values).
FORMS: list[tuple[str, tuple[str, ...], dict[str, str]]] = [
    (
        "/posts",
        ("text", "in_reply_to", "next", "post_as", "question", "media_ids"),
        {"text": "hello", "post_as": "desk"},
    ),
    ("/media", ("file", "description"), {}),  # the composer's image uploads (a file is multipart)
    ("/posts/4/accept", ("next",), {}),
    ("/posts/3/unaccept", ("next",), {}),
    ("/teams/desk/inbox/1/assign", ("assignee", "next"), {"assignee": "bob"}),
    ("/teams/desk/inbox/1/close", ("reason", "next"), {"reason": "duplicate"}),
    ("/teams/desk/inbox/1/reopen", ("next",), {}),
    ("/teams/desk/inbox/1/answer", ("text", "next"), {"text": "on it"}),
    ("/teams/desk/members", ("username", "role", "next"), {"username": "alice", "role": "member"}),
    ("/teams/desk/members/bob/remove", ("next",), {}),
    ("/teams/desk/manage", ("name", "description"), {"name": "Desk"}),
    (
        "/admin/teams",
        ("handle", "name", "description", "members", "leads"),
        {"handle": "fuzzdesk", "name": "Fuzz desk", "members": "bob", "leads": "root"},
    ),
    ("/settings/tokens/teams/desk", ("name", "read", "write"), {"name": "bot"}),
    ("/settings/tokens/teams/desk/1/revoke", ("next",), {}),
    ("/settings", ("display_name", "job_title", "department", "bio"), {"display_name": "Alice"}),
    ("/settings/password", ("current_password", "new_password"), {"current_password": "wrong one"}),
    ("/settings/preferences", ("locale", "timezone"), {"locale": "nb", "timezone": "Europe/Oslo"}),
    ("/settings/tokens", ("name", "read", "write"), {"name": "bot", "read": "y"}),
    ("/settings/tokens/1/revoke", ("next",), {}),
    ("/posts/1/like", ("next",), {}),
    ("/posts/1/unlike", ("next",), {}),
    ("/posts/1/bookmark", ("next",), {}),
    ("/posts/1/unbookmark", ("next",), {}),
    ("/posts/1/pin", ("next",), {}),
    ("/posts/1/edit", ("text", "next"), {"text": "fixed"}),
    ("/media", ("file", "description"), {}),
    ("/posts/1/unpin", ("next",), {}),
    ("/posts/2/delete", ("next",), {}),
    ("/@bob/follow", ("next",), {}),
    ("/@bob/unfollow", ("next",), {}),
    ("/tags", ("name", "next"), {"name": "apollo"}),
    ("/tags/apollo/follow", ("next",), {}),
    ("/signals", ("q", "in_home", "notify"), {"q": "apollo"}),
    ("/signals/1/settings", ("in_home", "notify", "next"), {"in_home": "1"}),
    ("/signals/1/read", ("up_to",), {"up_to": "1"}),
    ("/signals/1/unfollow", ("next",), {}),
    ("/signals/read", ("up_to",), {"up_to": "1"}),
    ("/home/read", ("up_to",), {"up_to": "1"}),
    ("/tags/apollo/unfollow", ("next",), {}),
    ("/admin/users/bob/deactivate", ("next",), {}),
    ("/notifications/seen", ("up_to", "next"), {"up_to": "1"}),
    (
        "/communities/new",
        ("handle", "name", "description", "visibility"),
        {"handle": "fuzzers", "name": "Fuzzers", "visibility": "private"},
    ),
    ("/@apollo/join", ("next",), {}),
    ("/@apollo/leave", ("next",), {}),
    ("/@apollo/manage", ("name", "description"), {"name": "Apollo"}),
    ("/@apollo/members", ("username", "next"), {"username": "bob"}),
    ("/@apollo/members/bob/make-admin", ("next",), {}),
    ("/@apollo/requests/bob/accept", ("next",), {}),
    ("/@apollo/archive", ("next",), {}),
    ("/@apollo/take-over", ("username", "next"), {"username": "bob"}),
    ("/oauth/authorize", ("client_id", "redirect_uri", "scope", "state", "response_type", "decision"), {}),
    ("/login", ("login", "password", "remember", "next"), {"login": "root", "password": "wrong password"}),
    (
        "/signup",
        ("username", "display_name", "email", "password"),
        {"username": "carol", "email": "c@x.example"},
    ),
]
# Routes that take POST and are no web form: the JSON API and OAuth's client endpoints.
NOT_FORMS = ("/api/", "/oauth/token", "/oauth/revoke", "/logout")
STORED = (
    Post,
    User,
    AccessToken,
    Follow,
    Like,
    TagFollow,
    OAuthApp,
    AuthorizationCode,
    Login,
    Community,
    CommunityAdmin,
    FollowRequest,
    InboxItem,
    TeamMember,
    TimelineList,
    MediaAttachment,
)


@pytest.fixture
def config(config):
    """The test configuration without rate limits: a 429 would hide what a view does with the input."""
    config.RATELIMIT_ENABLED = False
    return config


@pytest.fixture
def world(app, admin, alice, bob):
    """An admin, two colleagues, their posts, and the admin's browser; return that test client."""
    make_post(bob, "the first #apollo post")
    make_post(admin, "the admin's own post")
    make_community(admin, "apollo", private=True)
    make_team("desk", members=(bob,), leads=(admin,))
    make_post(bob, "@desk is the printer fixed? #question")  # post 3, inbox item 1
    make_post(alice, "yes, since noon", in_reply_to=3)  # post 4, a reply to the question
    lists.save_search(admin, "printer")  # list 1
    client = app.test_client()
    login(client, "root")
    return client


def _stored() -> dict[str, int]:
    db.session.rollback()  # see what other connections committed
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model)) for model in STORED}


def _form_body(fields: dict[str, str]) -> bytes:
    """Encode fields whose values are already percent-encoded (so raw bytes pass as they are)."""
    return "&".join(f"{name}={value}" for name, value in fields.items()).encode()


def _post(client, path: str, body: bytes, content_type: str = "application/x-www-form-urlencoded"):
    response = client.post(path, data=body, headers={"Content-Type": content_type})
    assert response.status_code < 500, (path, body[:120], response.status_code)
    return response


def test_the_corpus_covers_every_form_the_web_ui_posts(app):
    posted = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith(NOT_FORMS)
    }
    covered = {rule for rule in posted if any(_matches(rule, path) for path, _, _ in FORMS)}
    assert posted - covered == set(), "add these forms to FORMS"


def _matches(rule: str, path: str) -> bool:
    rule_parts, path_parts = rule.rstrip("/").split("/"), path.rstrip("/").split("/")
    return len(rule_parts) == len(path_parts) and all(
        r == p or r.startswith("<") or (r.startswith("@<") and p.startswith("@"))
        for r, p in zip(rule_parts, path_parts, strict=True)
    )


def _anonymous(path: str) -> bool:
    return path in ("/login", "/signup")


@pytest.mark.parametrize(("path", "fields", "valid"), FORMS, ids=[form[0] for form in FORMS])
def test_every_form_field_takes_hostile_values_without_a_500(app, world, path, fields, valid):
    client = app.test_client() if _anonymous(path) else world
    for field in fields:
        for value in HOSTILE:
            before = _stored()
            response = _post(client, path, _form_body(valid | {field: value}))
            if response.status_code >= 400:
                assert _stored() == before, (path, field, value[:40], response.status_code)
    # Multipart, as a browser sends a form with a file input (Werkzeug decodes it leniently).
    for field in fields:
        body = f'--b\r\nContent-Disposition: form-data; name="{field}"\r\n\r\nx\x00\xed\xa0\x80\r\n--b--\r\n'
        before = _stored()
        response = _post(client, path, body.encode("latin-1"), "multipart/form-data; boundary=b")
        assert response.status_code == 400
        assert _stored() == before


@pytest.mark.parametrize(("path", "fields", "valid"), FORMS, ids=[form[0] for form in FORMS])
def test_forms_take_json_of_any_shape_without_a_500(app, world, path, fields, valid):
    client = app.test_client() if _anonymous(path) else world
    for body in [*ODD_JSON, json.dumps({fields[0]: {"x": 1}}), json.dumps({fields[0]: ["a"]})]:
        before = _stored()
        response = _post(client, path, body.encode(), "application/json")
        if response.status_code >= 400:
            assert _stored() == before, (path, body[:40])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(["text", "in_reply_to", "display_name", "bio", "name"]), raw=st.binary(max_size=40)
)
def test_any_bytes_in_a_field_are_taken_or_refused_cleanly(app, world, field, raw):
    path = {"text": "/posts", "in_reply_to": "/posts", "name": "/settings/tokens"}.get(field, "/settings")
    valid = {
        "/posts": {"text": "hello"},
        "/settings": {"display_name": "Ada"},
        "/settings/tokens": {"read": "y"},
    }
    before = _stored()
    response = _post(world, path, _form_body(valid[path] | {field: quote_from_bytes(raw)}))
    if response.status_code >= 400:
        assert _stored() == before


# A sample of pages, each with a place where a hostile value goes: {} in the path or query.
PAGES = [
    "/@{}",
    "/@{}/followers",
    "/tags/{}",
    "/tags/{}/followers",
    "/posts/{}",
    "/avatars/{}.svg",
    "/search?q={}",
    "/people?q={}",
    "/communities?q={}",
    "/communities?after={}",
    "/@{}/manage",
    "/teams/{}/manage",
    "/public?max_id={}",
    "/?since_id={}",
    "/notifications?max_id={}",
    "/login?next={}",
    "/oauth/authorize?response_type=code&client_id={}",
    "/api/v1/accounts/{}",
    "/api/v1/accounts/{}/statuses?limit={}",
    "/api/v1/statuses/{}/context",
    "/api/v1/timelines/tag/{}",
    "/api/v1/timelines/public?max_id={}&min_id={}",
    "/api/v1/accounts/lookup?acct={}",
    "/api/v1/accounts/relationships?id[]={}",
    "/api/v2/search?q={}&offset={}&type={}",
    "/api/v1/notifications?types[]={}&limit={}",
    "/api/v1/teams/{}/inbox?filter={}&order={}&after={}&limit={}",
    "/api/v1/teams/{}/figures",
    "/api/v1/timelines/questions?tag={}&community={}&max_id={}",
    "/api/v1/lists/{}",
    "/api/v1/lists/{}/accounts?limit={}&max_id={}",
    "/api/v1/timelines/list/{}?max_id={}&min_id={}",
    "/api/v1/accounts/{}/lists",
]
HEADERS = (
    "Authorization",
    "Idempotency-Key",
    "Accept-Language",
    "Referer",
    "Origin",
    "If-None-Match",
    "Cookie",
)


def _octets(value: str) -> str:
    """A percent-encoded value as a WSGI string: its raw bytes as Latin-1, as a server passes a header."""
    return unquote_to_bytes(value).decode("latin-1")


def _page_values() -> Iterator[str]:
    yield from (value for value in HOSTILE if len(value) < 10_000)
    yield "x" * 6000  # long enough to matter, short enough for any server's request line


def test_pages_take_hostile_values_in_the_path_and_query_without_a_500(app, world, alice):

    token = make_token(alice)
    for page in PAGES:
        client = world if not page.startswith("/api/") else app.test_client()
        headers = token if page.startswith("/api/") else {}
        for value in _page_values():
            url = page.replace("{}", value)
            response = client.get(url, headers=headers)
            assert response.status_code < 500, (url[:120], response.status_code)
            if "?" not in page:  # as a server passes the path: percent-decoded bytes, as Latin-1
                path = _octets(page.replace("{}", value))
                response = client.get("/", headers=headers, environ_overrides={"PATH_INFO": path})
                assert response.status_code < 500, (path[:120], response.status_code)


@pytest.mark.parametrize("header", HEADERS)
def test_headers_take_hostile_values_without_a_500(app, world, alice, header):

    token = make_token(alice)
    anonymous = app.test_client()
    values = [_octets(value) for value in _page_values()] + [
        "Bearer \udc80",
        "\ud800",
        "Bearer " + "x" * 5000,
    ]
    for octets in values:
        if "\r" in octets or "\n" in octets:
            continue  # no server passes a header that holds a line break; Werkzeug refuses to make one
        for client, path, headers in [
            (world, "/", {}),
            (world, "/settings", {}),
            (anonymous, "/api/v1/timelines/home", token),
            (anonymous, "/api/v1/timelines/public", {}),
        ]:
            response = client.get(path, headers=headers | {header: octets})
            assert response.status_code < 500, (header, octets[:40], path, response.status_code)
        before = _stored()
        response = anonymous.post(
            "/api/v1/statuses", data={"status": "with a header"}, headers=token | {header: octets}
        )
        assert response.status_code < 500, (header, octets[:40], response.status_code)
        if response.status_code >= 400:
            assert _stored() == before


# ----------------------------------------------------------------------------- Socket.IO

ODD_PAYLOADS = [
    None,
    "",
    "public",
    42,
    2**80,
    1e308,
    True,
    [],
    ["public"],
    {},
    {"stream": None},
    {"stream": {"x": 1}},
    {"stream": ["public"]},
    {"stream": "public\x00"},
    {"stream": "hashtag"},
    {"stream": "hashtag", "tag": None},
    {"stream": "hashtag", "tag": 7},
    {"stream": "hashtag", "tag": ["apollo"]},
    {"stream": "hashtag", "tag": {"name": "apollo"}},
    {"stream": "hashtag", "tag": "\ud800"},
    {"stream": "hashtag", "tag": "a\x00b"},
    {"stream": "hashtag", "tag": "\u202eapollo"},
    {"stream": "hashtag", "tag": "x" * 100_000},
    {"stream": "hashtag", "tag": "#"},
    {"stream": "user"},
    {"stream": "list", "list": "1"},
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
]


@pytest.fixture
def sio(app, alice):
    http = app.test_client()
    login(http, "alice")
    client = realtime.socketio.test_client(app, flask_test_client=http)
    assert client.is_connected()
    yield client
    if client.is_connected():
        client.disconnect()


@pytest.mark.parametrize("event", ["subscribe", "unsubscribe"])
def test_socketio_events_answer_odd_payloads_with_an_error_and_stay_connected(app, sio, event):
    for payload in ODD_PAYLOADS:
        answer = sio.emit(event, payload, callback=True)
        assert answer == {"ok": True} or "error" in answer, (payload, answer)
        assert sio.is_connected()
    for args in [(), ("public", "extra"), ({"stream": "public"}, {"stream": "public"})]:
        sio.emit(event, *args, callback=True)
        assert sio.is_connected()
    sio.emit("no such event", {"stream": "public"})
    assert sio.is_connected()
    assert sio.emit("subscribe", {"stream": "public"}, callback=True) == {"ok": True}


@pytest.mark.parametrize(
    "auth",
    [
        {"token": "\ud800"},
        {"token": "a\x00b"},
        {"token": {"x": 1}},
        {"token": ["t"]},
        {"token": "x" * 100_000},
        "t",
        5,
    ],
)
def test_socketio_connections_with_odd_credentials_are_refused_cleanly(app, auth):
    client = realtime.socketio.test_client(app, auth=auth)
    assert not client.is_connected()
