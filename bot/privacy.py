"""Personal data: masking in logs, erasing one conversation, and deleting old conversations.

Command line:
  python -m bot.privacy erase CONVERSATION_ID      everything stored for one conversation
  python -m bot.privacy retention [--days N]        conversations idle for more than N days
                                                    (RETENTION_DAYS, default 90)
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from dataclasses import dataclass
from typing import List, Optional

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.config import get_settings
from bot.handover.requests import ConsultationStore

EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
PHONE = re.compile(r"(?<![\w/])\+?\(?\d[\d ()./-]{5,}\d(?![\w/])")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[./]\d{1,2}[./]\d{2,4}$")
MIN_PHONE_DIGITS = 7
TRACKER_EVENTS_TABLE = "events"


def mask_personal_data(value: str) -> str:
    """`value` with email addresses and phone numbers replaced by placeholders."""
    masked = EMAIL.sub("[email]", value)

    def phone(match: "re.Match[str]") -> str:
        found = match.group(0)
        if DATE.match(found) or sum(char.isdigit() for char in found) < MIN_PHONE_DIGITS:
            return found
        return "[phone]"

    return PHONE.sub(phone, masked)


class MaskingFilter(logging.Filter):
    """Masks emails and phone numbers in every log record it sees (attach it to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, masked; always keep the record."""
        try:
            rendered = record.getMessage()
        except (TypeError, ValueError):
            rendered = str(record.msg)
        record.msg = mask_personal_data(rendered)
        record.args = None
        return True


@dataclass(frozen=True)
class ErasureResult:
    """What was deleted for one conversation."""

    tracker_events: int
    consultation_requests: int
    review_decisions: int = 0


def _tracker_engine() -> Engine:
    return create_engine(get_settings().tracker_store_url, future=True)


def _has_events_table(engine: Engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table(TRACKER_EVENTS_TABLE)


def erase_conversation(conversation_id: str, consultations: Optional[ConsultationStore] = None) -> ErasureResult:
    """Delete the conversation's tracker events and its consultation requests."""
    engine = _tracker_engine()
    removed_events = 0
    if _has_events_table(engine):
        with engine.begin() as connection:
            removed_events = connection.execute(
                text(f"DELETE FROM {TRACKER_EVENTS_TABLE} WHERE sender_id = :sender"), {"sender": conversation_id}
            ).rowcount
    removed_requests = (consultations or ConsultationStore()).erase_conversation(conversation_id)
    removed_decisions = _review_decisions(consultations).erase_conversations([conversation_id])
    _forget_in_summaries([conversation_id], engine, consultations)
    return ErasureResult(tracker_events=int(removed_events or 0), consultation_requests=removed_requests,
                         review_decisions=removed_decisions)


def _forget_in_summaries(conversation_ids: List[str], tracker: Engine, consultations: Optional[ConsultationStore] = None) -> None:
    """Delete the conversations' rows from the dashboard's and the review inbox's summaries.

    Their marks go back to the newest remaining event: SQLite hands the ids of deleted newest events out again.
    """
    from bot.review.inbox import ReviewSummary

    sessions = consultations._session_factory if consultations is not None else None
    summaries = [_turn_summary(consultations), ReviewSummary(sessions)]
    newest = 0
    if _has_events_table(tracker):
        with tracker.connect() as connection:
            newest = int(connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {TRACKER_EVENTS_TABLE}")).scalar() or 0)
    for summary in summaries:
        summary.erase_conversations(conversation_ids)
        summary.rewind(newest)


def _turn_summary(consultations: Optional[ConsultationStore] = None):  # type: ignore[no-untyped-def]
    """The dashboard's summary rows in the same database as `consultations` (DATABASE_URL's by default)."""
    from bot.review.analytics import TurnSummary

    return TurnSummary(consultations._session_factory if consultations is not None else None)


def _review_decisions(consultations: Optional[ConsultationStore] = None):  # type: ignore[no-untyped-def]
    """The review decisions in the same database as `consultations` (DATABASE_URL's by default)."""
    from bot.review.inbox import ReviewDecisions

    return ReviewDecisions(consultations._session_factory if consultations is not None else None)


def delete_idle_conversations(max_age_days: float, now: Optional[float] = None) -> List[str]:
    """Delete every conversation whose last event is older than `max_age_days`; their ids."""
    engine = _tracker_engine()
    if not _has_events_table(engine):
        return []
    cutoff = (time.time() if now is None else now) - max_age_days * 86400
    with engine.begin() as connection:
        senders = [
            row[0]
            for row in connection.execute(
                text(f"SELECT sender_id FROM {TRACKER_EVENTS_TABLE} GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),
                {"cutoff": cutoff},
            )
        ]
        for sender in senders:
            connection.execute(text(f"DELETE FROM {TRACKER_EVENTS_TABLE} WHERE sender_id = :sender"), {"sender": sender})
    _review_decisions().erase_conversations(senders)
    _forget_in_summaries(senders, engine)
    return senders


def main(argv: Optional[List[str]] = None) -> int:
    """Run the erase or retention command."""
    parser = argparse.ArgumentParser(prog="python -m bot.privacy", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    erase = commands.add_parser("erase", help="delete everything stored for one conversation")
    erase.add_argument("conversation_id")
    retention = commands.add_parser("retention", help="delete conversations idle for longer than --days")
    retention.add_argument("--days", type=float, default=get_settings().retention_days)
    args = parser.parse_args(argv)
    if args.command == "erase":
        result = erase_conversation(args.conversation_id)
        print(f"erased {result.tracker_events} tracker events, {result.consultation_requests} consultation requests"
              f" and {result.review_decisions} review decisions")
    else:
        removed = delete_idle_conversations(args.days)
        print(f"deleted {len(removed)} conversations idle for more than {args.days:g} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
