"""The visibility matrix: a private community's posts reach its members, and nobody else, on every path.

One world per test (tests/visibility_world.py); each test is one path (or a
few of one kind), checked for every role at once, so that the world is built
once and a failure lists every role and path that leaked.  Each check has a
control: the member does see the private post, and everyone sees the public one.
Realtime paths are in test_visibility_streams.py, two processes in
test_visibility_processes.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

import search
from config import TestingConfig
from microblog.database import db
from microblog.services import communities, visibility
from microblog.services.errors import ValidationError
from models import Notification, Post, User
from models.post import PUBLIC

from .conftest import empty_database
from .factories import login, make_community, make_post, make_user
from .visibility_world import (
    MISSING_POST,
    NEVER_USED_TAG,
    OUTSIDERS,
    ROLES,
    SECRET_TAG,
    SIGNED_IN,
    WEB_ROLES,
    Matrix,
    World,
    build_world,
    mentions_secret,
    post_ids_in_html,
    status_ids,
)

# (database, search backend): every test runs on both databases; search tests on both backends too.
STACKS = [("sqlite", "whoosh"), ("postgresql", "whoosh")]
SEARCH_STACKS = [*STACKS, ("postgresql", "postgres")]


def _stack_id(stack: tuple[str, str]) -> str:
    return "-".join(stack)


@pytest.fixture(params=STACKS, ids=_stack_id)
def stack(request: pytest.FixtureRequest) -> tuple[str, str]:
    """The database and search backend under test."""
    return request.param


@pytest.fixture
def database_url(request: pytest.FixtureRequest, stack: tuple[str, str], tmp_path: Path) -> str:
    """A migrated, empty database of the stack's kind."""
    return empty_database(request, stack[0], tmp_path)


@pytest.fixture
def config(database_url: str, tmp_path: Path, stack: tuple[str, str]) -> TestingConfig:
    """The test configuration with the stack's search backend; no rate limits (one client, many readers)."""
    config = TestingConfig(
        {
            "MICROBLOG_DATABASE_URL": database_url,
            "MICROBLOG_DATA_DIR": str(tmp_path / "data"),
            "MICROBLOG_SEARCH_BACKEND": stack[1],
        }
    )
    config.RATELIMIT_ENABLED = False
    return config


@pytest.fixture
def world(app) -> World:
    """The private community, its posts, and the people around it."""
    return build_world()


@pytest.fixture
def browsers(app, world: World) -> dict[str, FlaskClient]:
    """A browser per role, logged in as its person (anonymous: logged out)."""
    clients = {}
    for role in WEB_ROLES:
        clients[role] = app.test_client()
        person = world.user(role)
        if person is not None:
            login(clients[role], person.username)
    return clients


# -- 1. the rule, three ways -------------------------------------------------------


@pytest.mark.parametrize("stack", SEARCH_STACKS, ids=_stack_id, indirect=True)
def test_predicate_audience_and_search_reader_agree(app, stack):
    owner = make_user("owner")
    member, removed, left, requester, stranger = (
        make_user(n) for n in ("member", "removed", "left", "requester", "stranger")
    )
    admin = make_user("siteadmin", is_admin=True)
    private = make_community(owner, "hush", private=True, members=(member, removed, left))
    open_ = make_community(owner, "agora", members=(member, left))
    communities.join(requester, private)
    made = [
        make_post(owner, "matrix public"),
        make_post(owner, "@agora matrix in a public community"),
        make_post(owner, "@hush matrix in a private community"),
    ]
    made += [
        make_post(member, "matrix reply in private", in_reply_to=made[2].id),
        make_post(member, "matrix reply in public community", in_reply_to=made[1].id),
        make_post(
            left, "matrix public reply to the private community's public neighbour", in_reply_to=made[0].id
        ),
    ]
    communities.remove_member(None, private, removed)
    communities.leave(left, private)
    search.drain()
    assert open_.locked is False
    readers: dict[str, User | None] = {
        "owner": owner,
        "member": member,
        "removed": removed,
        "left": left,
        "requester": requester,
        "stranger": stranger,
        "siteadmin": admin,
        "anonymous": None,
    }
    post_ids = [p.id for p in made]
    private_ids = {made[2].id, made[3].id}
    for name, reader in readers.items():
        viewer_id = reader.id if reader else 0
        by_predicate = set(db.session.scalars(select(Post.id).where(visibility.post_is_visible(viewer_id))))
        by_audience = {pid for pid in post_ids if visibility.audience(pid).admits(viewer_id)}
        scope = visibility.search_reader(reader)
        by_reader = set(db.session.scalars(select(Post.id).where(scope.visible)))
        by_index_scope = {p.id for p in made if p.visibility == PUBLIC or p.community_id in scope.communities}
        hits = search.search_posts(search.parse_query("matrix"), search.PageRequest(limit=40), reader=scope)
        expected = set(post_ids) if name in ("owner", "member") else set(post_ids) - private_ids
        assert by_predicate == by_audience == by_reader == by_index_scope == set(hits.ids) == expected, name
    # The audience of a post that does not exist is nobody: fail closed.
    assert visibility.audience(MISSING_POST).members == frozenset()


