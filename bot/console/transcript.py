"""A conversation's transcript, read from Rasa's SQL tracker store (`events` table)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import List

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from bot.privacy import TRACKER_EVENTS_TABLE

MAX_TRANSCRIPT_EVENTS = 2000


@dataclass(frozen=True)
class Utterance:
    """One message of the conversation."""

    speaker: str  # "user" or "bot"
    text: str
    at: datetime


@lru_cache(maxsize=None)
def _engine(url: str) -> Engine:
    return create_engine(url, future=True, pool_pre_ping=True)


def transcript(tracker_store_url: str, conversation_id: str) -> List[Utterance]:
    """The user's and the bot's messages in order; empty when the conversation is not stored."""
    engine = _engine(tracker_store_url)
    if not inspect(engine).has_table(TRACKER_EVENTS_TABLE):
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT type_name, timestamp, data FROM {TRACKER_EVENTS_TABLE} "
                 "WHERE sender_id = :sender AND type_name IN ('user', 'bot') ORDER BY id LIMIT :limit"),
            {"sender": conversation_id, "limit": MAX_TRANSCRIPT_EVENTS},
        ).all()
    said = []
    for type_name, timestamp, data in rows:
        try:
            message = (json.loads(data) or {}).get("text") or ""
        except (TypeError, ValueError):
            message = ""
        if message:
            said.append(Utterance(speaker=type_name, text=message,
                                  at=datetime.fromtimestamp(float(timestamp or 0), tz=timezone.utc)))
    return said
