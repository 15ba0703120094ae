"""The dashboard's SQL on a real summary of real tracker stores, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from rasa.shared.core.events import ActiveLoop, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from bot.console.accounts import StaffAccounts
from bot.db import create_schema, session_factory
from bot.handover.requests import ConsultationRequest, ConsultationStore, Contact
from bot.review.analytics import Dashboard, DashboardFilter, TurnSummary, consultation_funnel
from bot.stores import ConfiguredSQLTrackerStore
from tests.conftest import fresh_postgres_database
from tests.review.test_review import parse, store_conversations

TALK = {"title": "Talk to a person", "payload": "/request_consultation"}


def store_handover_conversation(tracker_url: str, monkeypatch: pytest.MonkeyPatch, at: float) -> None:
    """A conversation with a recommendation, the offer of a person, the consultation form and the hand-over."""
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    store = ConfiguredSQLTrackerStore()
    events: List[Any] = [
        UserUttered("suggest a process", parse("recommend_process", 0.9)["intent"], parse_data=parse("recommend_process", 0.9),
                    timestamp=at, input_channel="socketio"),
        BotUttered("Mediation suits you.", data={"custom": {"kind": "recommendation", "process": "mediation", "follow_ups": [TALK]}},
                   timestamp=at + 1),
        UserUttered("talk to a person", parse("request_consultation", 0.95)["intent"], parse_data=parse("request_consultation", 0.95),
                    timestamp=at + 10, input_channel="socketio"),
        ActiveLoop("consultation_form", timestamp=at + 11),
        BotUttered("Your request is with the firm.", data={"custom": {"kind": "handoff", "status": "stored"}}, timestamp=at + 12),
    ]
    asyncio.run(store.save(DialogueStateTracker.from_events("conv-d", events)))
    store.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def summary(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tuple[str, sessionmaker]]:
    """Tracker store with the review conversations and the hand-over one; the project database, migrated."""
    def fill(tracker_url: str, database_url: str) -> Tuple[str, sessionmaker]:
        store_conversations(tracker_url, monkeypatch)
        create_schema(session_factory(database_url).kw["bind"])
        return tracker_url, session_factory(database_url)

    if request.param == "sqlite":
        yield fill(f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'cg.db'}")
        return
    with fresh_postgres_database("cg_analytics") as url:
        yield fill(url, url)
        session_factory(url).kw["bind"].dispose()


def by_name(tables: List[Any]) -> Dict[str, List[List[Any]]]:
    """Table rows by table name."""
    return {table.name: table.rows for table in tables}


def test_dashboard_figures(summary: Tuple[str, sessionmaker], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table counts what the stored conversations hold; a second refresh adds only new events."""
    tracker_url, sessions = summary
    turns = TurnSummary(sessions)
    assert turns.refresh(tracker_url) > 0
    assert turns.refresh(tracker_url) == 0
    now = time.time()
    store_handover_conversation(tracker_url, monkeypatch, now)
    assert turns.refresh(tracker_url) == 5
    today = datetime.fromtimestamp(now, tz=timezone.utc).date()
    wanted = DashboardFilter(today - timedelta(days=1), today + timedelta(days=1))
    tables = by_name(Dashboard(sessions).tables(wanted))
    assert sorted((c, n) for _, c, n in tables["conversations_per_day"]) == [("rest", 2), ("socketio", 1), ("telegram", 1)]
    assert tables["messages_per_conversation"] == [["1", 0], ["2", 2], ["3–4", 2], ["5–9", 0], ["10+", 0]]
    assert tables["containment"] == [[4, 0, 0.0]]  # a, b, c each had an unhandled reply; d was handed over
    assert sum(row[1] for row in tables["unhandled_rates"]) == 10
    assert sum(row[2] * row[1] for row in tables["unhandled_rates"]) == pytest.approx(2)  # two fallbacks
    assert tables["top_topics"] == [["binding_agreements", 1], ["mediator_role", 1], ["what_is_mediation", 1]]
    assert tables["recommendations"] == [["mediation", 1]]
    assert tables["handover_funnel"][:2] == [["offered", 2], ["form started", 1]]  # b's hand-over reply and d
    assert sorted(row[1] for row in tables["top_unanswered"]) == [1, 1, 2]
    assert "[email]" in " ".join(row[0] for row in tables["top_unanswered"])
    telegram = by_name(Dashboard(sessions).tables(DashboardFilter(wanted.since, wanted.until, "telegram")))
    assert telegram["containment"] == [[1, 0, 0.0]]
    assert by_name(Dashboard(sessions).tables(DashboardFilter(date(2001, 1, 1), date(2001, 1, 2))))["containment"] == [[0, 0, 0.0]]
    assert turns.erase_conversations(["conv-d"]) == 2


def test_consultation_funnel_and_median_time_to_contacted(summary: Tuple[str, sessionmaker]) -> None:
    """Consented requests in the range, those marked contacted, and the median hours in between."""
    _, sessions = summary
    store, accounts = ConsultationStore(sessions), StaffAccounts(sessions)
    now = datetime.now(timezone.utc)
    ids = [store.save(ConsultationRequest(f"conv-{i}", "Ana", Contact("email", "a@b.co"), "", None, now - timedelta(hours=hours)), [])
           for i, hours in enumerate((2, 4, 6))]
    for request_id in ids[:2]:
        accounts.audit("staff@firm.example", "marked contacted", request_id, None)
    rows, median_hours = consultation_funnel(sessions, DashboardFilter(now.date() - timedelta(days=1), now.date()))
    assert rows == [["consented", 3], ["contacted", 2]]
    assert median_hours == pytest.approx(3.0, abs=0.05)