def test_a_reply_stays_in_its_posts_community(app, world):
    mia = world.users["mia"]
    reply = db.session.get_one(Post, world.ids["member_reply"])
    assert reply.community_id == world.community.id and reply.visibility != PUBLIC
    with pytest.raises(ValidationError):  # a public post's reply cannot move into the private community
        make_post(mia, "@skunkworks zebra sneaking in", in_reply_to=world.ids["control"])
    assert db.session.get_one(Post, world.ids["control"]).reply_count == 1


# -- 2. the matrix: web feeds ------------------------------------------------------

# path, public posts every signed-in reader sees there, private posts the member sees there.
WEB_FEEDS = [
    ("/", {"control"}, {"secret", "member_reply", "rex_reply", "lea_post", "late_reply"}),
    ("/public", {"control", "control_reply"}, {"secret", "member_reply", "lea_post", "late_reply"}),
    ("/tags/skunk", {"control"}, {"secret"}),
    ("/tags/" + SECRET_TAG, set(), {"secret"}),
    ("/mentions", {"control"}, {"secret"}),
    ("/@owen", {"control", "morning"}, {"secret"}),
    ("/@mia", set(), {"member_reply", "late_reply"}),
    ("/@rex", set(), {"rex_reply"}),
    ("/@lea", set(), {"lea_post"}),
    ("/posts/{control}", {"control", "control_reply"}, set()),
    ("/posts/{secret}", set(), {"secret", "member_reply", "rex_reply", "late_reply"}),
    ("/posts/{late_reply}", set(), {"secret", "rex_reply", "late_reply"}),
    # the "older posts" fragments, and the catch-up (min_id) after a reconnect
    ("/?fragment=1&max_id={late_reply}", {"control"}, {"secret", "member_reply", "rex_reply", "lea_post"}),
    ("/?fragment=1&min_id={morning}", {"control"}, {"secret", "late_reply"}),
    ("/public?fragment=1&since_id={morning}", {"control"}, {"secret"}),
    ("/tags/skunk?fragment=1&min_id={morning}", {"control"}, {"secret"}),
    ("/tags/skunk?fragment=1&max_id=999999", {"control"}, {"secret"}),
    ("/@owen?fragment=1&min_id={morning}", {"control"}, {"secret"}),
    ("/@owen?fragment=1&max_id=999999", {"control"}, {"secret"}),
    ("/mentions?fragment=1&min_id={morning}", {"control"}, {"secret"}),
]


def test_web_feeds_threads_and_fragments(world, browsers):
    matrix = Matrix()
    for path, public, private in WEB_FEEDS:
        url = world.fill(path)
        public_ids = {world.ids[k] for k in public}
        private_ids = {world.ids[k] for k in private}
        for role in WEB_ROLES:
            response = browsers[role].get(url)
            body = response.get_data(as_text=True)
            shown = post_ids_in_html(body)
            if SECRET_TAG in url:  # the page names the tag it was asked for
                body = body.replace(SECRET_TAG, "")
            if role == "anonymous":
                sent = response.status_code == 302 and "/login" in response.location
                matrix.check(sent, role, url, "not sent to log in")
            elif role == "member" or public_ids:
                matrix.check(response.status_code == 200, role, url, f"status {response.status_code}")
            if role == "member":
                matrix.check(private_ids <= shown, role, url, f"control: member misses {private_ids - shown}")
            else:
                matrix.check(not shown & world.private, role, url, f"shows private {shown & world.private}")
                matrix.check(not mentions_secret(body), role, url, "private text in the page")
            if role != "anonymous":
                matrix.check(public_ids <= shown, role, url, f"control: misses public {public_ids - shown}")
    matrix.done()


