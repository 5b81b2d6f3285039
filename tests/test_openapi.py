"""The OpenAPI document (microblog/api/openapi.json): true to the routes both ways, valid OpenAPI 3.1,
true to the scopes each endpoint needs, and true to a real server.

Against a real server process on a fresh database: schemathesis sends every
documented operation generated requests (valid and invalid), then requests on
seeded data that generated ids rarely hit; every response must be no 5xx and
match the document (status code, content type, body schema).  A second, longer
pass sends only invalid data (wrong types, out-of-range numbers, NUL, missing
and extra parameters) and asks one thing of each answer: no 5xx.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import requests
import schemathesis
import websocket
from flask import Flask
from schemathesis import GenerationMode

from config import TestingConfig
from microblog import create_app
from microblog.api.openapi import DOCUMENT
from microblog.services import tokens

from .factories import PASSWORD, make_user
from .server import create_user, flask_cli, free_port, running_server, server_env

# What the document describes: the JSON API, OAuth and its discovery document.
DOCUMENTED_PREFIXES = ("/api/", "/oauth/", "/.well-known/", "/nodeinfo/")
METHODS = {"get", "put", "post", "delete", "patch"}
STREAMS = r"^/api/v1/streaming/(?!health$)"  # held open: schemathesis would wait on them forever
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
]
MAX_EXAMPLES = 50
# The negative-data pass: more examples, one check (invalid data has no documented answer to conform to).
NEGATIVE_EXAMPLES = 200


def _served_document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def bare_app(tmp_path: Path) -> Flask:
    """An app for reading its URL map and serving the document (no database needed)."""
    return create_app(TestingConfig({"MICROBLOG_DATA_DIR": str(tmp_path)}))


def _routes(app: Flask) -> set[tuple[str, str]]:
    """Return (OpenAPI path, method) of every API rule, the trailing-slash twins folded into one."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCUMENTED_PREFIXES):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        path = path.removesuffix("/") or "/"
        found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_route_is_documented_and_every_documented_operation_exists(bare_app):
    documented = {(path, method) for path, method, _ in _operations(json.loads(DOCUMENT.read_text()))}
    routes = _routes(bare_app)

    assert sorted(routes - documented) == [], "routes missing from microblog/api/openapi.json"
    assert sorted(documented - routes) == [], "documented operations that no route serves"
    assert not [path for path, _ in documented if path != "/" and path.endswith("/")]


def test_the_served_document_is_valid_openapi_3_1(bare_app):
    document = _served_document(bare_app)

    assert document["openapi"].startswith("3.1.")
    assert document["servers"] == [{"url": "http://localhost"}]
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(schema)  # each one a valid JSON Schema 2020-12


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_document_is_tidy_self_contained_and_names_every_scope():
    text = DOCUMENT.read_text(encoding="utf-8")
    document = json.loads(text)

    assert text == json.dumps(document, indent=2, ensure_ascii=False) + "\n", (
        "keep the file as json.dumps(document, indent=2, ensure_ascii=False) writes it, with a final newline"
    )
    for ref in _refs(document):
        assert ref.startswith("#/"), f"external $ref {ref}"
        node: Any = document
        for part in ref[2:].split("/"):
            node = node[part]  # resolves
    flows = document["components"]["securitySchemes"]["oauth2"]["flows"]
    assert all(set(flow["scopes"]) == tokens.KNOWN_SCOPES for flow in flows.values())
    ids = [operation["operationId"] for _, _, operation in _operations(document)]
    assert len(ids) == len(set(ids))
    for _, _, operation in _operations(document):
        for requirement in operation["security"]:
            for scopes in requirement.values():
                assert set(scopes) <= tokens.KNOWN_SCOPES


def _needed_scope(operation: dict[str, Any]) -> str | None:
    scopes = {scope for requirement in operation["security"] for scope in requirement.get("bearerAuth", [])}
    assert len(scopes) <= 1
    return next(iter(scopes), None)


def _other_family(scope: str) -> str:
    """Return a scope that grants nothing `scope` needs."""
    return "write:lists" if scope.startswith("read") else "read:lists"


