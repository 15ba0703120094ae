"""Shared delivery ids and rate limits: one answer across replicas with Redis, memory without it."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from typing import AsyncIterator, Iterator, List, Tuple

import pytest
import redis

from bot.channels.inbound import SenderRateLimiter
from bot.channels.slack import RecentKeys, SharedKeys
from bot.channels.telegram import SharedUpdateIds
from bot.shared_state import KEY_PREFIX, SharedState

REDIS_URL = "redis://127.0.0.1:6379/8"


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def require_redis() -> None:
    """Skip without Redis on 127.0.0.1:6379, with the reason; under CI=true fail instead."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379 (required under CI=true)")
        pytest.skip("Redis is not running on 127.0.0.1:6379")


@pytest.fixture
async def replicas() -> AsyncIterator[Tuple[SharedState, SharedState]]:
    """Two SharedStates on one Redis database, as two Rasa replicas have; their connections closed afterwards."""
    require_redis()
    pair = SharedState(REDIS_URL), SharedState(REDIS_URL)
    yield pair
    for state in pair:
        await state.close()


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def never(_: str = "") -> bool:
    """A local fallback that must not be consulted."""
    raise AssertionError("the in-memory fallback was used although Redis answers")


async def test_a_key_is_first_seen_once_across_replicas(replicas: Tuple[SharedState, SharedState]) -> None:
    """Whichever replica sees a delivery first wins; every later sighting, on either, is a repeat."""
    key = f"test:{uuid.uuid4().hex}"
    answers = [await replicas[i % 2].first_time(key, 60, never) for i in range(4)]
    assert answers == [True, False, False, False]
    ttl = redis.Redis.from_url(REDIS_URL).ttl(KEY_PREFIX + key)
    assert 0 < ttl <= 60


async def test_simultaneous_deliveries_to_both_replicas_are_handled_once(replicas: Tuple[SharedState, SharedState]) -> None:
    """Twenty deliveries of one key at the same moment, spread over both replicas: exactly one is new."""
    key = f"test:{uuid.uuid4().hex}"
    answers = await asyncio.gather(*(replicas[i % 2].first_time(key, 60, never) for i in range(20)))
    assert sorted(answers) == [False] * 19 + [True]


async def test_the_rate_limit_holds_across_replicas(replicas: Tuple[SharedState, SharedState]) -> None:
    """Messages alternating between replicas count against one window per sender; the key expires with it."""
    sender = uuid.uuid4().hex
    limiters = [SenderRateLimiter(limit=3, window_s=30, shared=state) for state in replicas]
    answers = [await limiters[i % 2].check(sender) for i in range(5)]
    assert answers == [True, True, True, False, False]
    assert await limiters[0].check("another" + sender)
    ttl_ms = redis.Redis.from_url(REDIS_URL).pttl(f"{KEY_PREFIX}rate:{sender}")
    assert 0 < ttl_ms <= 30_000


@pytest.mark.parametrize("channel", ["slack", "telegram"])
async def test_channel_deduplicators_share_ids_across_replicas(replicas: Tuple[SharedState, SharedState], channel: str) -> None:
    """A Slack event id or Telegram update id received by one replica is a repeat on the other."""
    if channel == "slack":
        first, second = (SharedKeys(state, RecentKeys()) for state in replicas)
        key = f"event:Ev{uuid.uuid4().hex}"
    else:
        first, second = (SharedUpdateIds(state) for state in replicas)
        key = int(time.time() * 1000) + uuid.uuid4().int % 1000  # type: ignore[assignment]
    assert await first.first_time(key) is True
    assert await second.first_time(key) is False
    assert await first.first_time(key) is False


def hung_server() -> Tuple[socket.socket, int]:
    """A listening socket that accepts connections and never answers: a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener, listener.getsockname()[1]


@pytest.mark.parametrize("failure", ["refused", "hung"])
async def test_unavailable_redis_falls_back_to_memory_logged_once(caplog: pytest.LogCaptureFixture, failure: str) -> None:
    """Refused or hung, Redis costs at most its timeout per call, answers come from memory, one log line."""
    listener = None
    if failure == "hung":
        listener, port = hung_server()
    else:
        port = free_port()
    clock = FakeClock()
    state = SharedState(f"redis://127.0.0.1:{port}/0", timeout_s=0.3, retry_after_s=5, clock=clock)
    limiter = SenderRateLimiter(limit=2, window_s=30, shared=state)
    dedupe = SharedKeys(state, RecentKeys())
    try:
        with caplog.at_level(logging.ERROR, logger="bot.shared_state"):
            started = time.monotonic()
            assert [await limiter.check("s") for _ in range(3)] == [True, True, False]
            assert [await dedupe.first_time("event:E1") for _ in range(2)] == [True, False]
            elapsed = time.monotonic() - started
            clock.now += 6  # past the retry period: Redis is tried (and fails) again, still no new log line
            assert await dedupe.first_time("event:E2") is True
    finally:
        await state.close()
        if listener is not None:
            listener.close()
    failures = [record for record in caplog.records if "did not answer" in record.getMessage()]
    assert len(failures) == 1, [record.getMessage() for record in caplog.records]
    assert f"127.0.0.1:{port}" in failures[0].getMessage()
    assert elapsed < 3.0  # one timeout (0.3 s) at most, then memory until the retry period ends


@pytest.fixture
def own_redis() -> Iterator[int]:
    """A port on which a private redis-server can be started by the test (stopped afterwards)."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (required under CI=true)")
        pytest.skip("redis-server is not installed")
    port = free_port()
    processes: List[subprocess.Popen] = []
    yield port, lambda: processes.append(subprocess.Popen(  # type: ignore[misc]
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for process in processes:
        process.terminate()
        process.wait(10)


async def test_redis_coming_back_is_used_again(own_redis, caplog: pytest.LogCaptureFixture) -> None:
    """After the retry period a Redis that answers again is shared again, and that is logged."""
    port, start = own_redis
    clock = FakeClock()
    state = SharedState(f"redis://127.0.0.1:{port}/0", timeout_s=0.3, retry_after_s=5, clock=clock)
    assert await state.first_time("k", 60, lambda: True) is True  # down: from memory
    assert not state.using_redis
    start()
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    clock.now += 6
    with caplog.at_level(logging.WARNING, logger="bot.shared_state"):
        assert await state.first_time("k", 60, never) is True
        assert await state.first_time("k", 60, never) is False
    assert state.using_redis
    await state.close()
    assert any("answers again" in record.getMessage() for record in caplog.records)
