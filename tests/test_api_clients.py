"""Real Mastodon clients nobody here wrote (Mastodon.py, toot) against a real server process."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonUnauthorizedError,
    StreamListener,
)

from .factories import PASSWORD
from .live import LiveClient, _csrf_token
from .server import client_site, running_server

# Every test here drives a client against a real server process.
pytestmark = pytest.mark.server

OOB = "urn:ietf:wg:oauth:2.0:oob"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One gunicorn + gevent process (production mode) on SQLite, with alice, bob and carol."""
    env = client_site(tmp_path_factory.mktemp("api-clients"), "alice", "bob", "carol")
    with running_server(env, gunicorn=True) as url:
        yield url


def mastodon_for(url: str, username: str) -> Mastodon:
    """Register an app and log in with the password grant, as a bot would."""
    client_id, client_secret = Mastodon.create_app("microblog tests", api_base_url=url)
    client = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=url)
    # Over plain http, Mastodon.py wants to be told that is intended (loopback here).
    client.log_in(f"{username}@example.com", PASSWORD, allow_http=True)
    return client


def consent_in_browser(url: str, username: str, authorize_url: str) -> str:
    """Do what the person does in the browser: log in, open the app's link, authorize; return the code."""
    browser = LiveClient(url, username)
    page = browser.http.get(authorize_url)
    assert page.status_code == 200 and "Authorize" in page.text, page.text[:300]
    action = urlsplit(authorize_url)
    response = browser.http.post(
        f"{url}{action.path}?{action.query}",
        data={"decision": "approve", "csrf_token": _csrf_token(page.text)},
        allow_redirects=False,
    )
    if response.status_code == 302:
        return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]
    match = re.search(r'value="([^"]+)"[^>]*data-code', response.text)
    assert match, response.text[:500]
    return match.group(1)


def test_mastodon_py_logs_in_with_the_authorization_code_flow(server):
    client_id, client_secret = Mastodon.create_app("code flow", api_base_url=server)
    client = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=server)
    link = client.auth_request_url(redirect_uris=OOB, allow_http=True)
    code = consent_in_browser(server, "carol", link)
    client.log_in(code=code, allow_http=True)
    assert client.account_verify_credentials().username == "carol"
    with pytest.raises(MastodonIllegalArgumentError, match="invalid_grant"):
        client.log_in(code=code, allow_http=True)  # a code works once


