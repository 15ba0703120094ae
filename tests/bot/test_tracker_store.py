"""Our SQL tracker store reuses stored events only after checking them, and stores what Rasa's own store stores."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores import ConfiguredSQLTrackerStore
from tests.conftest import fresh_postgres_database

DOMAIN = Domain.from_yaml(
    'version: "3.1"\n'
    "slots:\n"
    "  erasure_requested:\n    type: bool\n    mappings:\n    - type: custom\n"
    "  topic:\n    type: text\n    mappings:\n    - type: custom\n"
)


def user_turn(text: str, intent: str, at: float) -> List[Event]:
    """Events of one user message and the bot's answer."""
    return [
        UserUttered(text, {"name": intent, "confidence": 0.9}, timestamp=at),
        SlotSet("topic", intent, timestamp=at + 0.1),
        ActionExecuted("action_explain_topic", timestamp=at + 0.2),
        BotUttered(f"about {intent}", {"custom": {"topic": intent}}, timestamp=at + 0.3),
        ActionExecuted("action_listen", timestamp=at + 0.4),
    ]


def session_start(at: float) -> List[Event]:
    """The events Rasa's default session start adds."""
    return [
        ActionExecuted("action_session_start", timestamp=at),
        SessionStarted(timestamp=at + 0.01),
        ActionExecuted("action_listen", timestamp=at + 0.02),
    ]


def stored_rows(store: SQLTrackerStore, sender_id: str) -> List[Tuple[Any, ...]]:
    """The conversation's rows as written, without the id."""
    table = store.SQLEvent
    columns = (table.type_name, table.timestamp, table.intent_name, table.action_name, table.data)
    with store.session_scope() as session:
        query = sa.select(*columns).where(table.sender_id == sender_id).order_by(table.id)
        return [tuple(row) for row in session.execute(query)]


def as_dicts(tracker: DialogueStateTracker) -> List[Dict[str, Any]]:
    """A tracker's events, comparable across stores."""
    return [event.as_dict() for event in tracker.events]


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind the tracker store runs on."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    with fresh_postgres_database("commonground_tracker") as url:
        yield url


@pytest.fixture
def make_store(tracker_store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Builds our store on one database: several instances share it like replicas."""
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_store_url)
    made: List[ConfiguredSQLTrackerStore] = []

    def make(cache_conversations: int = 1000) -> ConfiguredSQLTrackerStore:
        monkeypatch.setenv("TRACKER_CACHE_CONVERSATIONS", str(cache_conversations))
        made.append(ConfiguredSQLTrackerStore(domain=DOMAIN))
        return made[-1]

    yield make
    for store in made:
        store.engine.dispose()


@pytest.fixture
def rasa_store(tmp_path: Path) -> SQLTrackerStore:
    """Rasa's own SQL tracker store on a file of its own: the behaviour to match."""
    return SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "rasa.db"))