def test_web_pages_answer_as_for_nothing_where_only_private_posts_are(world, browsers):
    """A private post's page, a tag only private posts use: outsiders get what a missing one gets."""
    matrix = Matrix()
    # (what is asked for, what no one has): the answers must be the same but for that name.
    cases = [
        (str(world.ids[k]), str(MISSING_POST), "/posts/{}") for k in ("secret", "member_reply", "late_reply")
    ]
    cases += [(SECRET_TAG, NEVER_USED_TAG, "/tags/{}"), (SECRET_TAG, NEVER_USED_TAG, "/tags/{}/followers")]
    for hidden, absent, template in cases:
        url, nowhere = template.format(hidden), template.format(absent)
        for role in WEB_ROLES:
            client = browsers[role]
            expected = client.get(nowhere)
            got = client.get(url)
            if role == "member":
                matrix.check(got.status_code == 200, role, url, "control: member cannot open it")
                continue
            want = (expected.status_code, _anonymized(expected.get_data(as_text=True), nowhere, absent))
            answer = (got.status_code, _anonymized(got.get_data(as_text=True), url, hidden))
            matrix.check(answer == want, role, url, f"answers {got.status_code}, not as for nothing")
            matrix.check(got.status_code != 403, role, url, "forbidden instead of not found")
    matrix.done()


def _anonymized(body: str, url: str, name: str) -> str:
    """Return a body without the path and the name (a tag's; a post id's digits are everywhere) asked for."""
    body = body.replace(url, "URL").replace(quote(url, safe=""), "URL")  # the login redirect's ?next=
    return body if name.isdigit() else body.replace(name, "X")


# -- 2. the matrix: API ------------------------------------------------------------

API_FEEDS = [
    (
        "/api/v1/timelines/home",
        {"control"},
        {"secret", "member_reply", "rex_reply", "lea_post", "late_reply"},
    ),
    ("/api/v1/timelines/public", {"control", "control_reply"}, {"secret", "lea_post"}),
    ("/api/v1/timelines/public?local=true&min_id={morning}", {"control"}, {"secret"}),
    ("/api/v1/timelines/home?since_id={morning}", {"control"}, {"secret"}),
    ("/api/v1/timelines/home?max_id={late_reply}", {"control"}, {"secret"}),
    ("/api/v1/timelines/tag/skunk", {"control"}, {"secret"}),
    ("/api/v1/timelines/tag/" + SECRET_TAG, set(), {"secret"}),
    ("/api/v1/accounts/{owen_id}/statuses", {"control", "morning"}, {"secret"}),
    ("/api/v1/accounts/{mia_id}/statuses", set(), {"member_reply", "late_reply"}),
    ("/api/v1/accounts/{rex_id}/statuses", set(), {"rex_reply"}),
    ("/api/v1/accounts/{lea_id}/statuses", set(), {"lea_post"}),
    ("/api/v1/accounts/{community_id}/statuses", set(), {"secret", "lea_post"}),
    ("/api/v1/statuses/{control}/context", {"control_reply"}, set()),
    ("/api/v1/statuses/{secret}/context", set(), {"member_reply", "rex_reply", "late_reply"}),
    ("/api/v1/statuses/{late_reply}/context", set(), {"secret", "rex_reply"}),
    ("/api/v1/statuses/{secret}", set(), {"secret"}),
    ("/api/v1/statuses/{control}", {"control"}, set()),
]


def test_api_statuses_contexts_and_timelines(client, world):
    matrix = Matrix()
    for path, public, private in API_FEEDS:
        url = world.fill(path)
        public_ids = {world.ids[k] for k in public}
        private_ids = {world.ids[k] for k in private}
        for role in ROLES:
            response = client.get(url, headers=world.auth(role))
            body = response.get_data(as_text=True) + response.headers.get("Link", "")
            shown = status_ids(response.get_json(silent=True))
            if SECRET_TAG in url:  # the Link header names the tag asked for
                body = body.replace(SECRET_TAG, "")
            status = response.status_code
            if role == "anonymous":
                matrix.check(status == 401, role, url, f"status {status} without a token")
            elif role == "member" or public_ids or not private_ids:
                matrix.check(status == 200, role, url, f"status {status}")
            else:
                matrix.check(status in (200, 404), role, url, f"status {status}")
            if role == "member":
                matrix.check(private_ids <= shown, role, url, f"control: member misses {private_ids - shown}")
            else:
                matrix.check(
                    not shown & world.private, role, url, f"private statuses {shown & world.private}"
                )
                matrix.check(not mentions_secret(body), role, url, "private text in the answer")
            if role != "anonymous":
                matrix.check(public_ids <= shown, role, url, f"control: misses public {public_ids - shown}")
    matrix.done()


