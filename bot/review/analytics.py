"""Analytics for the console's dashboard, computed with SQL on a summary table of the tracker store's events.

`refresh_turns` copies what the dashboard needs from Rasa's `events` table into `analytics_turns` (one row
per user message, with the kind of the reply it got), reading only events newer than the last refresh.
The dashboard's queries then group that table; the same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Text, and_, case, func, inspect, select, text

from bot.db import Base, UsesDatabase
from bot.privacy import TRACKER_EVENTS_TABLE, mask_personal_data
from bot.review.inbox import UNHANDLED_KINDS, _data, _engine, _reply_kind
from bot.review.models import EventSummary

REFRESH_BATCH = 20_000
HANDOVER_PAYLOAD = "/request_consultation"
CONSULTATION_FORM = "consultation_form"
HISTOGRAM_BUCKETS = ((1, 1, "1"), (2, 2, "2"), (3, 4, "3–4"), (5, 9, "5–9"), (10, 10**9, "10+"))


class AnalyticsTurnRow(Base):
    """One user message and what the assistant did with it (its text, masked, only until a handled reply is seen)."""

    __tablename__ = "analytics_turns"
    __table_args__ = (Index("ix_analytics_turns_day_channel", "day", "channel"),)

    event_id = Column(Integer, primary_key=True, autoincrement=False)
    conversation_id = Column(String(128), nullable=False, index=True)
    at = Column(Float, nullable=False)
    day = Column(String(10), nullable=False)
    channel = Column(String(32), nullable=False)
    intent = Column(String(64), nullable=True)
    kind = Column(String(16), nullable=True)
    handover_offered = Column(Boolean, nullable=False, default=False)
    form_started = Column(Boolean, nullable=False, default=False)
    process = Column(String(32), nullable=True)
    message = Column(Text, nullable=True)


class AnalyticsStateRow(Base):
    """How far the summary has read the tracker store's events."""

    __tablename__ = "analytics_state"

    id = Column(Integer, primary_key=True, autoincrement=False)
    last_event_id = Column(Integer, nullable=False)


def _day(at: float) -> str:
    return datetime.fromtimestamp(at, tz=timezone.utc).strftime("%Y-%m-%d")


class TurnSummary(EventSummary):
    """Keeps `analytics_turns` up to date with the tracker store."""

    turn_row = AnalyticsTurnRow
    state_row = AnalyticsStateRow

    def refresh(self, tracker_store_url: str) -> int:
        """Read the events added since the last refresh; how many events were read."""
        tracker = _engine(tracker_store_url)
        if not inspect(tracker).has_table(TRACKER_EVENTS_TABLE):
            return 0
        read = 0
        while True:
            with self._sessions() as session:
                state = session.get(AnalyticsStateRow, 1)
                last = int(state.last_event_id) if state else 0
            with tracker.connect() as connection:
                rows = connection.execute(text(
                    f"SELECT id, sender_id, type_name, timestamp, data FROM {TRACKER_EVENTS_TABLE} "
                    "WHERE id > :last AND type_name IN ('user', 'bot', 'active_loop') ORDER BY id LIMIT :limit"),
                    {"last": last, "limit": REFRESH_BATCH}).all()
            if not rows:
                return read
            self._apply(rows)
            read += len(rows)

    def _apply(self, rows: Sequence[Sequence[Any]]) -> None:
        with self._sessions.begin() as session:
            current: Dict[str, Optional[AnalyticsTurnRow]] = {}
            for event_id, sender, type_name, timestamp, raw in rows:
                data = _data(raw)
                if type_name == "user":
                    parse_data = data.get("parse_data") if isinstance(data.get("parse_data"), dict) else {}
                    intent = (parse_data.get("intent") or {}).get("name") if isinstance(parse_data.get("intent"), dict) else None
                    turn = AnalyticsTurnRow(event_id=int(event_id), conversation_id=str(sender)[:128], at=float(timestamp or 0),
                                            day=_day(float(timestamp or 0)), channel=str(data.get("input_channel") or "unknown")[:32],
                                            intent=str(intent)[:64] if intent else None, handover_offered=False, form_started=False,
                                            message=mask_personal_data(" ".join(str(data.get("text") or "").split())[:1000]) or None)
                    session.add(turn)
                    current[sender] = turn
                    continue
                if sender not in current:
                    current[sender] = session.execute(select(AnalyticsTurnRow).where(AnalyticsTurnRow.conversation_id == str(sender)[:128])
                                                      .order_by(AnalyticsTurnRow.event_id.desc()).limit(1)).scalar_one_or_none()
                turn = current[sender]
                if turn is None:
                    continue
                if type_name == "active_loop":
                    turn.form_started = turn.form_started or data.get("name") == CONSULTATION_FORM
                    continue
                custom = (data.get("data") or {}).get("custom") if isinstance(data.get("data"), dict) else None
                kind = _reply_kind(data)
                if kind and (turn.kind is None or kind in UNHANDLED_KINDS or kind == "handoff"):
                    turn.kind = kind[:16]
                    if kind not in UNHANDLED_KINDS:
                        turn.message = None  # the text is kept only for the "top unanswered" groups
                if isinstance(custom, dict):
                    follow_ups = custom.get("follow_ups") or []
                    if kind == "handoff" or any(isinstance(f, dict) and f.get("payload") == HANDOVER_PAYLOAD for f in follow_ups):
                        turn.handover_offered = True
                    if kind == "recommendation" and custom.get("process"):
                        turn.process = str(custom["process"])[:32]
            state = session.get(AnalyticsStateRow, 1)
            if state is None:
                session.add(AnalyticsStateRow(id=1, last_event_id=int(rows[-1][0])))
            else:
                state.last_event_id = int(rows[-1][0])