def test_authorization_code_with_pkce_then_mastodon_py(server):
    # Mastodon.py 2.3 does not send PKCE itself: the exchange is done by hand, the token used by it.
    client_id, client_secret = Mastodon.create_app("pkce", api_base_url=server, redirect_uris=OOB)
    verifier = base64.urlsafe_b64encode(os.urandom(40)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    link = (
        requests.Request(
            "GET",
            f"{server}/oauth/authorize",
            params={
                "client_id": client_id,
                "response_type": "code",
                "redirect_uri": OOB,
                "scope": "read write",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        .prepare()
        .url
    )
    code = consent_in_browser(server, "carol", link)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": OOB}
    form |= {"client_id": client_id, "client_secret": client_secret}
    assert requests.post(f"{server}/oauth/token", data=form).status_code == 400  # no verifier
    code = consent_in_browser(server, "carol", link)
    token = requests.post(f"{server}/oauth/token", data=form | {"code": code, "code_verifier": verifier})
    assert token.status_code == 200, token.text
    client = Mastodon(access_token=token.json()["access_token"], api_base_url=server)
    assert client.account_verify_credentials().username == "carol"


def test_mastodon_py_statuses_threads_and_favourites(server):
    alice, bob = mastodon_for(server, "alice"), mastodon_for(server, "bob")
    first = alice.status_post("Apollo 2.1 is in staging #apollo")
    assert first.url.endswith(f"/posts/{first.id}") and first.tags[0].name == "apollo"
    reply = bob.status_post("@alice nice, testing it now", in_reply_to_id=first.id)
    assert reply.in_reply_to_id == first.id and reply.mentions[0].username == "alice"
    assert [s.id for s in alice.status_context(first.id).descendants] == [reply.id]
    assert alice.status_context(reply.id).ancestors[0].id == first.id
    assert bob.status_favourite(first.id).favourited is True
    assert alice.status(first.id).favourites_count == 1
    assert bob.status_unfavourite(first.id).favourites_count == 0
    assert bob.status_delete(reply.id).text == "@alice nice, testing it now"
    with pytest.raises(MastodonAPIError):
        alice.status(reply.id)
    with pytest.raises(MastodonAPIError):
        bob.status_delete(first.id)  # not bob's


def test_mastodon_py_timelines_and_paging(server):
    alice = mastodon_for(server, "alice")
    ids = [alice.status_post(f"Paging check {i} #paging").id for i in range(5)]
    page = alice.timeline_hashtag("paging", limit=2)
    assert [s.id for s in page] == [ids[4], ids[3]]
    older = alice.fetch_next(page)
    assert [s.id for s in older] == [ids[2], ids[1]]
    assert [s.id for s in alice.fetch_previous(older)] == [ids[4], ids[3]]
    last = alice.fetch_next(older)
    assert [s.id for s in last] == [ids[0]] and alice.fetch_next(last) is None  # the end
    assert ids[4] in [s.id for s in alice.timeline_home(limit=40)]
    assert ids[4] in [s.id for s in alice.timeline_public(limit=40)]
    assert [s.id for s in alice.account_statuses(alice.me().id, limit=1)] == [ids[4]]


def test_mastodon_py_accounts_follows_and_tags(server):
    alice, bob = mastodon_for(server, "alice"), mastodon_for(server, "bob")
    me = alice.account_verify_credentials()
    target = alice.account_lookup("bob")
    assert alice.account(target.id).username == "bob"
    assert alice.account_follow(target.id).following is True
    assert [a.username for a in alice.account_following(me.id)] == ["bob"]
    assert "alice" in [a.username for a in bob.account_followers(target.id)]
    (rel,) = alice.account_relationships(target.id)
    assert rel.following and not rel.followed_by
    assert alice.account_unfollow(target.id).following is False
    assert alice.tag_follow("release").following is True
    assert "release" in [t.name for t in alice.followed_tags()]
    bob.status_post("Release 3.0 tomorrow #release")
    assert "Release 3.0 tomorrow #release" in [s.text for s in alice.timeline_home()]
    assert alice.tag_unfollow("release").following is False
    assert alice.instance().configuration.statuses.max_characters == 140


def test_mastodon_py_search_and_notifications(server):
    alice, bob = mastodon_for(server, "alice"), mastodon_for(server, "bob")
    bob.status_post("@alice the zeppelin report is ready")
    found = _search_until_found(alice, "zeppelin")
    assert "@alice the zeppelin report is ready" in [s.text for s in found]
    assert "bob" in [a.username for a in alice.search_v2("bob", result_type="accounts").accounts]
    note = alice.notifications(types=["mention"])[0]
    assert note.type == "mention" and note.account.username == "bob"
    assert note.status.text == "@alice the zeppelin report is ready"


def test_mastodon_py_lists_of_accounts_and_saved_searches(server):
    bob, carol = mastodon_for(server, "bob"), mastodon_for(server, "carol")
    carol_id = carol.account_verify_credentials().id
    alice_id = bob.account_lookup("alice").id
    bob.account_follow(carol_id)
    team = bob.list_create("Team", replies_policy="followed")
    assert (team.title, team.replies_policy, team.exclusive) == ("Team", "followed", False)
    bob.list_accounts_add(team, [carol_id])
    with pytest.raises(MastodonAPIError) as error:
        bob.list_accounts_add(team, [alice_id])  # bob does not follow alice
    assert error.value.args[1] == 422 and "Follow @alice" in str(error.value)
    assert [a.username for a in bob.list_accounts(team)] == ["carol"]
    saved = bob.list_create("search: zeppelin-unmatched-words")
    assert saved.title == "zeppelin-unmatched-words" and saved.saved_search.unread_count == 0
    assert [lst.id for lst in bob.lists()] == [team.id, saved.id]
    crew = bob.list_update(team, "Crew", replies_policy="followed", exclusive=True)
    assert (crew.title, crew.exclusive) == ("Crew", True)
    posts = [carol.status_post(f"Lists check {n}").id for n in range(3)]
    page = bob.timeline_list(team, limit=2)
    assert [s.id for s in page] == [posts[2], posts[1]]
    assert [s.id for s in bob.fetch_next(page)] == [posts[0]]
    assert not set(posts) & {s.id for s in bob.timeline_home(limit=40)}  # an exclusive list's
    assert bob.timeline_list(saved) == []
    assert [lst.id for lst in bob.account_lists(carol_id)] == [team.id]
    with pytest.raises(MastodonAPIError) as error:
        carol.list(team.id)  # bob's list is nobody else's
    assert error.value.args[1] == 404
    bob.list_accounts_delete(team, [carol_id])
    assert bob.list_accounts(team) == []
    bob.list_delete(team)
    bob.list_delete(saved)
    assert bob.lists() == []
    bob.account_unfollow(carol_id)


def _search_until_found(client: Mastodon, query: str, timeout: float = 10) -> list:
    """Return the statuses search finds, waiting for the index (it follows posts about a second later)."""
    deadline = time.monotonic() + timeout
    while not (statuses := client.search_v2(query).statuses) and time.monotonic() < deadline:
        time.sleep(0.2)
    return statuses


def test_mastodon_py_errors_come_back_as_exceptions_with_the_message(server):
    alice = mastodon_for(server, "alice")
    with pytest.raises(MastodonAPIError) as error:
        alice.status_post("x" * 141)
    assert "140" in str(error.value)
    nobody = Mastodon(access_token="not-a-token", api_base_url=server)
    with pytest.raises(MastodonUnauthorizedError):
        nobody.timeline_home()
    reader = Mastodon(access_token=_read_only_token(server), api_base_url=server)
    with pytest.raises(MastodonAPIError) as error:
        reader.status_post("not allowed")
    assert error.value.args[1] == 403 and "scopes" in str(error.value)


def _read_only_token(url: str) -> str:
    """Create a read-only personal access token in Settings, as a person would."""
    bob = LiveClient(url, "bob")
    page = bob.http.post(
        f"{url}/settings/tokens", data={"name": "reader", "read": "y", "csrf_token": bob.csrf}
    )
    return re.search(r'value="([^"]+)"[^>]*data-new-token', page.text).group(1)


class Collector(StreamListener):
    """Records what a stream delivers."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []
        self.lock = threading.Lock()
        self.heartbeats = 0

    def on_update(self, status):
        with self.lock:
            self.events.append(("update", status.text))

    def on_delete(self, status_id):
        with self.lock:
            self.events.append(("delete", str(status_id)))

    def on_notification(self, notification):
        with self.lock:
            self.events.append(("notification", notification.type))

    def handle_heartbeat(self):
        self.heartbeats += 1

    def wait_for(self, expected: list[tuple[str, object]], timeout: float = 10) -> bool:

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.events == expected:
                    return True
            time.sleep(0.05)
        return self.events == expected


def test_mastodon_py_streams_updates_deletes_and_notifications(server):
    alice, bob = mastodon_for(server, "alice"), mastodon_for(server, "bob")
    assert alice.stream_healthy()
    alice.account_follow(alice.account_lookup("bob").id)
    home, public, tag = Collector(), Collector(), Collector()
    handles = [
        alice.stream_user(home, run_async=True),
        alice.stream_public(public, run_async=True),
        alice.stream_hashtag("launch", tag, run_async=True),
    ]
    try:
        assert _listening(home) and _listening(public) and _listening(tag)
        post = bob.status_post("@alice Countdown started #launch")
        bob.status_post("Lunch is ready")
        bob.status_delete(post.id)
        assert home.wait_for(
            [
                ("notification", "mention"),
                ("update", "@alice Countdown started #launch"),
                ("update", "Lunch is ready"),
                ("delete", str(post.id)),
            ]
        ), home.events
        assert tag.wait_for([("update", "@alice Countdown started #launch"), ("delete", str(post.id))])
        assert public.wait_for(
            [
                ("update", "@alice Countdown started #launch"),
                ("update", "Lunch is ready"),
                ("delete", str(post.id)),
            ]
        )
    finally:
        for handle in handles:
            handle.close()


def test_mastodon_py_follows_a_search_as_a_list_and_hears_its_matches_live(server):
    alice, bob = mastodon_for(server, "alice"), mastodon_for(server, "bob")
    saved = alice.list_create("search: periscope -draft")
    assert saved.title == "periscope -draft" and saved.id in {lst.id for lst in alice.lists()}
    matches = Collector()
    handle = alice.stream_list(saved.id, matches, run_async=True)
    try:
        assert _listening(matches)
        bob.status_post("Periscopes are up")
        bob.status_post("Draft: periscope plans")  # excluded
        bob.status_post("Lunch is ready")
        later = bob.status_post("One more periscope")
        # Matched by the server as each post is written.
        assert matches.wait_for(
            [("update", "Periscopes are up"), ("update", "One more periscope")], timeout=20
        ), matches.events
    finally:
        handle.close()
    timeline = alice.timeline_list(saved)
    assert [s.id for s in timeline][0] == later.id and len(timeline) == 2
    with pytest.raises(MastodonNetworkError, match="NOT FOUND"):
        bob.stream_list(saved.id, Collector())  # alice's list is nobody else's
    alice.list_delete(saved)


def _listening(collector: Collector, timeout: float = 10) -> bool:
    """A stream is open once its first comment line arrived (the server opens each with `:)`)."""

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and collector.heartbeats == 0:
        time.sleep(0.05)
    return collector.heartbeats > 0


def test_streams_held_open_do_not_tie_up_the_worker(server):
    # One gevent worker serves this process: with streams held open, requests still get answers.
    alice = mastodon_for(server, "alice")
    collectors = [Collector() for _ in range(12)]
    handles = [alice.stream_public(c, run_async=True) for c in collectors]
    try:
        assert all(_listening(c) for c in collectors)
        for i in range(5):
            alice.status_post(f"Still answering {i}")
        assert alice.timeline_public(limit=1)[0].text == "Still answering 4"
        assert all(c.wait_for([("update", f"Still answering {i}") for i in range(5)]) for c in collectors)
    finally:
        for handle in handles:
            handle.close()


def test_a_revoked_token_closes_its_stream(server):
    value = _read_only_token(server)
    bob = LiveClient(server, "bob")
    stream = requests.get(
        f"{server}/api/v1/streaming/public",
        headers={"Authorization": f"Bearer {value}"},
        stream=True,
        timeout=10,
    )
    lines = stream.iter_lines()
    assert next(lines) == b":)"
    token_id = re.findall(r"/settings/tokens/(\d+)/revoke", bob.http.get(f"{server}/settings/tokens").text)[0]
    assert bob.form(f"/settings/tokens/{token_id}/revoke").status_code == 302
    # The server ends the stream, so iteration stops; heartbeats would keep a live one going forever.
    deadline = time.monotonic() + 10
    rest = []
    for line in lines:
        rest.append(line)
        assert time.monotonic() < deadline, f"the stream stayed open after the revoke: {rest[-5:]}"
    assert all(line in (b"", b":thump") for line in rest)


TOOT = [sys.executable, "-m", "toot"]


def toot(home: Path, *args: str, stdin: str | None = None) -> str:
    """Run the toot CLI with its configuration under `home`; return its output or fail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOOT", "XDG_"))}
    env |= {"XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache"), "TERM": "dumb"}
    result = subprocess.run(
        [*TOOT, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"toot {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_toot_logs_in_posts_reads_home_and_follows_a_tag(server, tmp_path):
    out = toot(tmp_path, "login_cli", "-i", server, "-e", "carol@example.com", "-p", PASSWORD)
    assert "Successfully logged in" in out
    out = toot(tmp_path, "post", "Deploy 4.2 finished #ops")
    assert "Toot posted" in out and "/posts/" in out
    assert "Deploy 4.2 finished" in toot(tmp_path, "timeline", "--once")
    toot(tmp_path, "tags", "follow", "apollo")
    assert "apollo" in toot(tmp_path, "tags", "followed")
    mastodon_for(server, "bob").status_post("Apollo launch window moved #apollo")
    assert "Apollo launch window moved" in toot(tmp_path, "timeline", "--once")


def test_toot_logs_in_through_the_browser_flow(server, tmp_path):
    # `toot login` prints a link, the person authorizes in the browser and pastes the code back.
    process = subprocess.Popen(
        [*TOOT, "login", "-i", server],
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("TOOT", "XDG_"))},
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdin and process.stdout
    output = ""
    while "/oauth/authorize" not in output:
        line = process.stdout.readline()
        assert line, output
        output += line
    link = re.search(r"(http://\S+/oauth/authorize\S+)", output).group(1)
    code = consent_in_browser(server, "alice", link)
    rest, _ = process.communicate(f"n\n{code}\n", timeout=60)
    assert process.returncode == 0, output + rest
    assert "alice" in toot(tmp_path, "whoami")


def test_the_documented_bot_examples_work(server, monkeypatch):
    page = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text()
    section = page.split("\n## Examples\n", 1)[1].split("\n## ", 1)[0]
    python = section.split("```python\n", 1)[1].split("```", 1)[0]
    curl = section.split("```sh\n", 1)[1].split("```", 1)[0]
    bob = LiveClient(server, "bob")
    page = bob.http.post(
        f"{server}/settings/tokens", data={"name": "ci", "write": "y", "csrf_token": bob.csrf}
    )
    token = re.search(r'value="([^"]+)"[^>]*data-new-token', page.text).group(1)
    monkeypatch.setenv("MICROBLOG_TOKEN", token)
    monkeypatch.setenv("BUILD_NUMBER", "1234")
    code = python.replace("https://microblog.example.com", server)
    exec(compile(code, "docs/api.md", "exec"), {})
    exec(compile(code, "docs/api.md", "exec"), {})  # the retried job
    command = curl.replace("https://microblog.example.com", server).replace("\\\n", " ")
    subprocess.run(command, shell=True, check=True, capture_output=True, env={**os.environ})
    reader = mastodon_for(server, "bob")
    texts = [s.text for s in reader.account_statuses(reader.me().id)]
    assert texts[:2] == [
        "Deployed apollo 2.1 to production #apollo",
        "Build 1234 of apollo passed #apollo #ci",
    ]
    assert texts.count("Build 1234 of apollo passed #apollo #ci") == 1


def test_a_read_marker_set_in_one_mastodon_py_client_is_seen_in_another(server):
    phone, laptop = mastodon_for(server, "bob"), mastodon_for(server, "bob")
    newest = phone.status_post("Read up to here")
    phone.markers_set(["home"], [newest])
    seen = laptop.markers_get(["home", "notifications"])
    assert list(seen) == ["home"] and str(seen["home"].last_read_id) == str(newest.id)
    assert seen["home"].version == 1


def test_mastodon_py_reads_pages_counts_and_dismisses_grouped_notifications(server):
    alice, bob, carol = (mastodon_for(server, name) for name in ("alice", "bob", "carol"))
    bob_id, carol_id = str(bob.me().id), str(carol.me().id)
    post = alice.status_post("Likes of this one come as one group")
    bob.status_favourite(post.id)
    carol.status_favourite(post.id)
    mention = carol.status_post("@alice and a mention stands alone")

    results = alice.grouped_notifications(types=["favourite", "mention"], limit=2)
    liked, mentioned = sorted(results.notification_groups, key=lambda g: g.type)
    assert (liked.type, liked.notifications_count, str(liked.status_id)) == ("favourite", 2, str(post.id))
    assert [str(i) for i in liked.sample_account_ids] == [carol_id, bob_id]
    assert mentioned.group_key.startswith("ungrouped-") and str(mentioned.status_id) == str(mention.id)
    # Mastodon.py asks for partial avatars: each group's latest account in full, the others in short.
    assert {str(a.id) for a in results.accounts} == {carol_id}
    assert [str(a.id) for a in results.partial_accounts] == [bob_id]
    assert {str(s.id) for s in results.statuses} == {str(post.id), str(mention.id)}
    # The Link header pages on, to what is older than every group of this page.
    cutoff = min(int(g.most_recent_notification_id) for g in results.notification_groups)
    older = alice.fetch_next(results)
    assert older is not None
    assert all(int(g.most_recent_notification_id) < cutoff for g in older.notification_groups)

    whole = alice.grouped_notification(liked.group_key)
    assert [g.group_key for g in whole.notification_groups] == [liked.group_key]
    assert [str(a.id) for a in alice.grouped_notification_accounts(liked.group_key)] == [carol_id, bob_id]

    newest = max(int(g.most_recent_notification_id) for g in results.notification_groups)
    alice.markers_set(["notifications"], [newest])
    assert alice.unread_grouped_notifications_count() == 0
    bob.status_favourite(alice.status_post("One more").id)
    assert alice.unread_grouped_notifications_count() == 1
    assert alice.unread_grouped_notifications_count(types=["mention"]) == 0

    alice.dismiss_grouped_notification(liked.group_key)
    with pytest.raises(MastodonAPIError):  # 404: no such group any more
        alice.grouped_notification(liked.group_key)
    left = alice.grouped_notifications(types=["favourite", "mention"], expand_accounts="full")
    assert liked.group_key not in [g.group_key for g in left.notification_groups]
    assert not left.get("partial_accounts")  # full accounts only, as asked