def test_api_errors_say_not_found_as_for_a_missing_post(client, world):
    matrix = Matrix()
    requests = [
        ("GET", "/api/v1/statuses/{id}", {}),
        ("GET", "/api/v1/statuses/{id}/context", {}),
        ("POST", "/api/v1/statuses/{id}/favourite", {}),
        ("POST", "/api/v1/statuses/{id}/unfavourite", {}),
        ("DELETE", "/api/v1/statuses/{id}", {}),
        ("POST", "/api/v1/statuses", {"json": {"status": "me too", "in_reply_to_id": "{id}"}}),
    ]
    for role in OUTSIDERS:  # members act on their posts: their answers are the features' tests
        if role == "anonymous":
            continue
        headers = world.auth(role)
        for method, template, extra in requests:
            if role == "readonly" and method != "GET":
                continue  # a read-only token is refused writing anything (403 for its scope, by design)
            for key in ("secret", "member_reply", "lea_post"):

                def fill(value: int, extra=extra) -> dict:
                    if "json" in extra:
                        return {"json": {**extra["json"], "in_reply_to_id": str(value)}}
                    return {}

                url = template.replace("{id}", str(world.ids[key]))
                missing = client.open(
                    template.replace("{id}", str(MISSING_POST)),
                    method=method,
                    headers=headers,
                    **fill(MISSING_POST),
                )
                got = client.open(url, method=method, headers=headers, **fill(world.ids[key]))
                matrix.check(got.status_code == 404, role, f"{method} {url}", f"status {got.status_code}")
                matrix.check(
                    got.get_json() == missing.get_json(),
                    role,
                    f"{method} {url}",
                    f"{got.get_json()} != {missing.get_json()}",
                )
                matrix.check(
                    "does not exist" in got.get_data(as_text=True), role, f"{method} {url}", "wording"
                )
    assert db.session.get(Post, world.ids["secret"]) is not None  # the site admin deleted nothing
    assert db.session.scalar(select(Post).where(Post.text == "me too")) is None
    matrix.done()


def test_web_actions_on_private_posts_are_not_found_for_outsiders(world, browsers):
    matrix = Matrix()
    for role in WEB_ROLES:
        if role in ("member", "anonymous"):
            continue
        client = browsers[role]
        for action in ("like", "unlike", "delete"):
            missing = client.post(f"/posts/{MISSING_POST}/{action}")
            got = client.post(f"/posts/{world.ids['secret']}/{action}")
            url = f"POST /posts/<secret>/{action}"
            matrix.check(got.status_code == 404, role, url, f"status {got.status_code}")
            same = got.get_data(as_text=True) == missing.get_data(as_text=True)
            matrix.check(same, role, url, "answers differently from a missing post")
        missing = client.post("/posts", data={"text": "me too", "in_reply_to": str(MISSING_POST)})
        got = client.post("/posts", data={"text": "me too", "in_reply_to": str(world.ids["secret"])})
        matrix.check(
            got.status_code == missing.status_code == 404, role, "POST /posts reply", f"{got.status_code}"
        )
    assert db.session.get(Post, world.ids["secret"]).like_count == 2
    matrix.done()


def test_api_counts_do_not_count_private_posts(client, world):
    matrix = Matrix()
    expected_counts = {"owen": 2, "mia": 0, "rex": 0, "lea": 0, "nora": 1, "skunkworks": 0}
    for role in SIGNED_IN:
        headers = world.auth(role)
        for name, count in expected_counts.items():
            account = world.users.get(name) or world.community
            data = client.get(f"/api/v1/accounts/{account.id}", headers=headers).get_json()
            matrix.check(
                data["statuses_count"] == count, role, f"@{name} statuses_count", str(data["statuses_count"])
            )
        control = client.get(f"/api/v1/statuses/{world.ids['control']}", headers=headers).get_json()
        matrix.check(
            control["replies_count"] == 1, role, "control replies_count", str(control["replies_count"])
        )
        matrix.check(control["favourites_count"] == 1, role, "control favourites_count", str(control))
        secret = client.get(f"/api/v1/statuses/{world.ids['secret']}", headers=headers).get_json()
        if role == "member":  # the control: members see the counts of their community's post
            matrix.check(
                secret["replies_count"] == 2 and secret["favourites_count"] == 2,
                role,
                "secret counts",
                str(secret),
            )
        tag = client.get(f"/api/v1/tags/{SECRET_TAG}", headers=headers).get_json()
        unused = client.get(f"/api/v1/tags/{NEVER_USED_TAG}", headers=headers).get_json()
        same = json.dumps(tag).replace(SECRET_TAG, "X") == json.dumps(unused).replace(NEVER_USED_TAG, "X")
        matrix.check(same or role == "member", role, f"tag #{SECRET_TAG}", f"{tag} != {unused}")
    instance = client.get("/api/v1/instance").get_json()
    matrix.check(
        instance["stats"]["status_count"] == len(world.public),
        "anonymous",
        "instance",
        str(instance["stats"]),
    )
    matrix.done()


