"""The review inbox on real tracker stores (SQLite and PostgreSQL): candidates, grouping, decisions, export."""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
import yaml
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import sessionmaker

from bot.db import create_schema, session_factory
from bot.review.export import mask_for_training, plan_export, render_yaml, training_examples, write_export
from bot.review.inbox import (InboxFilter, ReviewDecisions, ReviewItem, classifier_guesses, group_similar,
                              open_groups, review_candidates)
from bot.stores import ConfiguredSQLTrackerStore
from tests.conftest import fresh_postgres_database

THRESHOLD = 0.5
STAFF = "staff@firm.example"


def parse(intent: str, confidence: float, others: Tuple[Tuple[str, float], ...] = (), promoted: Optional[str] = None) -> Dict[str, Any]:
    """parse_data as the understanding pipeline stores it; `promoted` is what an arbiter put first."""
    ranking = [{"name": intent, "confidence": confidence}] + [{"name": n, "confidence": c} for n, c in others]
    data: Dict[str, Any] = {"intent": {"name": promoted or intent, "confidence": 1.0 if promoted else confidence},
                            "intent_ranking": ranking, "entities": []}
    if promoted:
        data["intent_ranking"] = [{"name": promoted, "confidence": 1.0}] + ranking
        data["arbiter"] = {"intent": intent, "reason": "test"}
    return data


def turn(text: str, parse_data: Dict[str, Any], reply: str, kind: str, at: float, channel: str = "rest") -> List[Any]:
    """One user message and the bot's reply of that kind."""
    return [UserUttered(text, parse_data.get("intent"), parse_data=parse_data, timestamp=at, input_channel=channel),
            BotUttered(reply, data={"custom": {"kind": kind}}, timestamp=at + 0.5)]


CONVERSATIONS: Dict[str, List[Tuple[str, Dict[str, Any], str, str]]] = {
    "conv-a": [
        ("how much does mediation cost", parse("what_is_mediation", 0.31, (("meeting_formats", 0.2), ("greet", 0.1), ("thanks", 0.05))), "Sorry, I didn't get that.", "fallback"),
        ("what does a mediator charge, mail me at ana@example.com", parse("mediator_role", 0.62), "I can't answer that yet.", "not_covered"),
        ("what is mediation", parse("what_is_mediation", 0.97), "Mediation is ...", "answer"),
    ],
    "conv-b": [
        ("how much do mediators cost", parse("mediator_role", 0.45), "Sorry, I didn't get that.", "fallback"),
        ("I want a person", parse("request_consultation", 0.9), "I'll put you in touch.", "handoff"),
    ],
    "conv-c": [
        ("what's the weather", parse("out_of_scope", 0.95), "I only help with disputes.", "out_of_scope"),
        ("the mediator is what exactly", parse("mediator_role", 0.4, (("what_is_mediation", 0.35),)), "A mediator is ...", "answer"),
        ("is it binding", parse("legal_advice_boundary", 0.2, (("binding_agreements", 0.15),), promoted="binding_agreements"), "Agreements ...", "answer"),
    ],
}


def store_conversations(tracker_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The conversations above, saved through Rasa's SQL tracker store."""
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    store = ConfiguredSQLTrackerStore()
    start = time.time() - 3600
    for offset, (sender, turns) in enumerate(CONVERSATIONS.items()):
        events: List[Any] = []
        for index, (text, parse_data, reply, kind) in enumerate(turns):
            events += turn(text, parse_data, reply, kind, start + offset * 100 + index * 10, "telegram" if sender == "conv-c" else "rest")
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    store.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tuple[str, sessionmaker]]:
    """A tracker store holding CONVERSATIONS and a migrated project database, of each kind."""
    if request.param == "sqlite":
        tracker_url, database_url = f"sqlite:///{tmp_path / 'tracker.db'}", f"sqlite:///{tmp_path / 'cg.db'}"
        store_conversations(tracker_url, monkeypatch)
        create_schema(session_factory(database_url).kw["bind"])
        yield tracker_url, session_factory(database_url)
        return
    with fresh_postgres_database("cg_review") as url:
        store_conversations(url, monkeypatch)
        create_schema(session_factory(url).kw["bind"])
        yield url, session_factory(url)
        session_factory(url).kw["bind"].dispose()