def test_each_operation_needs_exactly_the_documented_scope(app, client):
    user = make_user("alice")
    document = json.loads(DOCUMENT.read_text())
    checked = 0
    for path, method, operation in _operations(document):
        scope = _needed_scope(operation)
        url = re.sub(r"\{[^}]+\}", "1", path)
        if scope is None:
            if not path.startswith("/oauth/"):  # OAuth endpoints authenticate clients, not tokens
                anonymous = client.open(url, method=method)
                assert anonymous.status_code not in (401, 403), (method, path, anonymous.get_json())
            continue
        _, wrong = tokens.create_personal_token(user, f"wrong {checked}", [_other_family(scope)])
        refused = client.open(url, method=method, headers={"Authorization": f"Bearer {wrong}"})
        assert refused.status_code == 403, (method, path, refused.get_json())
        # An event stream is held open once allowed; the WebSocket (no 200) answers a plain GET 426.
        if "text/event-stream" not in json.dumps(operation["responses"].get("200", {})):
            _, right = tokens.create_personal_token(user, f"right {checked}", [scope])
            allowed = client.open(url, method=method, headers={"Authorization": f"Bearer {right}"})
            assert allowed.status_code not in (401, 403), (method, path, allowed.get_json())
        checked += 1
    assert checked > 30


# ------------------------------------------------------------ schemathesis against a real server


def _register_app(url: str) -> dict[str, Any]:
    scopes = "read write follow push"
    data = {"client_name": "openapi test", "redirect_uris": tokens.OOB_REDIRECT, "scopes": scopes}
    response = requests.post(f"{url}/api/v1/apps", data=data, timeout=10)
    response.raise_for_status()
    return response.json()


def _password_grant(url: str, app: dict[str, Any], username: str) -> str:
    """Return an OAuth token for username through the password grant."""
    grant = {
        "grant_type": "password",
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "username": f"{username}@example.com",
        "password": PASSWORD,
        "scope": " ".join(app["scopes"]),
    }
    response = requests.post(f"{url}/oauth/token", data=grant, timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


def _access_token(env: dict[str, str], url: str, app: dict[str, Any], username: str) -> str:
    """Return a personal access token from `users token`, or an OAuth one where that command is missing."""
    try:
        printed = flask_cli(env, "users", "token", username).split()
    except RuntimeError:
        printed = []
    if printed:
        headers = {"Authorization": f"Bearer {printed[-1]}"}
        if requests.get(f"{url}/api/v1/accounts/verify_credentials", headers=headers, timeout=10).ok:
            return printed[-1]
    return _password_grant(url, app, username)


class Api:
    """A few API calls as one user, for seeding."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, **data: str) -> Any:
        response = requests.request(method, self.url + path, data=data, headers=self.headers, timeout=10)
        assert response.status_code == 200, (path, response.text)
        return response.json()

    def post(self, text: str, **data: str) -> str:
        return self.call("POST", "/api/v1/statuses", status=text, **data)["id"]


def _seed(alice: Api, bob: Api) -> dict[str, str]:
    """Posts, a thread, tags, mentions, likes and follows; return the ids of what was made."""
    ids = {
        "alice": alice.call("GET", "/api/v1/accounts/verify_credentials")["id"],
        "bob": bob.call("GET", "/api/v1/accounts/verify_credentials")["id"],
    }
    alice.call("PATCH", "/api/v1/accounts/update_credentials", display_name="Alice A", note="On #apollo.")
    ids["first"] = alice.post("Kickoff for #apollo today https://intra.example")
    ids["reply"] = bob.post("@alice deck is ready", in_reply_to_id=ids["first"])
    ids["thanks"] = alice.post("Thanks @bob!", in_reply_to_id=ids["reply"])
    ids["doomed"] = alice.post("Typo, deleting this")
    for n in range(5):
        bob.post(f"Standup note {n} #ops #apollo")
    bob.call("POST", f"/api/v1/statuses/{ids['first']}/favourite")
    alice.call("POST", f"/api/v1/statuses/{ids['reply']}/favourite")
    bob.call("POST", f"/api/v1/accounts/{ids['alice']}/follow")
    alice.call("POST", f"/api/v1/accounts/{ids['bob']}/follow")
    alice.call("POST", "/api/v1/tags/ops/follow")
    ids["notification"] = alice.call("GET", "/api/v1/notifications")[0]["id"]
    groups = alice.call("GET", "/api/v2/notifications")["notification_groups"]
    ids["follows"] = next(g["group_key"] for g in groups if g["type"] == "follow")
    ids["liked"] = next(g["group_key"] for g in groups if g["type"] == "favourite")
    # A private community alice runs (made with the CLI), which bob asks to join, with a post in it.
    ids["secret"] = alice.call("GET", "/api/v1/accounts/lookup?acct=secret")["id"]
    ids["inside"] = alice.post("@secret roadmap draft")
    bob.call("POST", f"/api/v1/accounts/{ids['secret']}/follow")
    # @it-support (made with the CLI), which alice leads: bob asks it something; a question and its answer.
    ids["support"] = alice.call("GET", "/api/v1/teams")[0]["account"]["id"]
    bob.post("@it-support the VPN drops every hour")
    ids["item"] = alice.call("GET", f"/api/v1/teams/{ids['support']}/inbox")[0]["id"]
    ids["question"] = alice.post("Who owns staging?", question="true")
    ids["answer"] = bob.post("Ops does", in_reply_to_id=ids["question"])
    # A list of accounts with bob on it, and a saved search.
    ids["list"] = alice.call("POST", "/api/v1/lists", title="Team")["id"]
    alice.call("POST", f"/api/v1/lists/{ids['list']}/accounts", **{"account_ids[]": ids["bob"]})
    ids["saved"] = alice.call("POST", "/api/v1/lists", title="search: apollo")["id"]
    return ids


class Site:
    """The running server: its URL, tokens, and the ids of the seeded data."""

    def __init__(self, url: str, token: str, ids: dict[str, str]) -> None:
        self.url = url
        self.token = token
        self.ids = ids


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A real server on a fresh SQLite database with two users and some posts."""
    root = tmp_path_factory.mktemp("openapi")
    env = server_env(
        f"sqlite:///{root / 'microblog.db'}",
        root / "data",
        free_port(),
        # Limits would answer 429 and mask what the endpoints do.
        MICROBLOG_API_RATE_LIMIT="100000 per minute",
        MICROBLOG_LOGIN_RATE_LIMIT="100000 per minute",
    )
    flask_cli(env, "db", "upgrade")
    create_user(env, "alice")
    create_user(env, "bob")
    flask_cli(env, "communities", "create", "secret", "--name", "Secret", "--owner", "alice", "--private")
    flask_cli(
        env, "teams", "create", "it-support", "--name", "IT support", "--lead", "alice", "--member", "bob"
    )
    with running_server(env) as url:
        app = _register_app(url)
        alice = _access_token(env, url, app, "alice")
        ids = _seed(Api(url, alice), Api(url, _access_token(env, url, app, "bob")))
        ids |= {"client_id": app["client_id"], "client_secret": app["client_secret"], "alice_token": alice}
        ids |= {"oauth": _password_grant(url, app, "alice"), "revocable": _password_grant(url, app, "alice")}
        ids["host"] = url.removeprefix("http://")
        yield Site(url, alice, ids)


def _bounded(schema: Any, max_examples: int = MAX_EXAMPLES) -> Any:
    """Set a schema up for a bounded run: no shrinking, a fixed seed, no example database in the repo."""
    schema.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=max_examples,
        no_shrink=True,
        deterministic=True,
        database="none",
        with_security_parameters=False,
    )
    schema.config.checks.update(included_check_names=CHECKS)
    return schema