class StatementLog:
    """Counts the SQL statements a store's engine runs."""

    def __init__(self, store: SQLTrackerStore) -> None:
        self.statements: List[str] = []
        sa.event.listen(store.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(" ".join(statement.split()))

    def reads_of_event_data(self) -> int:
        """How many statements read the events' stored JSON."""
        return sum(1 for s in self.statements if s.startswith("SELECT") and "events.data" in s)

    def session_counts(self) -> int:
        """How many statements counted the latest session's rows, as Rasa's store does before each save."""
        return sum(1 for s in self.statements if s.startswith("SELECT count(*)"))


async def handle_turn(store: SQLTrackerStore, sender_id: str, events: List[Event]) -> DialogueStateTracker:
    """What the Rasa server does with one message: retrieve (or start), add events, save."""
    tracker = await store.retrieve(sender_id) or DialogueStateTracker(sender_id, DOMAIN.slots)
    for event in events:
        tracker.update(event)
    await store.save(tracker)
    return tracker


def conversation_script(start: float) -> List[List[Event]]:
    """Five turns with a new session in the fourth."""
    return [
        session_start(start) + user_turn("hello", "greet", start + 1),
        user_turn("what is mediation?", "what_is_mediation", start + 2),
        user_turn("and arbitration?", "what_is_arbitration", start + 3),
        session_start(start + 4) + user_turn("hi again", "greet", start + 5),
        user_turn("thanks", "thank", start + 6),
    ]


async def test_stores_and_returns_what_rasas_store_does(make_store: Any, rasa_store: SQLTrackerStore) -> None:
    """Turn after turn, including a new session, rows and retrieved trackers equal those of Rasa's store."""
    ours = make_store()
    for turn in conversation_script(time.time()):
        await handle_turn(ours, "c1", turn)
        await handle_turn(rasa_store, "c1", turn)
        assert stored_rows(ours, "c1") == stored_rows(rasa_store, "c1")
        assert as_dicts(await ours.retrieve("c1")) == as_dicts(await rasa_store.retrieve("c1"))
    latest = await ours.retrieve("c1")
    assert [e.as_dict()["event"] for e in latest.events][:2] == ["session_started", "action"]
    assert latest.latest_message.text == "thanks"


async def test_a_checked_conversation_is_not_read_or_counted_again(make_store: Any) -> None:
    """Once seen, a conversation's events are neither read back nor counted again before saving."""
    store = make_store()
    start = time.time()
    await handle_turn(store, "c1", session_start(start) + user_turn("hello", "greet", start + 1))
    await handle_turn(store, "c1", user_turn("what is mediation?", "what_is_mediation", start + 2))
    log = StatementLog(store)
    for offset in range(3, 6):
        await handle_turn(store, "c1", user_turn("and then?", "tell_me_more", start + offset))
    assert log.reads_of_event_data() == 0
    assert log.session_counts() == 0
    assert len(stored_rows(store, "c1")) == 3 + 5 * 5


async def test_another_replicas_writes_are_seen(make_store: Any) -> None:
    """Events saved by another process are in the next tracker this one returns."""
    replica_a, replica_b = make_store(), make_store()
    start = time.time()
    await handle_turn(replica_a, "c1", session_start(start) + user_turn("hello", "greet", start + 1))
    await handle_turn(replica_a, "c1", user_turn("what is mediation?", "what_is_mediation", start + 2))
    await handle_turn(replica_b, "c1", user_turn("and arbitration?", "what_is_arbitration", start + 3))
    tracker = await handle_turn(replica_a, "c1", user_turn("thanks", "thank", start + 4))
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == [
        "hello",
        "what is mediation?",
        "and arbitration?",
        "thanks",
    ]
    assert len(stored_rows(replica_a, "c1")) == 3 + 4 * 5


@pytest.mark.parametrize("deleted_by", ["the same store", "another process"])
async def test_erased_conversations_are_gone(make_store: Any, deleted_by: str) -> None:
    """After an erasure, here or elsewhere, the conversation is not returned and starts afresh."""
    store = make_store()
    eraser = store if deleted_by == "the same store" else make_store()
    start = time.time()
    await handle_turn(store, "c1", session_start(start) + user_turn("hello", "greet", start + 1))
    await handle_turn(store, "c1", user_turn("what is mediation?", "what_is_mediation", start + 2))
    assert await store.retrieve("c1") is not None
    assert eraser.erase("c1") == 13
    assert await store.retrieve("c1") is None
    tracker = await handle_turn(store, "c1", user_turn("hi", "greet", start + 3))
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["hi"]
    assert len(stored_rows(store, "c1")) == 5


async def test_unsaved_changes_are_not_returned(make_store: Any) -> None:
    """A tracker changed but never saved (a failed turn) does not leak into the next retrieve."""
    store = make_store()
    start = time.time()
    await handle_turn(store, "c1", session_start(start) + user_turn("hello", "greet", start + 1))
    tracker = await store.retrieve("c1")
    tracker.update(UserUttered("lost", {"name": "greet"}, timestamp=start + 2))
    again = await store.retrieve("c1")
    assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["hello"]


async def test_saving_a_tracker_not_handed_out_counts_what_is_stored(make_store: Any) -> None:
    """A tracker this store did not hand out gets Rasa's count of stored events, so nothing is written twice."""
    replica_a, replica_b = make_store(), make_store()
    start = time.time()
    await handle_turn(replica_a, "c1", session_start(start) + user_turn("hello", "greet", start + 1))
    await replica_a.retrieve("c1")  # replica A now knows 1 turn
    await handle_turn(replica_b, "c1", user_turn("more", "tell_me_more", start + 2))
    from_elsewhere = await replica_b.retrieve("c1")
    for event in user_turn("thanks", "thank", start + 3):
        from_elsewhere.update(event)
    await replica_a.save(from_elsewhere)
    assert len(stored_rows(replica_a, "c1")) == 8 + 5 + 5
    assert as_dicts(await make_store(cache_conversations=0).retrieve("c1")) == as_dicts(from_elsewhere)


@pytest.mark.parametrize("cache_conversations, expected_kept", [(0, 0), (2, 2), (1000, 4)])
async def test_the_cache_is_bounded(make_store: Any, cache_conversations: int, expected_kept: int) -> None:
    """At most TRACKER_CACHE_CONVERSATIONS conversations are kept, the most recent ones; 0 keeps none."""
    store = make_store(cache_conversations)
    start = time.time()
    for sender in ("a", "b", "c", "d"):
        await handle_turn(store, sender, session_start(start) + user_turn("hello", "greet", start + 1))
        await handle_turn(store, sender, user_turn("more", "tell_me_more", start + 2))
    log = StatementLog(store)
    for sender in ("d", "c", "b", "a"):  # most recent first, so reading one does not push out the next
        assert (await store.retrieve(sender)).latest_message.text == "more"
    assert log.reads_of_event_data() == 4 - expected_kept


def test_sqlite_tracker_store_uses_a_write_ahead_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On SQLite, the tracker store writes through a write-ahead log, synced at checkpoints."""
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    store = ConfiguredSQLTrackerStore(domain=DOMAIN)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


async def test_sqlite_connections_are_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn after turn, the SQLite tracker store keeps its connection instead of opening one per query."""
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    store = ConfiguredSQLTrackerStore(domain=DOMAIN)
    connections: List[Any] = []
    sa.event.listen(store.engine, "connect", lambda dbapi_connection, record: connections.append(dbapi_connection))
    start = time.time()
    for turn in conversation_script(start):
        await handle_turn(store, "c1", turn)
    assert len(connections) <= 1


async def test_sqlite_writers_of_one_process_take_turns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Conversations saved at once on SQLite go in one after the other, never through SQLite's busy retries.

    With SQLite's busy timeout at 0, a writer that met another one's lock would fail at once
    ("database is locked"); every turn of every conversation is stored all the same.
    """
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    store = ConfiguredSQLTrackerStore(domain=DOMAIN)
    store.engine.dispose()
    sa.event.listen(store.engine, "connect", lambda dbapi_connection, record: dbapi_connection.execute("PRAGMA busy_timeout=0"))
    start = time.time()

    async def converse(sender_id: str) -> None:
        for turn in conversation_script(start):
            await handle_turn(store, sender_id, turn)

    senders = [f"c{number}" for number in range(16)]
    await asyncio.gather(*(converse(sender_id) for sender_id in senders))
    expected = sum(len(turn) for turn in conversation_script(start))
    assert [len(stored_rows(store, sender_id)) for sender_id in senders] == [expected] * len(senders)
