"""Masking personal data in logs; erasing and expiring conversations in Rasa's real SQL tracker store."""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from bot.handover.requests import Contact, ConsultationRequest, ConsultationStore, utc_now
from bot.db import create_schema
from bot.config import get_settings
from bot.review.inbox import ReviewDecisions, ReviewItem, ReviewSummary
from bot.privacy import MaskingFilter, delete_idle_conversations, erase_conversation, mask_personal_data
from bot.stores import ConfiguredLockStore, ConfiguredSQLTrackerStore

DOMAIN = Domain.from_yaml(
    'version: "3.1"\nslots:\n  erasure_requested:\n    type: bool\n    mappings:\n    - type: custom\n'
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("contact me at ana.lopez@example.com please", "contact me at [email] please"),
        ("my number is +44 20 7946 0958.", "my number is [phone]."),
        ("call (555) 123-4567 after 5", "call [phone] after 5"),
        ("we met on 2024-05-01 at 10:30", "we met on 2024-05-01 at 10:30"),
        ("paragraph P4 and 25 words", "paragraph P4 and 25 words"),
    ],
)
def test_mask_personal_data(text: str, expected: str) -> None:
    """Emails and phone numbers are masked; dates, times and small numbers are left alone."""
    assert mask_personal_data(text) == expected


def test_masking_filter_masks_formatted_log_records() -> None:
    """The filter masks what would be written, including %-style arguments."""
    record = logging.makeLogRecord({"msg": "user %s wrote %r", "args": ("u1", "reach me at jo@firm.example or 07700 900123")})
    assert MaskingFilter().filter(record)
    assert record.getMessage() == "user u1 wrote 'reach me at [email] or [phone]'"


@pytest.fixture
def tracker_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConfiguredSQLTrackerStore:
    """Rasa's SQL tracker store on a SQLite file of this test's own."""
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    return ConfiguredSQLTrackerStore(domain=DOMAIN)


def conversation(sender: str, at: float) -> DialogueStateTracker:
    """A short conversation whose events happened at time `at`."""
    return DialogueStateTracker.from_events(
        sender,
        [ActionExecuted("action_listen", timestamp=at), UserUttered("my email is a@b.co", timestamp=at + 1)],
    )


async def test_store_erases_a_conversation_that_asked_for_it(tracker_store: ConfiguredSQLTrackerStore) -> None:
    """Saving a tracker with `erasure_requested` deletes the conversation instead of storing it."""
    tracker = conversation("conv-1", time.time())
    await tracker_store.save(tracker)
    assert len((await tracker_store.retrieve("conv-1")).events) == 2
    tracker.update(SlotSet("erasure_requested", True))
    await tracker_store.save(tracker)
    assert await tracker_store.retrieve("conv-1") is None


def review_item(conversation_id: str) -> ReviewItem:
    """A review item of that conversation."""
    return ReviewItem(conversation_id, 1, "hello", (), "", "fallback", "fallback", "rest", datetime.now(timezone.utc))


async def test_erase_command_removes_events_and_requests(
    tracker_store: ConfiguredSQLTrackerStore, sessions: sessionmaker
) -> None:
    """Erasure deletes one conversation's events and consultation requests, and nobody else's."""
    create_schema(sessions.kw["bind"])
    consultations = ConsultationStore(sessions)
    for sender in ("keep", "erase-me"):
        await tracker_store.save(conversation(sender, time.time()))
        consultations.save(ConsultationRequest(sender, "Ana", Contact("email", "a@b.co"), "", None, utc_now()))
    decisions = ReviewDecisions(sessions)
    for sender in ("keep", "erase-me"):
        decisions.decide([review_item(sender)], "dismiss", None, "", "staff@firm.example")
    summary = ReviewSummary(sessions)
    assert summary.refresh(get_settings().tracker_store_url, 0.5) == 2  # one user message each: their latest turns
    result = erase_conversation("erase-me", consultations)
    assert (result.tracker_events, result.consultation_requests, result.review_decisions) == (2, 1, 1)
    assert [d.conversation_id for d in decisions.active()] == ["keep"]
    assert summary.erase_conversations(["erase-me"]) == 0  # already gone with the conversation
    assert summary.erase_conversations(["keep"]) == 1
    # SQLite gives the newest events' ids, freed by the erasure, to the next conversation: the summary still reads it.
    await tracker_store.save(DialogueStateTracker.from_events("after", [UserUttered(
        "hmm", {"name": "greet", "confidence": 0.2}, parse_data={"intent": {"name": "greet", "confidence": 0.2}}, timestamp=time.time())]))
    assert summary.refresh(get_settings().tracker_store_url, 0.5) == 1
    assert [i.conversation_id for i in summary.items(0.5)] == ["after"]
    assert await tracker_store.retrieve("erase-me") is None
    assert consultations.for_conversation("erase-me") == []
    assert len((await tracker_store.retrieve("keep")).events) == 2
    assert len(consultations.for_conversation("keep")) == 1


async def test_retention_deletes_only_idle_conversations(tracker_store: ConfiguredSQLTrackerStore) -> None:
    """Conversations idle for longer than the limit go; recent ones stay."""
    now = time.time()
    await tracker_store.save(conversation("old", now - 100 * 86400))
    await tracker_store.save(conversation("recent", now - 2 * 86400))
    assert delete_idle_conversations(30, now=now) == ["old"]
    assert await tracker_store.retrieve("old") is None
    assert await tracker_store.retrieve("recent") is not None


def redis_available() -> bool:
    """Whether Redis answers on 127.0.0.1:6379."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


def test_lock_store_is_in_memory_without_redis_and_refuses_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without LOCK_STORE_URL the lock store is in memory, and several Sanic workers are refused."""
    monkeypatch.delenv("LOCK_STORE_URL", raising=False)
    monkeypatch.setenv("SANIC_WORKERS", "1")
    assert isinstance(ConfiguredLockStore(), InMemoryLockStore)
    monkeypatch.setenv("SANIC_WORKERS", "2")
    with pytest.raises(ValueError, match="LOCK_STORE_URL"):
        ConfiguredLockStore()


def test_lock_store_uses_redis_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """With LOCK_STORE_URL, conversations are locked in the real Redis."""
    if not redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379 (required under CI=true)")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    monkeypatch.setenv("LOCK_STORE_URL", "redis://127.0.0.1:6379/7")
    store = ConfiguredLockStore()
    assert isinstance(store, RedisLockStore)
    store.issue_ticket("conv-lock-test")
    try:
        assert store.get_lock("conv-lock-test") is not None
    finally:
        store.delete_lock("conv-lock-test")
