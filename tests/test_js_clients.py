"""masto.js and megalodon, the JavaScript libraries many Mastodon apps are built on, against a real server.

tests/clients/clients.cjs drives both (their versions are pinned in tests/clients/package.json; `make
test` installs them with npm).  Each trades an authorization code for a token (both send JSON; masto.js
also logs in with a password), reads, pages home and searches, writes, streams the user's home over
Mastodon's WebSocket (the only way either streams) until a post by someone followed arrives, and logs
out by revoking it; masto.js also pages, counts and dismisses grouped notifications (Mastodon 4.3's
/api/v2/notifications, which megalodon 10 does not call).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .conftest import missing_service
from .factories import PASSWORD
from .server import client_site, flask_cli, running_server
from .test_api_clients import OOB, consent_in_browser, mastodon_for

pytestmark = pytest.mark.server

CLIENTS = Path(__file__).parent / "clients"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """One gunicorn + gevent process on SQLite, with carol, dave (whom she follows) and erin; URL and env."""
    env = client_site(tmp_path_factory.mktemp("js-clients"), "carol", "dave", "erin")
    with running_server(env, gunicorn=True) as url:
        yield url, env


def _token(env: dict[str, str], username: str) -> str:
    return flask_cli(env, "users", "token", username).split()[-1]


def test_masto_js_and_megalodon_log_in_post_read_stream_and_log_out(site):
    server, env = site
    node = shutil.which("node")
    if node is None or not (CLIENTS / "node_modules" / "megalodon").is_dir():
        missing_service("node, or the client libraries of tests/clients (make test installs them)")
    app = requests.post(
        f"{server}/api/v1/apps",
        json={"client_name": "js clients", "redirect_uris": OOB, "scopes": "read write follow"},
    ).json()
    link = (
        requests.Request(
            "GET",
            f"{server}/oauth/authorize",
            params={
                "client_id": app["client_id"],
                "response_type": "code",
                "redirect_uri": OOB,
                "scope": "read write",
            },
        )
        .prepare()
        .url
    )
    codes = [consent_in_browser(server, "carol", link) for _ in range(2)]
    # Two likes of one post of carol's (one group) and a follow (a group of its own).
    carol, dave, erin = (mastodon_for(server, name) for name in ("carol", "dave", "erin"))
    liked = carol.status_post("Like this, both of you")
    dave.status_favourite(liked.id)
    erin.status_favourite(liked.id)
    dave.account_follow(carol.me().id)
    dave_id, erin_id = str(dave.me().id), str(erin.me().id)
    dave_token = _token(env, "dave")
    assert carol.account_follow(dave.me().id).following  # his post reaches her home, and its stream
    run = subprocess.run(
        [
            node,
            str(CLIENTS / "clients.cjs"),
            server,
            app["client_id"],
            app["client_secret"],
            *codes,
            dave_token,
            "carol@example.com",
            PASSWORD,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    seen = json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {"stderr": run.stderr}
    assert "error" not in seen and "stderr" not in seen, seen
    assert seen["detected"] == "mastodon"  # from NodeInfo: microblog, upstream mastodon
    (username, carol), first_and_reply = seen["megalodonUser"], seen["megalodonPosted"]
    assert username == seen["mastoUser"] == "carol"
    first, reply = first_and_reply
    assert seen["megalodonReplyTo"] == [first, carol]  # in_reply_to_account_id names whom it answers
    assert reply in seen["megalodonHome"] and first in seen["megalodonHome"]
    assert seen["mastoPosted"] in seen["mastoTag"] and first in seen["mastoTag"]
    # Logging in by password; a wrong one refused; the token revoked.
    assert seen["mastoPasswordUser"] == "carol" and seen["mastoWrongPassword"] in (400, 401)
    assert seen["mastoPasswordAfterRevoke"] == 401
    # Paging home: pages of two, newest first, each older than the last, together the whole timeline.
    for pages in (seen["megalodonHomePages"], seen["mastoHomePages"]):
        ids = [int(i) for page in pages for i in page]
        assert len(pages) >= 2 and all(len(page) <= 2 for page in pages)
        assert ids == sorted(set(ids), reverse=True)
    assert first in [i for page in seen["megalodonHomePages"] for i in page]
    # Search finds what each posted.
    assert first in seen["megalodonSearch"] and seen["mastoPosted"] in seen["mastoSearch"]
    # masto.js reads grouped notifications: the two likes as one group, the follow as another.
    follow_key = next(g[4] for g in seen["mastoGroups"] if g[0] == "follow")
    liked_key = next(g[4] for g in seen["mastoGroups"] if g[0] == "favourite")
    assert [g[:4] for g in seen["mastoGroups"]] == [
        ["follow", 1, [dave_id], None],
        ["favourite", 2, [erin_id, dave_id], str(liked.id)],
    ]
    assert seen["mastoGroupAccounts"] == ["dave", "erin"] and seen["mastoGroupStatuses"] == [str(liked.id)]
    # One group a page, through the Link header: the likes' group comes again with its older like.
    assert seen["mastoGroupPages"] == [[follow_key], [liked_key], [liked_key], []]
    assert [g[:4] for g in seen["mastoGroup"]] == [g[:4] for g in seen["mastoGroups"][1:]]
    assert seen["mastoGroupAccountsOf"] == ["erin", "dave"]
    assert seen["mastoUnread"] == 1 and seen["mastoPartial"] == ["dave"]
    assert seen["mastoAfterDismiss"] == 404
    assert seen["megalodonNotifications"] == ["follow", "favourite", "favourite"]
    # Each heard, on the user stream, the post dave made for it (masto.js: one of those it retried).
    posted, streamed, author = seen["megalodonStreamed"]
    assert streamed == posted and author == "dave"
    assert seen["mastoStreamed"] == [True, "dave", ["user"]]
    # Logging out revoked each token: it no longer works.
    assert seen["megalodonAfterRevoke"] == 401 and seen["mastoAfterRevoke"] == 401