@dataclass(frozen=True)
class DashboardFilter:
    """Date range (inclusive, UTC days) and channel."""

    since: date
    until: date
    channel: str = ""


@dataclass
class Table:
    """One chart's numbers: column titles and rows."""

    name: str
    title: str
    columns: List[str]
    rows: List[List[Any]]


class Dashboard(UsesDatabase):
    """The dashboard's figures for a filter."""

    def _where(self, wanted: DashboardFilter) -> Any:
        clauses = [AnalyticsTurnRow.day >= wanted.since.isoformat(), AnalyticsTurnRow.day <= wanted.until.isoformat()]
        if wanted.channel:
            clauses.append(AnalyticsTurnRow.channel == wanted.channel)
        return and_(*clauses)

    def channels(self) -> List[str]:
        """Every channel seen."""
        with self._sessions() as session:
            return [r[0] for r in session.execute(select(AnalyticsTurnRow.channel).distinct().order_by(AnalyticsTurnRow.channel))]

    def tables(self, wanted: DashboardFilter, requests_by_process: Optional[List[List[Any]]] = None) -> List[Table]:
        """Every table of the dashboard."""
        t = AnalyticsTurnRow
        where = self._where(wanted)
        unhandled_or_handoff = case((t.kind.in_((*UNHANDLED_KINDS, "handoff")), 1), else_=0)
        with self._sessions() as session:
            per_day = session.execute(select(t.day, t.channel, func.count(func.distinct(t.conversation_id)))
                                      .where(where).group_by(t.day, t.channel).order_by(t.day, t.channel)).all()
            conversations = select(t.conversation_id, func.count().label("messages"),
                                   func.max(unhandled_or_handoff).label("escalated")).where(where).group_by(t.conversation_id).subquery()
            lengths = session.execute(select(conversations.c.messages, func.count()).group_by(conversations.c.messages)).all()
            contained = session.execute(select(func.count(), func.sum(case((conversations.c.escalated == 0, 1), else_=0)))).one()
            rates = session.execute(select(t.day, func.count(),
                                           *[func.sum(case((t.kind == kind, 1), else_=0)) for kind in UNHANDLED_KINDS])
                                    .where(where).group_by(t.day).order_by(t.day)).all()
            topics = session.execute(select(t.intent, func.count()).where(where, t.kind == "answer", t.intent.isnot(None))
                                     .group_by(t.intent).order_by(func.count().desc(), t.intent).limit(10)).all()
            processes = session.execute(select(t.process, func.count()).where(where, t.process.isnot(None))
                                        .group_by(t.process).order_by(func.count().desc(), t.process)).all()
            funnel = session.execute(select(
                func.count(func.distinct(case((t.handover_offered.is_(True), t.conversation_id)))),
                func.count(func.distinct(case((t.form_started.is_(True), t.conversation_id))))).where(where)).one()
            unanswered = session.execute(select(t.message, t.at).where(where, t.kind.in_(UNHANDLED_KINDS), t.message.isnot(None))
                                         .order_by(t.at.desc()).limit(2000)).all()
        total, kept = int(contained[0] or 0), int(contained[1] or 0)
        histogram = [[label, sum(int(n) for m, n in lengths if low <= int(m) <= high)] for low, high, label in HISTOGRAM_BUCKETS]
        return [
            Table("conversations_per_day", "Conversations per day by channel", ["day", "channel", "conversations"],
                  [[d, c, int(n)] for d, c, n in per_day]),
            Table("messages_per_conversation", "Messages per conversation", ["messages", "conversations"], histogram),
            Table("containment", "Containment (no fallback, not-covered, out-of-scope reply or hand-over)",
                  ["conversations", "contained", "share"], [[total, kept, round(kept / total, 3) if total else 0.0]]),
            Table("unhandled_rates", "Fallback, not-covered and out-of-scope rates per day",
                  ["day", "messages", "fallback", "not_covered", "out_of_scope"],
                  [[d, int(n), *[round(int(x or 0) / int(n), 3) for x in counts]] for d, n, *counts in rates]),
            Table("top_topics", "Top topics answered", ["topic", "messages"], [[i, int(n)] for i, n in topics]),
            Table("top_unanswered", "Top unanswered groups", ["example", "messages"], _unanswered_groups(unanswered)),
            Table("recommendations", "Recommendations by process", ["process", "recommendations"], [[p, int(n)] for p, n in processes]),
            Table("handover_funnel", "Hand-over funnel", ["step", "conversations"],
                  [["offered", int(funnel[0] or 0)], ["form started", int(funnel[1] or 0)], *(requests_by_process or [])]),
        ]


