"""Requests to be contacted by a person at the firm: validation and consented storage."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, List, Optional

from sqlalchemy import Column, DateTime, Integer, String, Text, delete, select

from bot.db import Base, UsesDatabase

MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 1000
_EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()./-]+$")
_HAS_LETTER = re.compile(r"[^\W\d_]")
SKIP_WORDS = frozenset({"skip", "no", "none", "nothing", "n/a", "na", "no thanks", "-", "nope", "not now"})


class ConsultationRequestRow(Base):
    """A consented request to be contacted, linked to the conversation it came from."""

    __tablename__ = "consultation_requests"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    name = Column(String(MAX_NAME_CHARS), nullable=False)
    contact = Column(String(254), nullable=False)
    contact_kind = Column(String(8), nullable=False)
    description = Column(Text, nullable=False, default="")
    recommendation = Column(Text, nullable=True)
    consented_at = Column(DateTime(timezone=True), nullable=False)


@dataclass(frozen=True)
class Contact:
    """A validated way to reach someone: an email address or a phone number."""

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


def parse_contact(text: Any) -> Optional[Contact]:
    """An email address or phone number (7 to 15 digits) from `text`, or None."""
    if not isinstance(text, str):
        return None
    value = text.strip().rstrip(".")
    if _EMAIL.match(value) and len(value) <= 254:
        return Contact(kind="email", value=value.lower())
    digits = re.sub(r"\D", "", value)
    if _PHONE_CHARS.match(value) and 7 <= len(digits) <= 15:
        return Contact(kind="phone", value=("+" if value.startswith("+") else "") + digits)
    return None


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


class ConsultationStore(UsesDatabase):
    """Saves, reads and erases consultation requests; one session per call."""

    def save(self, request: ConsultationRequest) -> int:
        """Store a consented request; its id."""
        row = ConsultationRequestRow(
            conversation_id=request.conversation_id,
            name=request.name,
            contact=request.contact.value,
            contact_kind=request.contact.kind,
            description=request.description,
            recommendation=json.dumps(request.recommendation) if request.recommendation else None,
            consented_at=request.consented_at,
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return int(row.id)

    def for_conversation(self, conversation_id: str) -> List[ConsultationRequest]:
        """Every stored request from one conversation, oldest first."""
        with self._sessions() as session:
            rows = session.execute(
                select(ConsultationRequestRow)
                .where(ConsultationRequestRow.conversation_id == conversation_id)
                .order_by(ConsultationRequestRow.id)
            ).scalars()
            return [
                ConsultationRequest(
                    conversation_id=row.conversation_id,
                    name=row.name,
                    contact=Contact(kind=row.contact_kind, value=row.contact),
                    description=row.description,
                    recommendation=json.loads(row.recommendation) if row.recommendation else None,
                    consented_at=row.consented_at,
                )
                for row in rows
            ]

    def erase_conversation(self, conversation_id: str) -> int:
        """Delete every request from one conversation; how many were deleted."""
        with self._sessions.begin() as session:
            result = session.execute(
                delete(ConsultationRequestRow).where(ConsultationRequestRow.conversation_id == conversation_id)
            )
            return int(result.rowcount or 0)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(timezone.utc)
