"""The outbox: one row per delivery of a request (email, webhook, Clio Grow), written with the request.

The worker claims due rows in a short transaction (`SELECT ... FOR UPDATE SKIP LOCKED` on
PostgreSQL, so several workers never claim the same row; SQLite runs one worker), pushes their next
attempt one lease ahead, sends outside any transaction, then records the outcome. A worker killed
mid-send leaves the row to be claimed again when the lease runs out; the idempotency key lets the
receiver drop that rare second copy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Dict, Iterable, List, Optional, Sequence

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Text, select

from bot.db import Base, UsesDatabase

PENDING, SENT, FAILED = "pending", "sent", "failed"
MAX_ERROR_CHARS = 500


class DeliveryRow(Base):
    """One channel's delivery of one consultation request."""

    __tablename__ = "handover_deliveries"

    id = Column(Integer, primary_key=True, autoincrement=True)
    request_id = Column(Integer, ForeignKey("consultation_requests.id", ondelete="CASCADE"), nullable=False, index=True)
    channel = Column(String(16), nullable=False)
    idempotency_key = Column(String(64), nullable=False, unique=True)
    state = Column(String(16), nullable=False, default=PENDING, index=True)
    attempts = Column(Integer, nullable=False, default=0)
    created_at = Column(DateTime(timezone=True), nullable=False)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, index=True)
    last_error = Column(Text, nullable=True)
    sent_at = Column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True)
class Delivery:
    """A delivery as the worker and the console see it."""

    id: int
    request_id: int
    channel: str
    idempotency_key: str
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: Optional[str]
    sent_at: Optional[datetime]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff from `first_delay` doubling up to `max_delay`, giving up after `give_up_after`."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(minutes=2)

    def delay_after(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th failed attempt."""
        return min(self.first_delay * (2 ** max(attempts - 1, 0)), self.max_delay)


def new_deliveries(request_id: int, channels: Iterable[str], now: datetime) -> List[DeliveryRow]:
    """Pending rows for a newly stored request, due at once."""
    return [
        DeliveryRow(request_id=request_id, channel=channel, idempotency_key=f"cg-{request_id}-{channel}-{uuid.uuid4().hex}",
                    state=PENDING, attempts=0, created_at=now, next_attempt_at=now)
        for channel in channels
    ]


def _as_delivery(row: DeliveryRow) -> Delivery:
    from bot.handover.requests import as_utc

    return Delivery(
        id=int(row.id), request_id=int(row.request_id), channel=row.channel, idempotency_key=row.idempotency_key,
        state=row.state, attempts=int(row.attempts), created_at=as_utc(row.created_at),
        next_attempt_at=as_utc(row.next_attempt_at), last_error=row.last_error,
        sent_at=as_utc(row.sent_at) if row.sent_at else None,
    )


class Outbox(UsesDatabase):
    """Claims, completes and lists deliveries."""

    def claim_due(self, now: datetime, policy: RetryPolicy, limit: int = 10) -> List[Delivery]:
        """Due pending deliveries, each claimed for one lease (counted as an attempt)."""
        with self._sessions.begin() as session:
            query = (
                select(DeliveryRow)
                .where(DeliveryRow.state == PENDING, DeliveryRow.next_attempt_at <= now)
                .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
                .limit(limit)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(session.execute(query).scalars())
            for row in rows:
                row.attempts += 1
                row.next_attempt_at = now + policy.lease
            session.flush()
            return [_as_delivery(row) for row in rows]

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        """Record a successful send."""
        with self._sessions.begin() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is not None:
                row.state, row.sent_at, row.last_error = SENT, now, None

    def mark_attempt_failed(self, delivery_id: int, error: str, now: datetime, policy: RetryPolicy) -> None:
        """Record a failed attempt: retry later with backoff, or give up once the retry period is over."""
        with self._sessions.begin() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is None:
                return
            from bot.handover.requests import as_utc

            row.last_error = error[:MAX_ERROR_CHARS]
            retry_at = now + policy.delay_after(int(row.attempts))
            if retry_at - as_utc(row.created_at) > policy.give_up_after:
                row.state = FAILED
            else:
                row.next_attempt_at = retry_at

    def for_requests(self, request_ids: Sequence[int]) -> Dict[int, List[Delivery]]:
        """Deliveries of the given requests, by request id."""
        found: Dict[int, List[Delivery]] = {request_id: [] for request_id in request_ids}
        if not request_ids:
            return found
        with self._sessions() as session:
            rows = session.execute(
                select(DeliveryRow).where(DeliveryRow.request_id.in_(list(request_ids))).order_by(DeliveryRow.id)
            ).scalars()
            for row in rows:
                found[int(row.request_id)].append(_as_delivery(row))
        return found
