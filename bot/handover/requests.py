"""Requests to be contacted by a person at the firm: validation, consented storage, and staff status.

Storing a request also writes its deliveries (bot/handover/outbox.py) in the same transaction, so a
request is never stored without the firm being told, nor told about without being stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, List, Optional, Sequence

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Column, DateTime, Index, Integer, String, Text, delete, func, select
from sqlalchemy.exc import IntegrityError

from bot.db import Base, UsesDatabase

MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 1000
MAX_NOTE_CHARS = 2000
_HAS_LETTER = re.compile(r"[^\W\d_]")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
SKIP_WORDS = frozenset({"skip", "no", "none", "nothing", "n/a", "na", "no thanks", "-", "nope", "not now"})
STATES = ("new", "contacted", "closed")


class ConsultationRequestRow(Base):
    """A consented request to be contacted, linked to the conversation it came from."""

    __tablename__ = "consultation_requests"
    # One request per confirming user message: a message handled again after a crash stores nothing new.
    __table_args__ = (Index("ix_consultation_requests_message", "conversation_id", "message_id", unique=True),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    name = Column(String(MAX_NAME_CHARS), nullable=False)
    contact = Column(String(254), nullable=False)
    contact_kind = Column(String(8), nullable=False)
    description = Column(Text, nullable=False, default="")
    recommendation = Column(Text, nullable=True)
    consented_at = Column(DateTime(timezone=True), nullable=False)
    other_party = Column(String(MAX_NAME_CHARS), nullable=False, default="", server_default="")
    state = Column(String(16), nullable=False, default="new", server_default="new", index=True)
    state_note = Column(Text, nullable=False, default="", server_default="")
    state_changed_at = Column(DateTime(timezone=True), nullable=True)
    state_changed_by = Column(String(254), nullable=True)
    message_id = Column(String(128), nullable=True)  # the user message that confirmed it (Rasa's message id)


@dataclass(frozen=True)
class Contact:
    """A validated way to reach someone: an email address or a phone number (E.164)."""

    kind: str
    value: str


def clean_name(text: Any) -> Optional[str]:
    """The name as given, trimmed, or None when it can't be a name."""
    if not isinstance(text, str):
        return None
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME_CHARS or not _HAS_LETTER.search(name) or "@" in name:
        return None
    return name


def clean_other_party(text: Any) -> Optional[str]:
    """The other party's name, "" when skipped, or None when it can't be a name."""
    if isinstance(text, str) and " ".join(text.split()).lower().strip(".! ") in SKIP_WORDS:
        return ""
    return clean_name(text)


def contact_problem(text: Any, region: str) -> Optional[str]:
    """What is wrong with `text` as a contact: "email", "phone", "unreadable"; None when it is fine."""
    if parse_contact(text, region) is not None:
        return None
    if isinstance(text, str) and "@" in text:
        return "email"
    if isinstance(text, str) and _PHONE_CHARS.match(text.strip()) and sum(c.isdigit() for c in text) >= 3:
        return "phone"
    return "unreadable"


