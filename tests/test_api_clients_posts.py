"""Mastodon.py against a real server: what people do with their posts (images, edits, bookmarks, pins)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from mastodon import MastodonAPIError

from .server import client_site, running_server
from .test_api_clients import mastodon_for
from .test_media import picture

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One gunicorn + gevent process (production mode) on SQLite, with alice, bob and carol."""
    env = client_site(tmp_path_factory.mktemp("api-clients-posts"), "alice", "bob", "carol")
    with running_server(env, gunicorn=True) as url:
        yield url


def test_mastodon_py_bookmarks_and_pages_its_bookmarks(server):
    alice, bob = mastodon_for(server, "alice"), mastodon_for(server, "bob")
    posts = [bob.status_post(f"Keep this {n}") for n in range(3)]
    for post in posts:
        assert alice.status_bookmark(post).bookmarked is True
    first = alice.bookmarks(limit=2)
    assert [s.id for s in first] == [posts[2].id, posts[1].id]
    rest = alice.fetch_next(first)
    assert [s.id for s in rest] == [posts[0].id]
    assert bob.bookmarks() == []  # the author does not see them
    assert alice.status_unbookmark(posts[1]).bookmarked is False
    assert [s.id for s in alice.bookmarks()] == [posts[2].id, posts[0].id]


def test_mastodon_py_pins_up_to_five_on_the_profile(server):
    carol = mastodon_for(server, "carol")
    mine = [carol.status_post(f"About me {n}") for n in range(6)]
    for post in mine[:5]:
        assert carol.status_pin(post).pinned is True
    with pytest.raises(MastodonAPIError) as refused:
        carol.status_pin(mine[5])
    assert refused.value.args[1] == 422
    me = carol.me()
    reader = mastodon_for(server, "bob")
    pinned = reader.account_statuses(me, pinned=True)
    assert [s.id for s in pinned] == [p.id for p in reversed(mine[:5])]
    carol.status_unpin(mine[0])
    assert mine[0].id not in [s.id for s in reader.account_statuses(me, pinned=True)]
    assert reader.instance().configuration.accounts.max_pinned_statuses == 5


def test_mastodon_py_fixes_a_typo_and_reads_the_history(server):
    alice, bob = mastodon_for(server, "alice"), mastodon_for(server, "bob")
    post = alice.status_post("Release at 15:00 toady #deploy")
    fixed = alice.status_update(post, "Release at 15:00 today #deploy")
    assert "today" in fixed.content and fixed.edited_at is not None
    assert alice.status_source(post).text == "Release at 15:00 today #deploy"
    history = bob.status_history(post)
    assert ["toady" in version.content for version in history] == [True, False]
    assert "today" in bob.status(post).content
    with pytest.raises(MastodonAPIError):
        bob.status_update(post, "Not mine to change")
    with pytest.raises(MastodonAPIError):
        alice.status_update(post, "x" * 141)


def test_mastodon_py_posts_a_screenshot_with_alt_text(server, tmp_path):
    alice, bob = mastodon_for(server, "alice"), mastodon_for(server, "bob")
    shot = tmp_path / "build.png"
    shot.write_bytes(picture((1600, 1000), "PNG"))
    uploaded = alice.media_post(str(shot), mime_type="image/png", description="CI run 812: red")
    assert uploaded.type == "image" and uploaded.description == "CI run 812: red" and uploaded.blurhash
    described = alice.media_update(uploaded, description="CI run 812: the build is red", focus=(0.0, 0.5))
    assert described.description == "CI run 812: the build is red"
    posted = alice.status_post("The build is red again", media_ids=[described])
    assert [m.id for m in posted.media_attachments] == [uploaded.id]
    seen = bob.status(posted)
    image = seen.media_attachments[0]
    assert image.description == "CI run 812: the build is red"
    assert (image.meta.original.width, image.meta.original.height) == (1600, 1000)
    answer = requests.get(image.url, timeout=10)  # a public post's image: as a client's <img> loads it
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/png"
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    with pytest.raises(MastodonAPIError) as refused:
        alice.media_post(str(notes), mime_type="image/png")
    assert refused.value.args[1] == 422


@pytest.mark.slow
def test_a_50_megapixel_upload_is_kept_and_a_larger_one_refused_by_a_running_server(server):
    alice = mastodon_for(server, "alice")
    auth = {"Authorization": f"Bearer {alice.access_token}"}

    def send(data: bytes, name: str) -> requests.Response:
        return requests.post(
            f"{server}/api/v2/media", files={"file": (name, data)}, headers=auth, timeout=120
        )

    for fmt in ("JPEG", "PNG"):
        kept = send(picture((8000, 6250), fmt), f"huge.{fmt.lower()}")
        assert kept.status_code == 200, kept.text
        original = kept.json()["meta"]["original"]
        assert original["width"] * original["height"] <= 3840 * 2160
    refused = send(picture((8000, 7600), "PNG"), "larger.png")
    assert refused.status_code == 422 and "50 megapixels" in refused.json()["error"]
    assert alice.instance().configuration.media_attachments.image_matrix_limit == 50_000_000