def test_candidates_are_the_messages_not_handled_confidently(databases: Tuple[str, sessionmaker]) -> None:
    """Fallback, not-covered and out-of-scope replies, low confidence and a hand-over after a fallback; nothing else."""
    items = review_candidates(databases[0], THRESHOLD)
    assert [(i.conversation_id, i.message, i.reason) for i in items] == [
        ("conv-a", "how much does mediation cost", "fallback"),
        ("conv-a", "what does a mediator charge, mail me at [email]", "not_covered"),
        ("conv-b", "how much do mediators cost", "fallback"),
        ("conv-b", "I want a person", "handoff_after_fallback"),
        ("conv-c", "what's the weather", "out_of_scope"),
        ("conv-c", "the mediator is what exactly", "low_confidence"),
        ("conv-c", "is it binding", "low_confidence"),
    ]
    first = items[0]
    assert [(g.intent, g.confidence) for g in first.guesses] == [("what_is_mediation", 0.31), ("meeting_formats", 0.2), ("greet", 0.1)]
    assert (first.reply, first.reply_kind, first.channel) == ("Sorry, I didn't get that.", "fallback", "rest")
    assert items[-1].guesses[0].intent == "legal_advice_boundary"  # the classifier's own guess, not the promoted one
    assert {i.channel for i in items if i.conversation_id == "conv-c"} == {"telegram"}


@pytest.mark.parametrize("parse_data, expected", [
    (parse("greet", 0.8, (("thanks", 0.1),)), [("greet", 0.8), ("thanks", 0.1)]),
    (parse("impasse", 0.3, (("deny", 0.2),), promoted="safety"), [("impasse", 0.3), ("deny", 0.2)]),
    ({"intent": {"name": "greet", "confidence": 0.7}}, [("greet", 0.7)]),
    ({}, []),
])
def test_classifier_guesses(parse_data: Dict[str, Any], expected: List[Tuple[str, float]]) -> None:
    """The classifier's own ranking, without the arbiter's promoted intent."""
    assert [(g.intent, g.confidence) for g in classifier_guesses(parse_data)] == expected


def item(message: str, minute: int = 0, conversation: str = "c") -> ReviewItem:
    """A review item with that message."""
    from datetime import datetime, timezone

    return ReviewItem(conversation, minute, message, (), "", "fallback", "fallback", "rest",
                      datetime(2026, 12, 1, 10, minute, tzinfo=timezone.utc))


def test_similar_wordings_are_one_group() -> None:
    """Wordings of the same question group together; an unrelated one stays apart."""
    groups = group_similar([item("how much does mediation cost", 1), item("How much does a mediation cost?", 2),
                            item("what's the weather tomorrow", 3), item("mediation costs how much", 4)], 0.5)
    assert sorted(sorted(i.message for i in g.items) for g in groups) == [
        ["How much does a mediation cost?", "how much does mediation cost", "mediation costs how much"],
        ["what's the weather tomorrow"]]


def test_open_groups_sort_and_filter() -> None:
    """Sorted by count or recency; decided items and filtered-out items are gone."""
    items = [item("how much does mediation cost", 1, "a"), item("mediation cost how much", 2, "b"), item("weather", 30, "c")]
    by_count = open_groups(items, set(), InboxFilter(), 0.5)
    assert [g.count for g in by_count] == [2, 1]
    assert [g.example.message for g in open_groups(items, set(), InboxFilter(sort="recent"), 0.5)] == ["weather", "mediation cost how much"]
    assert [g.count for g in open_groups(items, {("a", 1)}, InboxFilter(), 0.5)] == [1, 1]
    assert open_groups(items, set(), InboxFilter(channel="telegram"), 0.5) == []


