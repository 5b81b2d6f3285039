"""microblog.ratelimits: fixed windows counted in the process, added to Redis's count in batches."""

from __future__ import annotations

import socket
import time
import uuid

import pytest
import redis
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from .conftest import missing_service

MACHINE_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def machine_redis() -> redis.Redis:
    client = redis.Redis.from_url(MACHINE_REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        missing_service("Redis is not running on 127.0.0.1:6379")
    return client


def process(uri: str = "microblog+memory://") -> FixedWindowRateLimiter:
    """A process's limiter on its own storage (several share one Redis)."""
    return FixedWindowRateLimiter(storage_from_string(uri))


def admitted(limiter: FixedWindowRateLimiter, limit: str, who: str, times: int) -> int:
    item = parse(limit)
    return sum(limiter.hit(item, who) for _ in range(times))


def test_one_process_counts_exactly_and_its_window_ends():
    limiter = process()
    assert admitted(limiter, "10 per 1 second", "alice", 15) == 10
    assert not limiter.test(parse("10 per 1 second"), "alice")
    assert admitted(limiter, "10 per 1 second", "bob", 3) == 3  # each key its own
    time.sleep(1.1)
    assert admitted(limiter, "10 per 1 second", "alice", 15) == 10


def test_a_small_limit_is_exact_across_processes(machine_redis):
    who = uuid.uuid4().hex
    first, second = process("microblog+" + MACHINE_REDIS), process("microblog+" + MACHINE_REDIS)
    # Ten log-ins a minute: every hit is counted in Redis, whichever process takes it.
    total = sum(admitted(p, "10 per minute", who, 1) for _ in range(10) for p in (first, second))
    assert total == 10


def test_a_large_limit_is_counted_in_batches_and_held_across_processes(machine_redis):
    who = uuid.uuid4().hex
    key = parse("300 per 5 minutes").key_for(who)
    first, second = process("microblog+" + MACHINE_REDIS), process("microblog+" + MACHINE_REDIS)
    assert admitted(first, "300 per 5 minutes", who, 1) == 1  # the first hit is heard at once
    assert admitted(first, "300 per 5 minutes", who, 4) == 4
    assert int(machine_redis.get(key) or 0) == 1  # the next four wait for their batch of six
    assert admitted(first, "300 per 5 minutes", who, 2) == 2
    assert int(machine_redis.get(key) or 0) == 7
    assert 0 < machine_redis.pttl(key) <= 300_000
    # Two processes taking turns admit the limit, and at most a batch each beyond it.
    together = sum(admitted(p, "300 per 5 minutes", who, 1) for _ in range(250) for p in (first, second))
    assert 300 - 7 <= together <= 300 - 7 + 2 * 5


def test_a_process_hears_what_the_others_counted_within_a_second(machine_redis):
    who = uuid.uuid4().hex
    item = parse("100 per minute")
    first, second = process("microblog+" + MACHINE_REDIS), process("microblog+" + MACHINE_REDIS)
    assert first.test(item, who)
    assert admitted(second, "100 per minute", who, 100) == 100
    time.sleep(1.1)
    # Of second's last batch (two hits at this limit) one may not have reached Redis yet.
    assert admitted(first, "100 per minute", who, 10) <= 1


def test_counting_goes_on_while_redis_is_away():
    limiter = process("microblog+redis://127.0.0.1:9/0")  # nothing listens there
    assert admitted(limiter, "10 per minute", "alice", 12) == 10


def test_a_redis_that_stops_answering_delays_a_request_briefly_once_a_second():
    # A listener that accepts and never answers: the round trip times out, the process counts alone.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        limiter = process(f"microblog+redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        assert admitted(limiter, "300 per 5 minutes", "alice", 50) == 50
        assert admitted(limiter, "10 per minute", "bob", 12) == 10
        # One round trip waits its time-out (0.25 s); then the process counts alone for a second.
        assert time.monotonic() - started < 0.9
    finally:
        silent.close()
