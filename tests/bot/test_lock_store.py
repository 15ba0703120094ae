"""The atomic Redis lock store: tickets are never issued twice, and holders really take turns."""

from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from typing import Iterator, List, Tuple

import pytest
import redis

from bot.lock_store import AtomicRedisLockStore

REDIS_DB = 6
THREADS = 8


@pytest.fixture
def stores() -> Iterator[Tuple[AtomicRedisLockStore, AtomicRedisLockStore]]:
    """Two lock stores on the same Redis database, like two Rasa processes; their keys removed afterwards."""
    try:
        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379 (required under CI=true)")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"test{uuid.uuid4().hex[:8]}"
    pair = tuple(AtomicRedisLockStore(host="127.0.0.1", db=REDIS_DB, key_prefix=prefix) for _ in range(2))
    yield pair  # type: ignore[misc]
    for key in pair[0].red.scan_iter(f"{prefix}:*"):
        pair[0].red.delete(key)


def test_tickets_issued_at_once_by_two_processes_are_all_different(stores: Tuple[AtomicRedisLockStore, AtomicRedisLockStore]) -> None:
    """Many threads on two stores asking for tickets of one conversation at once all get distinct numbers."""
    issued: List[int] = []
    start = threading.Barrier(THREADS)

    def take_tickets(store: AtomicRedisLockStore) -> None:
        start.wait(timeout=30)
        for _ in range(20):
            issued.append(store.issue_ticket("conversation", lock_lifetime=60))

    threads = [threading.Thread(target=take_tickets, args=(stores[n % 2],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(issued) == THREADS * 20
    assert len(set(issued)) == len(issued)


def test_cleanup_deletes_the_lock_only_when_nobody_waits(stores: Tuple[AtomicRedisLockStore, AtomicRedisLockStore]) -> None:
    """Releasing a ticket keeps the lock while another ticket waits and deletes it after the last one."""
    first, second = stores
    mine = first.issue_ticket("conversation")
    theirs = second.issue_ticket("conversation")
    first.cleanup("conversation", mine)
    lock = second.get_lock("conversation")
    assert lock is not None and not lock.is_locked(theirs)
    second.cleanup("conversation", theirs)
    assert first.get_lock("conversation") is None


def test_two_processes_never_hold_the_lock_together(stores: Tuple[AtomicRedisLockStore, AtomicRedisLockStore]) -> None:
    """Threads standing for two Rasa processes handle one conversation strictly one at a time."""
    spans: List[Tuple[float, float]] = []
    start = threading.Barrier(4)

    async def handle(store: AtomicRedisLockStore) -> None:
        for _ in range(3):
            async with store.lock("conversation", lock_lifetime=30, wait_time_in_seconds=0.01):
                entered = time.monotonic()
                await asyncio.sleep(0.02)
                spans.append((entered, time.monotonic()))

    def process(store: AtomicRedisLockStore) -> None:
        start.wait(timeout=30)
        asyncio.run(handle(store))

    threads = [threading.Thread(target=process, args=(stores[n % 2],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    spans.sort()
    assert len(spans) == 12
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:]))
    assert stores[0].get_lock("conversation") is None


@pytest.mark.parametrize("env, lifetime", [({}, 20.0), ({"REPLY_TIMEOUT_SECONDS": "4"}, 8.0), ({"TICKET_LOCK_LIFETIME": "45"}, 45.0)])
def test_tickets_outlive_a_crashed_replica_only_twice_the_reply_timeout(
    stores: Tuple[AtomicRedisLockStore, AtomicRedisLockStore], monkeypatch: pytest.MonkeyPatch, env: dict, lifetime: float
) -> None:
    """A ticket Rasa takes without a lifetime expires after TICKET_LOCK_LIFETIME, by default twice REPLY_TIMEOUT_SECONDS."""
    from bot.stores import ConfiguredLockStore

    for name in ("TICKET_LOCK_LIFETIME", "REPLY_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {"LOCK_STORE_URL": f"redis://127.0.0.1:6379/{REDIS_DB}", **env}.items():
        monkeypatch.setenv(name, value)
    store = ConfiguredLockStore()
    conversation = f"lifetime-{uuid.uuid4().hex}"
    store.issue_ticket(conversation)
    try:
        [ticket] = store.get_lock(conversation).tickets
        assert ticket.expires - time.time() == pytest.approx(lifetime, abs=1.0)
    finally:
        store.delete_lock(conversation)
