"""The review tables: staff decisions on user messages of the tracker store, and the summary of candidates."""

from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, String, Text, delete, inspect, update

from bot.db import Base, UsesDatabase


class ReviewDecisionRow(Base):
    """A staff decision on one user message; undone decisions are kept (undone_at set) for the record."""

    __tablename__ = "review_decisions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(128), nullable=False, index=True)
    event_id = Column(Integer, nullable=False, index=True)
    message = Column(Text, nullable=False)  # already masked
    decision = Column(String(16), nullable=False)  # topic | out_of_scope | not_covered | dismiss
    intent = Column(String(64), nullable=True)
    note = Column(Text, nullable=False, default="")
    staff_email = Column(String(254), nullable=False)
    decided_at = Column(DateTime(timezone=True), nullable=False, index=True)
    undone_at = Column(DateTime(timezone=True), nullable=True)
    undone_by = Column(String(254), nullable=True)


class ReviewTurnRow(Base):
    """A user message of the tracker store that is a review candidate, or its conversation's latest (still open) turn."""

    __tablename__ = "review_turns"

    event_id = Column(Integer, primary_key=True, autoincrement=False)  # the user event's id in the tracker store
    conversation_id = Column(String(128), nullable=False, index=True)
    at = Column(Float, nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    message = Column(Text, nullable=True)  # masked; None for a button payload (never a candidate)
    guesses = Column(Text, nullable=False, default="[]")  # JSON [[intent, confidence], ...], the classifier's own top three
    confidence = Column(Float, nullable=True)  # the classifier's own top confidence
    reply = Column(Text, nullable=False, default="")  # the replies, masked
    reply_kind = Column(String(16), nullable=False, default="")  # the first reply's kind
    unhandled = Column(String(16), nullable=True)  # the first fallback, not_covered or out_of_scope reply kind
    had_fallback = Column(Boolean, nullable=False, default=False)
    handoff = Column(Boolean, nullable=False, default=False)
    after_fallback = Column(Boolean, nullable=False, default=False)  # the conversation's previous turn had a fallback


class ReviewStateRow(Base):
    """How far `review_turns` has read the tracker store's events."""

    __tablename__ = "review_state"

    id = Column(Integer, primary_key=True, autoincrement=False)
    last_event_id = Column(Integer, nullable=False)


class EventSummary(UsesDatabase):
    """A table of turns kept up to date from the tracker store's events, with a row saying how far it has read.

    Subclasses name their two tables (`turn_row`, `state_row`) and read the events themselves.
    """

    turn_row: Any
    state_row: Any

    def rewind(self, last_event_id: int) -> None:
        """Read again from `last_event_id` on (after events were deleted: SQLite may hand their ids out again)."""
        if not inspect(self._sessions.kw["bind"]).has_table(self.state_row.__tablename__):
            return
        with self._sessions.begin() as session:
            session.execute(update(self.state_row).where(self.state_row.last_event_id > last_event_id)
                            .values(last_event_id=last_event_id))

    def erase_conversations(self, conversation_ids: Sequence[str]) -> int:
        """Delete the rows of these conversations; how many."""
        if not conversation_ids or not inspect(self._sessions.kw["bind"]).has_table(self.turn_row.__tablename__):
            return 0
        with self._sessions.begin() as session:
            return int(session.execute(delete(self.turn_row).where(
                self.turn_row.conversation_id.in_(list(conversation_ids)))).rowcount or 0)