# Loaded at import (schemathesis makes one test per operation at collection); the server comes later.
documented = _bounded(schemathesis.openapi.from_path(DOCUMENT))
schema = documented.exclude(path_regex=STREAMS)


@pytest.mark.server
@pytest.mark.slow
@schema.parametrize()
def test_the_server_answers_generated_requests_as_documented(case, site):
    case.call_and_validate(base_url=site.url, headers={"Authorization": f"Bearer {site.token}"}, timeout=30)


def _nothing_to_make_invalid(ctx: Any) -> bool:
    """Whether every request of an operation is valid by its document: no body, and no parameter
    but plain strings in the path (an id or a tag name, any string of which the server answers
    404 to).  Schemathesis cannot make a negative case of those; the mixed run above and the path
    fuzzing of tests/test_fuzz_forms.py cover them."""
    definition = ctx.operation.definition.raw
    parameters = definition.get("parameters", [])
    return "requestBody" not in definition and all(
        p.get("in") == "path" and p.get("schema") == {"type": "string"} for p in parameters
    )


# Operations left out rather than collected and skipped ("impossible to generate negative test
# cases"): a skip must mean something is missing.
negative = (
    _bounded(schemathesis.openapi.from_path(DOCUMENT), NEGATIVE_EXAMPLES)
    .exclude(path_regex=STREAMS)
    .exclude(func=_nothing_to_make_invalid)
)
negative.config.generation.update(modes=[GenerationMode.NEGATIVE])
negative.config.checks.update(included_check_names=["not_a_server_error"])