def test_decisions_drop_items_and_undo_brings_them_back(databases: Tuple[str, sessionmaker]) -> None:
    """A decision takes the items off the open list; undoing it puts them back; a new decision replaces an old one."""
    tracker_url, sessions = databases
    decisions = ReviewDecisions(sessions)
    items = review_candidates(tracker_url, THRESHOLD)
    ids = decisions.decide(items[:2], "topic", "mediator_role", "", STAFF)
    remaining = open_groups(items, decisions.decided_keys(), InboxFilter(), 0.5)
    assert sum(g.count for g in remaining) == len(items) - 2
    assert decisions.undo(ids[0], STAFF) is not None
    assert decisions.undo(ids[0], STAFF) is None
    assert sum(g.count for g in open_groups(items, decisions.decided_keys(), InboxFilter(), 0.5)) == len(items) - 1
    decisions.decide(items[1:2], "dismiss", None, "", STAFF)
    assert [(d.event_id, d.decision, d.intent) for d in decisions.active()] == [(items[1].event_id, "dismiss", None)]


@pytest.mark.parametrize("message, expected", [
    ("mail me at ana@example.com", "mail me at [email]"),
    ("my name is Ana Lopez and  my number is 07700 900123", "my name is [name] and my number is [phone]"),
    ("I'm Jo, is mediation binding", "I'm [name], is mediation binding"),
    ("i am not sure what mediation is", "i am not sure what mediation is"),
])
def test_masking_for_training(message: str, expected: str) -> None:
    """Emails, phone numbers and introduced names never reach the training data."""
    assert mask_for_training(message) == expected


def test_export_dedupes_lists_conflicts_and_masks(databases: Tuple[str, sessionmaker], tmp_path: Path) -> None:
    """New examples are written by intent; known ones skipped; contradictions listed; gaps in the CSV."""
    tracker_url, sessions = databases
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "existing.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n'
                                      '- intent: out_of_scope\n  examples: |\n    - What\'s the   WEATHER\n'
                                      '- intent: what_is_mediation\n  examples: |\n    - how much do [mediators](role) cost\n')
    decisions = ReviewDecisions(sessions)
    items = {i.message: i for i in review_candidates(tracker_url, THRESHOLD)}
    decisions.decide([items["how much does mediation cost"]], "topic", "mediator_role", "", STAFF)
    decisions.decide([items["what does a mediator charge, mail me at [email]"]], "topic", "mediator_role", "", STAFF)
    decisions.decide([items["how much do mediators cost"]], "topic", "mediator_role", "", STAFF)  # conflicts
    decisions.decide([items["what's the weather"]], "out_of_scope", None, "", STAFF)  # already known
    decisions.decide([items["I want a person"]], "dismiss", None, "", STAFF)
    decisions.decide([items["is it binding"]], "not_covered", None, "fees for binding agreements", STAFF)
    result = plan_export(decisions.active(), training_examples(nlu))
    assert result.examples == {"mediator_role": ["how much does mediation cost", "what does a mediator charge, mail me at [email]"]}
    assert result.already_known == ["what's the weather"]
    assert result.conflicts == [("how much do mediators cost", "mediator_role", "what_is_mediation")]
    out, reports = nlu / "reviewed.yml", tmp_path / "reports"
    write_export(result, out, reports)
    written = out.read_text()
    assert written.startswith("# Written by `make reviewed`")
    assert yaml.safe_load(written)["nlu"] == [{"intent": "mediator_role", "examples":
                                               "- how much does mediation cost\n- what does a mediator charge, mail me at [email]\n"}]
    assert "@" not in written
    with (reports / "needs-new-content.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["message"], r["note"], r["decided_by"]) for r in rows] == [("is it binding", "fees for binding agreements", STAFF)]
    assert "how much does mediation cost" not in training_examples(nlu)


def test_empty_export_is_valid_yaml() -> None:
    """With no decisions the file still parses and has no examples."""
    assert yaml.safe_load(render_yaml({})) == {"version": "3.1", "nlu": []}
