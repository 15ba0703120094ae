"""Rasa's tracker and lock stores, configured from the environment (bot/config.py).

`TRACKER_STORE_URL` is any SQLAlchemy URL (SQLite file by default, PostgreSQL in production);
`LOCK_STORE_URL` (redis://host:port/db) selects a Redis lock store (bot/lock_store.py), which several
Rasa processes or Sanic workers need so that one conversation is never handled twice at once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional, Union

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.engine import make_url

from bot import rasa_fixes
from bot.config import get_settings
from bot.lock_store import AtomicRedisLockStore

logger = logging.getLogger(__name__)

ERASURE_SLOT = "erasure_requested"


class ConfiguredSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on `TRACKER_STORE_URL`; erases a conversation when it asks to be."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[str] = None,
        event_broker: Optional[EventBroker] = None,
        **kwargs: Any,
    ) -> None:
        rasa_fixes.install()  # the Rasa server builds its stores once per process, at start
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

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store new events, or erase the whole conversation when the user asked for it."""
        if tracker.get_slot(ERASURE_SLOT):
            removed = self.erase(tracker.sender_id)
            logger.info("erased conversation on request (%d events)", removed)
            return
        await super().save(tracker)

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of one conversation; how many were deleted."""
        with self.session_scope() as session:
            removed = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        return int(removed)


class ConfiguredLockStore:
    """A Redis lock store (atomic, bot/lock_store.py) when `LOCK_STORE_URL` is set, else the in-memory one."""

    def __new__(cls, endpoint_config: Optional[EndpointConfig] = None) -> Union[RedisLockStore, InMemoryLockStore]:  # type: ignore[misc]
        rasa_fixes.install()  # the Rasa server builds its stores once per process, at start
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
        )