@pytest.mark.slow
@negative.parametrize()
def test_the_server_answers_invalid_requests_without_a_server_error(case, site):
    case.call_and_validate(base_url=site.url, headers={"Authorization": f"Bearer {site.token}"}, timeout=30)


# Requests on the seeded data (generated ids and names rarely hit it): (operation, path, query, body, token).
SEEDED: list[tuple[str, dict[str, str], dict[str, Any], dict[str, Any] | None, str]] = [
    ("GET /api/v1/accounts/{account_id}", {"account_id": "{bob}"}, {}, None, "alice_token"),
    (
        "GET /api/v1/accounts/{account_id}/statuses",
        {"account_id": "{alice}"},
        {"limit": 2},
        None,
        "alice_token",
    ),
    ("GET /api/v1/accounts/{account_id}/followers", {"account_id": "{alice}"}, {}, None, "alice_token"),
    ("GET /api/v1/accounts/{account_id}/following", {"account_id": "{alice}"}, {}, None, "alice_token"),
    ("POST /api/v1/accounts/{account_id}/unfollow", {"account_id": "{bob}"}, {}, None, "alice_token"),
    ("POST /api/v1/accounts/{account_id}/follow", {"account_id": "{bob}"}, {}, None, "alice_token"),
    ("GET /api/v1/accounts/lookup", {}, {"acct": "@bob@{host}"}, None, "alice_token"),
    ("GET /api/v1/accounts/{account_id}", {"account_id": "{secret}"}, {}, None, "alice_token"),
    ("GET /api/v1/accounts/{account_id}/statuses", {"account_id": "{secret}"}, {}, None, "alice_token"),
    ("GET /api/v1/follow_requests", {}, {"limit": 1}, None, "alice_token"),
    ("POST /api/v1/follow_requests/{account_id}/authorize", {"account_id": "{bob}"}, {}, None, "alice_token"),
    ("GET /api/v1/statuses/{post_id}", {"post_id": "{inside}"}, {}, None, "alice_token"),
    ("POST /api/v1/statuses", {}, {}, {"status": "@secret members only", "visibility": "private"}, "oauth"),
    ("GET /api/v1/notifications", {}, {"types[]": ["follow_request"]}, None, "alice_token"),
    ("GET /api/v1/accounts/search", {}, {"q": "bob"}, None, "alice_token"),
    ("GET /api/v1/accounts/relationships", {}, {"id[]": ["{bob}", "{alice}"]}, None, "alice_token"),
    ("GET /api/v1/statuses/{post_id}", {"post_id": "{reply}"}, {}, None, "alice_token"),
    ("GET /api/v1/statuses/{post_id}/context", {"post_id": "{reply}"}, {}, None, "alice_token"),
    ("POST /api/v1/statuses/{post_id}/favourite", {"post_id": "{thanks}"}, {}, None, "alice_token"),
    ("POST /api/v1/statuses/{post_id}/unfavourite", {"post_id": "{thanks}"}, {}, None, "alice_token"),
    ("DELETE /api/v1/statuses/{post_id}", {"post_id": "{doomed}"}, {}, None, "alice_token"),
    (
        "POST /api/v1/statuses",
        {},
        {},
        {"status": "Reply via JSON #apollo", "in_reply_to_id": "{first}"},
        "oauth",
    ),
    (
        "GET /api/v1/notifications/{notification_id}",
        {"notification_id": "{notification}"},
        {},
        None,
        "alice_token",
    ),
    ("GET /api/v1/notifications", {}, {"types[]": ["mention"], "limit": 1}, None, "alice_token"),
    ("GET /api/v2/notifications", {}, {}, None, "alice_token"),
    (
        "GET /api/v2/notifications",
        {},
        {"limit": 1, "expand_accounts": "partial_avatars", "types[]": ["favourite", "follow"]},
        None,
        "alice_token",
    ),
    (
        "GET /api/v2/notifications",
        {},
        {"grouped_types[]": ["follow"], "exclude_types[]": ["mention"], "account_id": "{bob}"},
        None,
        "oauth",
    ),
    ("GET /api/v2/notifications/unread_count", {}, {"limit": 5, "types[]": ["follow"]}, None, "alice_token"),
    ("GET /api/v2/notifications/{group_key}", {"group_key": "{follows}"}, {}, None, "alice_token"),
    ("GET /api/v2/notifications/{group_key}", {"group_key": "ungrouped-{notification}"}, {}, None, "oauth"),
    (
        "GET /api/v2/notifications/{group_key}/accounts",
        {"group_key": "{follows}"},
        {"limit": 1},
        None,
        "oauth",
    ),
    ("GET /api/v1/timelines/tag/{hashtag}", {"hashtag": "Apollo"}, {"limit": 2}, None, "alice_token"),
    ("GET /api/v1/tags/{name}", {"name": "ops"}, {}, None, "alice_token"),
    ("POST /api/v1/tags/{name}/follow", {"name": "apollo"}, {}, None, "alice_token"),
    ("POST /api/v1/tags/{name}/unfollow", {"name": "apollo"}, {}, None, "alice_token"),
    ("GET /api/v1/followed_tags", {}, {}, None, "alice_token"),
    ("GET /api/v2/search", {}, {"q": "apollo"}, None, "alice_token"),
    ("GET /api/v2/search", {}, {"q": "bob", "type": "accounts"}, None, "alice_token"),
    (
        "GET /api/v2/search",
        {},
        {"q": "apollo", "type": "statuses", "max_id": "{thanks}"},
        None,
        "alice_token",
    ),
    ("GET /api/v1/apps/verify_credentials", {}, {}, None, "oauth"),
    ("POST /api/v1/apps", {}, {}, {"client_name": "JSON app", "redirect_uris": ["https://a.example/cb"]}, ""),
    (
        "POST /oauth/token",
        {},
        {},
        {
            "grant_type": "password",
            "client_id": "{client_id}",
            "client_secret": "{client_secret}",
            "username": "bob",
            "password": PASSWORD,
        },
        "",
    ),
    (
        "POST /oauth/revoke",
        {},
        {},
        {"client_id": "{client_id}", "client_secret": "{client_secret}", "token": "{revocable}"},
        "",
    ),
    ("GET /oauth/authorize", {}, {"response_type": "code", "client_id": "{client_id}"}, None, ""),
    ("GET /api/v1/streaming/health", {}, {}, None, ""),
    ("GET /api/v1/teams", {}, {}, None, "alice_token"),
    (
        "GET /api/v1/teams/{team_id}/inbox",
        {"team_id": "{support}"},
        {"filter": "all", "limit": 1},
        None,
        "oauth",
    ),
    (
        "GET /api/v1/teams/{team_id}/inbox",
        {"team_id": "{support}"},
        {"order": "newest", "after": "{item}"},
        None,
        "alice_token",
    ),
    ("GET /api/v1/teams/{team_id}/inbox/counts", {"team_id": "{support}"}, {}, None, "alice_token"),
    ("GET /api/v1/teams/{team_id}/figures", {"team_id": "{support}"}, {}, None, "alice_token"),
    (
        "POST /api/v1/inbox/{item_id}/assign",
        {"item_id": "{item}"},
        {},
        {"account_id": "{alice}"},
        "alice_token",
    ),
    ("POST /api/v1/inbox/{item_id}/unassign", {"item_id": "{item}"}, {}, None, "alice_token"),
    ("POST /api/v1/inbox/{item_id}/close", {"item_id": "{item}"}, {}, {"reason": "Duplicate"}, "alice_token"),
    ("POST /api/v1/inbox/{item_id}/reopen", {"item_id": "{item}"}, {}, None, "alice_token"),
    ("POST /api/v1/inbox/{item_id}/answer", {"item_id": "{item}"}, {}, {"status": "Restart it"}, "oauth"),
    ("POST /api/v1/statuses", {}, {}, {"status": "Is staging up?", "question": True}, "oauth"),
    ("POST /api/v1/statuses/{post_id}/accept", {"post_id": "{answer}"}, {}, None, "alice_token"),
    ("GET /api/v1/timelines/questions", {}, {"limit": 5}, None, "alice_token"),
    ("POST /api/v1/statuses/{post_id}/unaccept", {"post_id": "{question}"}, {}, None, "alice_token"),
    ("GET /api/v1/timelines/questions", {}, {"tag": "apollo"}, None, "alice_token"),
    ("GET /api/v1/lists", {}, {}, None, "alice_token"),
    ("GET /api/v1/lists/{list_id}", {"list_id": "{list}"}, {}, None, "alice_token"),
    ("GET /api/v1/lists/{list_id}", {"list_id": "{saved}"}, {}, None, "alice_token"),
    ("GET /api/v1/lists/{list_id}/accounts", {"list_id": "{list}"}, {"limit": 0}, None, "alice_token"),
    ("GET /api/v1/lists/{list_id}/accounts", {"list_id": "{list}"}, {"limit": 1}, None, "alice_token"),
    ("GET /api/v1/timelines/list/{list_id}", {"list_id": "{list}"}, {"limit": 2}, None, "alice_token"),
    ("GET /api/v1/timelines/list/{list_id}", {"list_id": "{saved}"}, {}, None, "alice_token"),
    ("GET /api/v1/accounts/{account_id}/lists", {"account_id": "{bob}"}, {}, None, "alice_token"),
    (
        "PUT /api/v1/lists/{list_id}",
        {"list_id": "{saved}"},
        {},
        {"title": "apollo #ops", "notify": True},
        "alice_token",
    ),
    ("POST /api/v1/lists", {}, {}, {"title": "search: #ops", "replies_policy": "none"}, "oauth"),
    (
        "DELETE /api/v1/lists/{list_id}/accounts",
        {"list_id": "{list}"},
        {},
        {"account_ids": ["{bob}"]},
        "alice_token",
    ),
    (
        "POST /api/v1/lists/{list_id}/accounts",
        {"list_id": "{list}"},
        {},
        {"account_ids": ["{bob}"]},
        "alice_token",
    ),
    ("POST /api/v2/notifications/{group_key}/dismiss", {"group_key": "{liked}"}, {}, None, "alice_token"),
]


