"""Rasa's tracker and lock stores, configured from the environment (bot/config.py).

`TRACKER_STORE_URL` is any SQLAlchemy URL (SQLite file by default, PostgreSQL in production);
`LOCK_STORE_URL` (redis://host:port/db) selects a Redis lock store (bot/lock_store.py), which several
Rasa processes or Sanic workers need so that one conversation is never handled twice at once.

Rasa's SQL tracker store reads every event of a conversation back on each message and counts them
again before each save: about a third of the Rasa server's time per message in `make bench`. Ours
remembers, per process, the stored events of recent conversations and checks them with one
aggregate query (count and highest id of the conversation's rows) before trusting them, so a write
by another replica, an erasure or the retention command is always seen.

Both stores wait a bounded time (bot/deadlines.py): the tracker store's database work runs in
threads of its own and is given up after TRACKER_STORE_TIMEOUT_SECONDS (PostgreSQL connections are
also checked before use, so a restarted database is picked up by itself); the lock store's Redis
calls time out after LOCK_STORE_TIMEOUT_SECONDS, also in threads of their own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import sqlalchemy as sa
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot import deadlines, exactly_once, rasa_fixes
from bot.config import get_settings
from bot.lock_store import AtomicRedisLockStore

logger = logging.getLogger(__name__)

ERASURE_SLOT = "erasure_requested"
TRACKER_DATABASE = "the tracker store's database"


def pooled_sqlite_engine(url: URL) -> Engine:
    """An engine on a SQLite file that keeps its connections and writes through a write-ahead log.

    SQLAlchemy 1.4 opens a new SQLite connection for every session by default (about 5 % of the
    Rasa server's CPU per message). The write-ahead log is synced at checkpoints instead of at every
    commit: a commit still survives the server being killed, only a power cut or OS crash may lose
    the latest ones, and commits no longer wait for a busy disk while every conversation waits.
    """
    engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
    sa.event.listen(engine, "connect", _sync_at_checkpoints)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    return engine


def _sync_at_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite setting that goes with the write-ahead log."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def bounded_network_engine(url: URL, timeout_s: float) -> Engine:
    """An engine on a database server that waits at most about `timeout_s` to connect or for a pooled
    connection, and checks a pooled connection before use (a restarted server is picked up by itself)."""
    kwargs = create_engine_kwargs(url)  # Rasa's: schema, pool size
    if url.get_backend_name() == "postgresql":
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "connect_timeout": max(1, math.ceil(timeout_s))}
    return sa.create_engine(url, pool_pre_ping=True, pool_timeout=timeout_s, **kwargs)


@dataclass
class StoredSession:
    """What this process last saw stored for one conversation."""

    row_count: int  # rows of the conversation, all sessions
    last_row_id: int
    events_json: List[str]  # the latest session's events, as stored, in order
    # The tracker last built from this entry: its save may skip counting the stored events.
    handed_out: Optional["weakref.ReferenceType[DialogueStateTracker]"] = field(default=None, repr=False)


class ConfiguredSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on `TRACKER_STORE_URL`, with checked per-process reuse of stored events.

    Also erases a conversation when it asks to be. Its failures reach the channels, which apologise
    (`fails_loudly`: Rasa's fail-safe in-memory fallback is not used, bot/deadlines.py).
    """

    fails_loudly = True

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        rasa_fixes.install()  # the Rasa server builds its stores once per process, at start
        deadlines.install()
        exactly_once.install()
        url = make_url(get_settings().tracker_store_url)
        if url.get_backend_name() == "sqlite" and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database or "",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            login_db="postgres" if url.get_backend_name() == "postgresql" else None,
            query=dict(url.query),
        )
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self.engine.dispose()
            self.engine = pooled_sqlite_engine(self.engine.url)
            self.sessionmaker = sessionmaker(bind=self.engine)
        elif url.get_backend_name() != "sqlite":
            engine_url = self.engine.url
            self.engine.dispose()
            self.engine = bounded_network_engine(engine_url, get_settings().tracker_store_timeout_s)
            self.sessionmaker = sessionmaker(bind=self.engine)
        # SQLite lets one writer in at a time and makes the others retry after sleeps of up to 100 ms;
        # this process's own writers queue on a lock instead, and each goes in as the last one is done.
        self._writes: Any = threading.Lock() if url.get_backend_name() == "sqlite" else contextlib.nullcontext()
        self.cache_size = get_settings().tracker_cache_conversations
        self.timeout_s = get_settings().tracker_store_timeout_s
        self._stored: "OrderedDict[str, StoredSession]" = OrderedDict()
        self._executor = deadlines.blocking_executor("tracker-store")

    async def _in_database(self, function: Any, *args: Any) -> Any:
        """Run blocking database work off the event loop, given up after TRACKER_STORE_TIMEOUT_SECONDS."""
        return await deadlines.call_blocking(self._executor, TRACKER_DATABASE, self.timeout_s, function, *args)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The tracker of the conversation's latest session, as Rasa's store returns it; None if none is stored."""
        cached = self._stored.get(sender_id)
        stored = await self._in_database(self._read_stored, sender_id, cached)
        if stored is not cached:
            self._stored.pop(sender_id, None)
        if stored is None or not stored.events_json or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(
            sender_id, [json.loads(event) for event in stored.events_json], self.domain.slots
        )
        stored.handed_out = weakref.ref(tracker)
        self._remember(sender_id, stored)
        return tracker

    def _read_stored(self, sender_id: str, cached: Optional[StoredSession]) -> Optional[StoredSession]:
        """`cached` if it still matches the database, else the conversation's latest session read afresh."""
        with self.session_scope() as session:
            # The check comes first: a write landing between the two reads makes the entry stale, never wrong.
            row_count, last_row_id = self._stored_rows(session, sender_id)
            if cached is not None and (cached.row_count, cached.last_row_id) == (row_count, last_row_id):
                return cached
            if not row_count:
                return None
            return StoredSession(row_count, last_row_id, self._latest_session_json(session, sender_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, or erase the whole conversation when the user asked for it."""
        sender_id = tracker.sender_id
        if tracker.get_slot(ERASURE_SLOT):
            removed = await self._in_database(self.erase, sender_id)
            logger.info("erased conversation on request (%d events)", removed)
            return
        await self.stream_events(tracker)
        stored = self._stored.pop(sender_id, None)
        if stored is not None and (stored.handed_out is None or stored.handed_out() is not tracker):
            stored = None  # not the tracker that entry was checked for: count what is stored, as Rasa does
        known_stored = len(stored.events_json) if stored is not None else None
        new_events, rows, stored_now = await self._in_database(
            self._write_new_events, sender_id, list(tracker.events), known_stored
        )
        logger.debug("stored %d new events of a conversation", len(rows))
        if stored is None or any(isinstance(event, SessionStarted) for event in new_events):
            return  # the next retrieve reads the new session from the database
        if stored_now[0] != stored.row_count + len(rows):
            return  # rows appeared or vanished meanwhile (an erasure): read afresh next time
        stored.row_count, stored.last_row_id = stored_now
        stored.events_json.extend(row["data"] for row in rows)
        self._remember(sender_id, stored)

    def _write_new_events(
        self, sender_id: str, events: List[Event], known_stored: Optional[int]
    ) -> Tuple[List[Event], List[Dict[str, Any]], Tuple[int, int]]:
        """Insert the events after the stored ones; (new events, their rows, rows stored now or (0, 0))."""
        with self._writes, self.session_scope() as session:
            already_stored = (
                known_stored
                if known_stored is not None
                else self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            )
            new_events = events[already_stored:]
            rows = [self._row(sender_id, event) for event in new_events]
            stored_now = (0, 0)
            if rows:
                session.execute(sa.insert(self.SQLEvent.__table__), rows)  # one executemany, not one ORM flush per row
            if known_stored is not None:
                stored_now = self._stored_rows(session, sender_id)  # under the conversation's lock: ours alone
            session.commit()
        return new_events, rows, stored_now

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; how many were deleted."""
        self._stored.pop(sender_id, None)
        with self._writes, self.session_scope() as session:
            removed = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        return int(removed)

    def _stored_rows(self, session: Session, sender_id: str) -> Tuple[int, int]:
        """How many rows the conversation has, over all sessions, and its highest row id (0 if none)."""
        row_count, last_row_id = session.execute(
            select(func.count(self.SQLEvent.id), func.max(self.SQLEvent.id)).where(
                self.SQLEvent.sender_id == sender_id
            )
        ).one()
        return int(row_count), int(last_row_id or 0)

    def _latest_session_json(self, session: Session, sender_id: str) -> List[str]:
        """The stored events of the conversation's latest session, in order (Rasa's own query)."""
        query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
        return [data for (data,) in query.with_entities(self.SQLEvent.data)]

    @staticmethod
    def _row(sender_id: str, event: Event) -> Dict[str, Any]:
        """One event's row as Rasa's SQL tracker store writes it."""
        data = event.as_dict()
        return {
            "sender_id": sender_id,
            "type_name": event.type_name,
            "timestamp": data.get("timestamp"),
            "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
            "action_name": data.get("name"),
            "data": json.dumps(data),
        }

    def _remember(self, sender_id: str, stored: StoredSession) -> None:
        """Keep `stored` as the most recent entry, dropping the oldest beyond the cache size."""
        if self.cache_size <= 0:
            return
        self._stored[sender_id] = stored
        self._stored.move_to_end(sender_id)
        while len(self._stored) > self.cache_size:
            self._stored.popitem(last=False)


class ConfiguredLockStore:
    """A Redis lock store (atomic, bot/lock_store.py) when `LOCK_STORE_URL` is set, else the in-memory one."""

    def __new__(cls, endpoint_config: Optional[EndpointConfig] = None) -> Union[RedisLockStore, InMemoryLockStore]:  # type: ignore[misc]
        rasa_fixes.install()  # the Rasa server builds its stores once per process, at start
        deadlines.install()
        exactly_once.install()
        settings = get_settings()
        if not settings.lock_store_url:
            if settings.sanic_workers > 1:
                raise ValueError("SANIC_WORKERS > 1 needs a shared lock store: set LOCK_STORE_URL=redis://host:6379/1")
            return InMemoryLockStore()
        url = make_url(settings.lock_store_url)
        return AtomicRedisLockStore(
            host=url.host or "localhost",
            port=url.port or 6379,
            db=int(url.database or 1),
            username=url.username,
            password=url.password,
            key_prefix="commonground",
            socket_timeout=settings.lock_store_timeout_s,
            lock_lifetime=settings.lock_lifetime_s,
        )