# -- 2. the matrix: notifications ---------------------------------------------------


def test_notifications_reach_and_show_members_only(client, world, browsers):
    matrix = Matrix()
    for role in SIGNED_IN:
        person = world.user(role)
        assert person is not None
        api = client.get("/api/v1/notifications?limit=40", headers=world.auth(role))
        listed = api.get_json()
        about = {int(n["status"]["id"]) for n in listed if n.get("status")}
        body = api.get_data(as_text=True)
        if role == "member":
            matrix.check(
                world.ids["secret"] in about, role, "notifications", "control: member not told of the mention"
            )
        else:
            matrix.check(
                not about & world.private, role, "API notifications", f"about {about & world.private}"
            )
            matrix.check(not mentions_secret(body), role, "API notifications", "private text")
        matrix.check(world.ids["control"] in about, role, "API notifications", "control: the public mention")
        rows = db.session.scalars(select(Notification).where(Notification.user_id == person.id)).all()
        for note in rows:  # every hidden notification answers as a missing one
            if note.post_id in world.private and role != "member":
                one = client.get(f"/api/v1/notifications/{note.id}", headers=world.auth(role))
                matrix.check(one.status_code == 404, role, f"notification {note.id}", f"{one.status_code}")
        if role in ("nonmember", "readonly", "requester", "siteadmin"):
            told = {n.post_id for n in rows} & world.private
            matrix.check(not told, role, "notification rows", f"told about {told}")
        if role in ("removed", "left"):  # nothing after they went: the late reply, the likes of their posts
            late = [
                n
                for n in rows
                if n.post_id in world.private and n.id > world.ids["last_note_before_departures"]
            ]
            matrix.check(not late, role, "notification rows", f"told after leaving: {[n.kind for n in late]}")
        if role == "readonly":
            continue
        page = browsers[role].get("/notifications").get_data(as_text=True)
        shown = post_ids_in_html(page)
        unread = browsers[role].get("/notifications/unread").get_json()["count"]
        matrix.check(unread == len(listed), role, "unread count", f"{unread} unread, {len(listed)} listed")
        if role == "member":
            matrix.check(world.ids["secret"] in shown, role, "/notifications", "control")
        else:
            matrix.check(
                not shown & world.private and not mentions_secret(page), role, "/notifications", "leak"
            )
    for role in ("anonymous",):
        matrix.check(
            client.get("/api/v1/notifications").status_code == 401, role, "API notifications", "status"
        )
        response = browsers[role].get("/notifications/unread")
        matrix.check(response.status_code == 302, role, "/notifications/unread", str(response.status_code))
    matrix.done()


# -- 2. the matrix: search, exports, avatars ----------------------------------------

# query, what everyone finds (public posts), what the member finds too (private posts).
SEARCHES = [
    ("launch", {"control"}, {"secret"}),
    ("quokka", set(), {"member_reply"}),
    ("launch from:owen", {"control"}, {"secret"}),
    ("#skunk", {"control"}, {"secret"}),
    ("#" + SECRET_TAG, set(), {"secret"}),
    ("@nora", {"control"}, set()),
    ("@mia launch", {"control"}, {"secret"}),
]