def _filled(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_filled(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _filled(item, ids) for key, item in value.items()}
    return value


@pytest.mark.server
@pytest.mark.parametrize(("operation", "path", "query", "body", "token"), SEEDED, ids=[c[0] for c in SEEDED])
def test_the_server_answers_requests_on_seeded_data_as_documented(site, operation, path, query, body, token):
    method, template = operation.split(" ")
    api = documented[template][method]
    payload: dict[str, Any] = {}
    if body is not None:
        json_body = "application/json" in api.definition.raw["requestBody"]["content"]
        payload["media_type"] = "application/json" if json_body else "application/x-www-form-urlencoded"
        payload["body"] = _filled(body, site.ids)
    case = api.Case(path_parameters=_filled(path, site.ids), query=_filled(query, site.ids), **payload)
    headers = {"Authorization": f"Bearer {site.ids[token]}"} if token else {}
    response = case.call_and_validate(base_url=site.url, headers=headers, timeout=30)
    assert response.status_code == (302 if template == "/oauth/authorize" else 200), response.text


@pytest.mark.server
@pytest.mark.parametrize(
    "path", [path for path in json.loads(DOCUMENT.read_text())["paths"] if re.match(STREAMS, path)]
)
def test_the_streams_answer_as_documented(site, path):
    operation = documented[path]["GET"]
    names = {p["name"] for p in operation.definition.raw["parameters"]}
    query = {"tag": "apollo"} if "tag" in names else {"list": site.ids["saved"]} if "list" in names else {}
    headers = {"Authorization": f"Bearer {site.token}"}
    with requests.get(site.url + path, params=query, headers=headers, stream=True, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert list(operation.definition.raw["responses"]["200"]["content"]) == ["text/event-stream"]
        assert next(response.iter_content(chunk_size=None)).startswith(b":")
    # Refusals are documented JSON: no token, and (for hashtags) a bad tag.
    operation.Case(query=query).call_and_validate(base_url=site.url, timeout=10)
    if "tag" in query:
        bad = operation.Case(query={"tag": "!!"}, headers=headers)
        assert bad.call_and_validate(base_url=site.url, timeout=10).status_code == 422
    if "list" in query:  # a list that is not the token's user's: not found
        missing = operation.Case(query={"list": "99999"}, headers=headers)
        assert missing.call_and_validate(base_url=site.url, timeout=10).status_code == 404


@pytest.mark.server
def test_the_websocket_answers_as_documented(site):
    # Generated requests reach it too (it is not held open short of a handshake); these are its answers.
    operation = documented["/api/v1/streaming"]["GET"]
    assert "/api/v1/streaming" in {op.path for op in (r.ok() for r in schema.get_all_operations())}
    headers = {"Authorization": f"Bearer {site.token}"}
    plain = operation.Case(query={"stream": "user"}, headers=headers).call_and_validate(
        base_url=site.url, timeout=10
    )
    assert plain.status_code == 426
    assert operation.Case().call_and_validate(base_url=site.url, timeout=10).status_code == 401
    url = site.url.replace("http://", "ws://") + "/api/v1/streaming?stream=public"
    socket = websocket.create_connection(url, header=[f"Authorization: Bearer {site.token}"], timeout=10)
    try:
        assert socket.getstatus() == 101 and "101" in operation.definition.raw["responses"]
    finally:
        socket.close()