def _unanswered_groups(rows: Sequence[Tuple[str, float]], limit: int = 10) -> List[List[Any]]:
    from bot.review.inbox import ReviewItem, group_similar

    items = [ReviewItem("", index, message, (), "", "", "", "", datetime.fromtimestamp(at, tz=timezone.utc))
             for index, (message, at) in enumerate(rows)]
    groups = sorted(group_similar(items, 0.5), key=lambda g: -g.count)[:limit]
    return [[g.example.message, g.count] for g in groups]


def consultation_funnel(session_factory: Any, wanted: DashboardFilter) -> Tuple[List[List[Any]], Optional[float]]:
    """Consented and contacted requests in the range, and the median hours from request to "contacted"."""
    from bot.console.models import AuditRow
    from bot.handover.requests import ConsultationRequestRow, as_utc

    start = datetime.combine(wanted.since, datetime.min.time(), tzinfo=timezone.utc)
    end = datetime.combine(wanted.until + timedelta(days=1), datetime.min.time(), tzinfo=timezone.utc)
    with session_factory() as session:
        requests = session.execute(select(ConsultationRequestRow.id, ConsultationRequestRow.consented_at)
                                   .where(ConsultationRequestRow.consented_at >= start, ConsultationRequestRow.consented_at < end)).all()
        contacted = dict(session.execute(select(AuditRow.request_id, func.min(AuditRow.at))
                                         .where(AuditRow.action == "marked contacted").group_by(AuditRow.request_id)).all())
    waits = [(as_utc(contacted[r]) - as_utc(at)).total_seconds() / 3600 for r, at in requests if r in contacted]
    rows = [["consented", len(requests)], ["contacted", len(waits)]]
    return rows, round(statistics.median(waits), 2) if waits else None