@pytest.mark.parametrize("stack", SEARCH_STACKS, ids=_stack_id, indirect=True)
def test_search_posts_snippets_people_and_tags(client, world, browsers, stack):
    matrix = Matrix()
    for query, public, private in SEARCHES:
        public_ids = {world.ids[k] for k in public}
        private_ids = {world.ids[k] for k in private}
        for order in ("", "newest"):
            for role in ROLES:
                api = client.get(
                    "/api/v2/search",
                    query_string={"q": query, "max_id": "999999" if order else ""},
                    headers=world.auth(role),
                )
                where = f"API search {query!r} {order}"
                if role == "anonymous":
                    matrix.check(api.status_code == 401, role, where, str(api.status_code))
                else:
                    _check_found(
                        matrix, world, role, where, status_ids(api.get_json()), public_ids, private_ids
                    )
                    _check_text(matrix, role, where, api.get_data(as_text=True), query)
                if role not in WEB_ROLES:
                    continue
                page = browsers[role].get("/search", query_string={"q": query, "order": order})
                where = f"/search {query!r} {order}"
                if role == "anonymous":
                    matrix.check(page.status_code == 302, role, where, str(page.status_code))
                    continue
                body = page.get_data(as_text=True)
                _check_found(matrix, world, role, where, post_ids_in_html(body), public_ids, private_ids)
                _check_text(matrix, role, where, body, query)
                if private_ids and role == "member":
                    matrix.check("<mark>" in body, role, where, "control: no highlight for the member")
    for role in SIGNED_IN:  # tag suggestions: the private tag is its members' business
        for query in (SECRET_TAG, "zebra", "#zebr"):
            tags = client.get(
                "/api/v2/search", query_string={"q": query, "type": "hashtags"}, headers=world.auth(role)
            )
            names = [t["name"] for t in tags.get_json()["hashtags"]]
            offered = SECRET_TAG in names
            matrix.check(offered == (role == "member"), role, f"tag suggestions {query!r}", str(names))
            if role in WEB_ROLES:
                body = browsers[role].get("/search", query_string={"q": query}).get_data(as_text=True)
                linked = f'href="/tags/{SECRET_TAG}"' in body
                matrix.check(linked == (role == "member"), role, f"/search tags {query!r}", "tag offered")
        people = client.get(
            "/api/v2/search", query_string={"q": "nora", "type": "accounts"}, headers=world.auth(role)
        )
        matrix.check(
            [a["username"] for a in people.get_json()["accounts"]] == ["nora"], role, "people", "control"
        )
    matrix.done()


def _check_found(matrix, world, role, where, found, public_ids, private_ids) -> None:
    matrix.check(public_ids <= found, role, where, f"control: misses public {public_ids - found}")
    if role == "member":
        matrix.check(private_ids <= found, role, where, f"control: member misses {private_ids - found}")
    else:
        matrix.check(not found & world.private, role, where, f"finds private {found & world.private}")


def _check_text(matrix, role, where, body: str, query: str) -> None:
    """No private text outside the echo of the query (a query may hold the secret tag's name)."""
    if role == "member":
        return
    echoed = body
    for form in {query, query.lstrip("#"), query.replace("#", "%23"), query.replace("@", "%40")}:
        echoed = echoed.replace(form, "")
    matrix.check(not mentions_secret(echoed), role, where, "private text (snippet or highlight)")


def test_exports_hold_only_what_the_person_may_see(app, world):
    matrix = Matrix()
    runner = app.test_cli_runner()
    for role in SIGNED_IN:
        person = world.user(role)
        assert person is not None
        result = runner.invoke(args=["users", "export", person.username])
        matrix.check(result.exit_code == 0, role, "users export", result.output[-300:])
        data = json.loads(result.stdout)
        exported = {p["id"] for p in data["posts"]} | set(data["liked_post_ids"])
        if role == "member":
            wanted = {world.ids["member_reply"], world.ids["secret"], world.ids["late_reply"]}
            matrix.check(wanted <= exported, role, "users export", f"control: misses {wanted - exported}")
        else:
            matrix.check(
                not exported & world.private, role, "users export", f"holds {exported & world.private}"
            )
            matrix.check(not mentions_secret(result.stdout), role, "users export", "private text")
    matrix.done()


def test_avatars_are_the_same_for_everyone(world, browsers):
    matrix = Matrix()
    for name in ("skunkworks", "owen", "rex"):
        answers = {role: browsers[role].get(f"/avatars/{name}.svg") for role in WEB_ROLES}
        first = answers["member"]
        matrix.check(first.status_code == 200, "member", f"avatar {name}", "control")
        for role, answer in answers.items():
            same = (answer.status_code, answer.data) == (first.status_code, first.data)
            matrix.check(
                same and not mentions_secret(answer.get_data(as_text=True)), role, f"avatar {name}", "differs"
            )
    matrix.done()