def parse_contact(text: Any, region: str = "GB") -> Optional[Contact]:
    """An email address (syntax checked, no network) or a valid phone number in E.164, or None."""
    if not isinstance(text, str):
        return None
    value = text.strip().rstrip(".")
    if not value or len(value) > 254:
        return None
    if "@" in value:
        try:
            checked = validate_email(value, check_deliverability=False)
        except EmailNotValidError:
            return None
        return Contact(kind="email", value=checked.normalized.lower())
    if not _PHONE_CHARS.match(value):
        return None
    try:
        number = phonenumbers.parse(value, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return Contact(kind="phone", value=phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def clean_description(text: Any) -> Optional[str]:
    """The description, "" when the user skips it, or None when it is too long."""
    if not isinstance(text, str):
        return ""
    description = " ".join(text.split())
    if description.lower().strip(".! ") in SKIP_WORDS:
        return ""
    return description if len(description) <= MAX_DESCRIPTION_CHARS else None


@dataclass(frozen=True)
class ConsultationRequest:
    """What is stored for a consented request."""

    conversation_id: str
    name: str
    contact: Contact
    description: str
    recommendation: Optional[dict]
    consented_at: datetime
    other_party: str = ""
    id: Optional[int] = None
    state: str = "new"
    state_note: str = ""
    state_changed_at: Optional[datetime] = None
    state_changed_by: Optional[str] = None
    message_id: Optional[str] = None


def _from_row(row: ConsultationRequestRow) -> ConsultationRequest:
    return ConsultationRequest(
        id=int(row.id),
        conversation_id=row.conversation_id,
        name=row.name,
        contact=Contact(kind=row.contact_kind, value=row.contact),
        description=row.description,
        recommendation=json.loads(row.recommendation) if row.recommendation else None,
        consented_at=as_utc(row.consented_at),
        other_party=row.other_party or "",
        state=row.state,
        state_note=row.state_note or "",
        state_changed_at=as_utc(row.state_changed_at) if row.state_changed_at else None,
        state_changed_by=row.state_changed_by,
        message_id=row.message_id,
    )


class ConsultationStore(UsesDatabase):
    """Saves, reads, updates and erases consultation requests; one session per call."""

    def save(self, request: ConsultationRequest, channels: Sequence[str] = ()) -> int:
        """Store a consented request and one pending delivery per channel, in one transaction; its id.

        A request of the same conversation and `message_id` that is already stored (the confirming
        message handled again after a crash) is not stored again: its id is returned.
        """
        existing = self._id_for_message(request)
        if existing is not None:
            return existing
        try:
            return self._insert(request, channels)
        except IntegrityError:  # stored by another process a moment ago
            existing = self._id_for_message(request)
            if existing is None:
                raise
            return existing

    def _id_for_message(self, request: ConsultationRequest) -> Optional[int]:
        """The id of the request already stored for the request's conversation and message, or None."""
        if request.message_id is None:
            return None
        with self._sessions() as session:
            return session.execute(
                select(ConsultationRequestRow.id).where(
                    ConsultationRequestRow.conversation_id == request.conversation_id,
                    ConsultationRequestRow.message_id == request.message_id,
                )
            ).scalar_one_or_none()

    def _insert(self, request: ConsultationRequest, channels: Sequence[str]) -> int:
        """Insert the request and its deliveries in one transaction; its id."""
        from bot.handover.outbox import new_deliveries

        row = ConsultationRequestRow(
            conversation_id=request.conversation_id,
            name=request.name,
            contact=request.contact.value,
            contact_kind=request.contact.kind,
            description=request.description,
            recommendation=json.dumps(request.recommendation) if request.recommendation else None,
            consented_at=request.consented_at,
            other_party=request.other_party,
            state="new",
            state_note="",
            message_id=request.message_id,
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            session.add_all(new_deliveries(int(row.id), channels, request.consented_at))
            return int(row.id)

    def get(self, request_id: int) -> Optional[ConsultationRequest]:
        """One request by id, or None."""
        with self._sessions() as session:
            row = session.get(ConsultationRequestRow, request_id)
            return _from_row(row) if row is not None else None

    def for_conversation(self, conversation_id: str) -> List[ConsultationRequest]:
        """Every stored request from one conversation, oldest first."""
        with self._sessions() as session:
            rows = session.execute(
                select(ConsultationRequestRow)
                .where(ConsultationRequestRow.conversation_id == conversation_id)
                .order_by(ConsultationRequestRow.id)
            ).scalars()
            return [_from_row(row) for row in rows]

    def newest_first(self, state: Optional[str] = None, limit: int = 200) -> List[ConsultationRequest]:
        """Requests, newest first, optionally only those in `state`."""
        query = select(ConsultationRequestRow).order_by(ConsultationRequestRow.id.desc()).limit(limit)
        if state is not None:
            query = query.where(ConsultationRequestRow.state == state)
        with self._sessions() as session:
            return [_from_row(row) for row in session.execute(query).scalars()]

    def count_by_state(self) -> dict:
        """How many requests are in each state."""
        with self._sessions() as session:
            rows = session.execute(
                select(ConsultationRequestRow.state, func.count()).group_by(ConsultationRequestRow.state)
            ).all()
        counts = {state: 0 for state in STATES}
        counts.update({state: int(count) for state, count in rows})
        return counts

    def set_state(self, request_id: int, state: str, note: str, staff_email: str) -> bool:
        """Mark a request new, contacted or closed with a note; False when there is no such request."""
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        with self._sessions.begin() as session:
            row = session.get(ConsultationRequestRow, request_id)
            if row is None:
                return False
            row.state, row.state_note = state, note[:MAX_NOTE_CHARS]
            row.state_changed_at, row.state_changed_by = utc_now(), staff_email
            return True

    def erase_conversation(self, conversation_id: str) -> int:
        """Delete every request from one conversation, with its deliveries; how many requests were deleted."""
        from bot.handover.outbox import DeliveryRow

        with self._sessions.begin() as session:
            ids = select(ConsultationRequestRow.id).where(ConsultationRequestRow.conversation_id == conversation_id)
            session.execute(delete(DeliveryRow).where(DeliveryRow.request_id.in_(ids)).execution_options(synchronize_session=False))
            result = session.execute(
                delete(ConsultationRequestRow).where(ConsultationRequestRow.conversation_id == conversation_id)
            )
            return int(result.rowcount or 0)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """`moment` with its time zone; SQLite hands back naive UTC datetimes."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
