"""The review tables: one row per staff decision on a user message of the tracker store."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, String, Text

from bot.db import Base


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
