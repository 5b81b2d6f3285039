"""The visibility matrix across two server processes sharing Redis: private posts reach members only.

A post made through process 1 reaches a member connected to process 2, not a
non-member there; a member removed (by another process: this test's) stops
receiving with the next post.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import redis

from microblog.services import communities, social

from .conftest import missing_service
from .factories import make_community, make_user
from .live import LiveClient
from .server import PRODUCTION, free_port, running_server, server_env

pytestmark = pytest.mark.server

MACHINE_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def machine_redis() -> str:
    """The machine's Redis (CI must have it)."""
    try:
        up = bool(redis.Redis.from_url(MACHINE_REDIS, socket_connect_timeout=1).ping())
    except redis.RedisError:
        up = False
    if not up:
        missing_service("Redis is not running on 127.0.0.1:6379")
    return MACHINE_REDIS


@contextmanager
def two_processes(database_url: str, tmp_path: Path, redis_url: str) -> Iterator[list[str]]:
    """Start two gunicorn processes on one database and one Redis channel; yield their URLs."""
    shared = {"MICROBLOG_REDIS_URL": redis_url, "MICROBLOG_REDIS_CHANNEL": f"mb-vis-{uuid.uuid4().hex}"}
    envs = [
        server_env(database_url, tmp_path / f"p{i}", free_port(), **shared, **PRODUCTION) for i in range(2)
    ]
    with ExitStack() as stack:
        yield [  # one search worker for the installation
            stack.enter_context(running_server(env, gunicorn=True, search_worker=i == 0))
            for i, env in enumerate(envs)
        ]


def _live(url: str, username: str) -> LiveClient:
    client = LiveClient(url, username).connect()
    assert client.sio.call("subscribe", {"stream": "public"}, timeout=5) == {"ok": True}
    assert client.sio.call("subscribe", {"stream": "hashtag", "tag": "skunk"}, timeout=5) == {"ok": True}
    return client


def _ids(client: LiveClient) -> set[tuple[str, int]]:
    with client.lock:
        return {(":".join(d["stream"]), int(d["payload"]["id"])) for n, d in client.events if n == "update"}


def test_private_posts_cross_processes_to_members_only(app, database_url, tmp_path, machine_redis):
    owen, mia, rex, nora = (make_user(name) for name in ("owen", "mia", "rex", "nora"))
    skunk = make_community(owen, "skunkworks", private=True, members=(mia, rex))
    for person in (mia, rex, nora):
        social.follow_user(person, "owen")
    with two_processes(database_url, tmp_path, machine_redis) as (first, second):
        readers = {name: _live(second, name) for name in ("mia", "rex", "nora")}
        poster = LiveClient(first, "owen")
        try:
            poster.post("@skunkworks zebra across processes #skunk")
            assert readers["mia"].wait_for(lambda: len(_ids(readers["mia"])) == 3)  # user, public, hashtag
            assert readers["rex"].wait_for(lambda: len(_ids(readers["rex"])) == 3)
            (first_id,) = {pid for _, pid in _ids(readers["mia"])}

            communities.remove_member(None, skunk, rex)  # while rex is connected to process 2
            poster.post("@skunkworks zebra after rex went #skunk")
            poster.post("lunch, for everyone #skunk")
            for name, client in readers.items():  # the public control reaches everyone on every stream
                assert client.wait_for(
                    lambda c=client: c.updates().count("lunch, for everyone #skunk") == 3
                ), name
            time.sleep(0.5)  # anything late would have arrived by now
            texts = {name: client.updates() for name, client in readers.items()}
        finally:
            for client in readers.values():
                client.close()
    streams = {"user", "public", "hashtag:skunk"}
    assert texts["mia"].count("@skunkworks zebra across processes #skunk") == 3
    assert texts["mia"].count("@skunkworks zebra after rex went #skunk") == 3
    assert texts["rex"].count("@skunkworks zebra across processes #skunk") == 3  # a member then
    assert not any("after rex went" in text for text in texts["rex"])  # removed: stopped at once
    assert not any("zebra" in text for text in texts["nora"])  # never a member
    for name in readers:
        assert texts[name].count("lunch, for everyone #skunk") == len(streams), name
    assert first_id > 0
