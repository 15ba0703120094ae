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
from bot.review.inbox import (Decision, InboxFilter, ReviewDecisions, ReviewItem, classifier_guesses, group_similar,
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
    items = review_candidates(databases[0], THRESHOLD, databases[1])
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


def test_the_summary_reads_only_new_events_and_keeps_no_text_of_handled_turns(databases: Tuple[str, sessionmaker],
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Read an event at a time or all at once, the candidates are the same; later events are read next time; erasure."""
    from sqlalchemy import select

    from bot.review import inbox
    from bot.review.models import ReviewTurnRow

    tracker_url, sessions = databases
    expected = [(i.event_id, i.message, i.reason, i.reply, i.guesses) for i in review_candidates(tracker_url, THRESHOLD, sessions)]
    one_by_one = inbox.ReviewSummary(session_factory(f"sqlite:///{Path(tracker_url[len('sqlite:///'):]).parent / 'other.db'}")
                                     if tracker_url.startswith("sqlite") else sessions)
    if not tracker_url.startswith("sqlite"):  # on PostgreSQL: the same database, read again from the start
        with sessions.begin() as session:
            session.execute(inbox.delete(ReviewTurnRow))
        one_by_one.rewind(0)
    create_schema(one_by_one._sessions.kw["bind"])
    monkeypatch.setattr(inbox, "REFRESH_BATCH", 1)  # every reply arrives in a later refresh than its message
    assert one_by_one.refresh(tracker_url, THRESHOLD) == sum(2 * len(turns) for turns in CONVERSATIONS.values())
    assert [(i.event_id, i.message, i.reason, i.reply, i.guesses) for i in one_by_one.items(THRESHOLD)] == expected
    assert one_by_one.refresh(tracker_url, THRESHOLD) == 0

    def stored() -> Dict[Optional[str], str]:
        with one_by_one._sessions() as session:
            return {row.message: row.conversation_id for row in session.execute(select(ReviewTurnRow)).scalars()}

    assert len(stored()) == len(expected) + 1 and "what is mediation" in stored()  # candidates, and conv-a's latest turn
    monkeypatch.setenv("TRACKER_STORE_URL", tracker_url)
    store = ConfiguredSQLTrackerStore()

    async def add() -> None:
        await store.save(DialogueStateTracker.from_events("conv-e", turn(
            "can I bring my dog", parse("out_of_scope", 0.9), "I only help with disputes.", "out_of_scope", time.time())))
        tracker = await store.retrieve("conv-a")
        for event in turn("thanks", parse("thanks", 0.99), "You're welcome.", "info", time.time()):
            tracker.update(event)
        await store.save(tracker)

    asyncio.run(add())
    store.engine.dispose()
    assert one_by_one.refresh(tracker_url, THRESHOLD) == 4
    assert "what is mediation" not in stored() and "thanks" in stored()  # answered, and no longer the latest turn: gone
    assert [i.message for i in one_by_one.items(THRESHOLD)][-1] == "can I bring my dog"
    assert one_by_one.erase_conversations(["conv-e", "conv-c"]) == 4
    assert {i.conversation_id for i in one_by_one.items(THRESHOLD)} == {"conv-a", "conv-b"}


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


# What other tests send to shared servers: repeated out-of-scope wordings, and messages without a latin word.
CROWD = ["what's the weather like tomorrow?", "what's the weather like", "weather tomorrow in Lisbon", "tell me a joke",
         "can you book me a flight", "how much does mediation cost", "🙂🙂🙂", "调解和谈判有什么区别？", "ما الفرق بين الوساطة والتفاوض",
         "?", "<img src=x onerror=alert(1)>", "{{7*7}} ${7*7} {firm_contact} %s %(x)s"]


def test_a_new_message_is_in_its_line_among_thousands_of_similar_ones() -> None:
    """With 2,400 earlier candidates, some without any latin word, the newest message is in exactly one line."""
    crowd = [item(f"{CROWD[n % len(CROWD)]}{' again' * (n % 3)}", 0, f"other-{n}") for n in range(2400)]
    ours = ReviewItem("ours", 99999, "what's the weather like tomorrow?", (), "", "out_of_scope", "out_of_scope", "rest",
                      crowd[-1].at.replace(hour=11))
    groups = open_groups([*crowd, ours], set(), InboxFilter(sort="recent"), 0.5)
    assert sum(g.count for g in groups) == 2401
    ours_in = [g for g in groups if ours in g.items]
    assert len(ours_in) == 1 and groups[0] is ours_in[0] and groups[0].example is ours
    assert any(g.example.message == "🙂🙂🙂" and g.count == 200 for g in groups)  # the same characters share a line


@pytest.mark.parametrize("messages", [["?"], ["🙂", "🙂🙂"], ["🙂", "what is mediation"]])
def test_messages_without_words_are_grouped_too(messages: List[str]) -> None:
    """A message of emoji, punctuation or another script has a line of its own instead of breaking the page."""
    groups = group_similar([item(m, n) for n, m in enumerate(messages)], 0.5)
    assert sorted(len(g.items) for g in groups) == [1] * len(messages)


def test_the_one_pass_grouping_for_many_wordings_matches_the_plain_leader_algorithm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond MAX_CLUSTERED_ITEMS wordings the blocked leader pass gives exactly the sequential algorithm's groups."""
    import random

    from sklearn.feature_extraction.text import TfidfVectorizer

    from bot.review import inbox

    rng = random.Random(5)
    words = "weather tomorrow rain cost mediation mediator fee lawyer court flight joke landlord deposit noise".split()
    messages = list(dict.fromkeys(" ".join(rng.choice(words) for _ in range(rng.randint(2, 5))) + f" n{rng.randint(1, 400)}"
                                  for _ in range(700)))
    vectors = TfidfVectorizer(analyzer=list, sublinear_tf=True).fit_transform([inbox.wording(m) for m in messages])
    dense, leaders, expected = vectors.toarray(), [], []  # type: ignore[var-annotated]
    for row in range(vectors.shape[0]):
        scores = [float(dense[row] @ dense[leader]) for leader in leaders]
        best = max(range(len(scores)), key=scores.__getitem__) if scores else None
        expected.append(best if best is not None and scores[best] >= 0.5 else len(leaders))
        if expected[-1] == len(leaders):
            leaders.append(row)
    assert inbox._leader_labels(vectors, 0.5, block=32) == expected
    monkeypatch.setattr(inbox, "MAX_CLUSTERED_ITEMS", 50)
    groups = group_similar([item(m, 0, f"c{n}") for n, m in enumerate(messages)], 0.5)
    assert len(groups) == len(set(expected)) and sum(g.count for g in groups) == len(messages)


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
    items = review_candidates(tracker_url, THRESHOLD, sessions)
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
    items = {i.message: i for i in review_candidates(tracker_url, THRESHOLD, sessions)}
    decisions.decide([items["how much does mediation cost"]], "topic", "mediator_role", "", STAFF)
    decisions.decide([items["what does a mediator charge, mail me at [email]"]], "topic", "mediator_role", "", STAFF)
    decisions.decide([items["how much do mediators cost"]], "topic", "mediator_role", "", STAFF)  # conflicts
    decisions.decide([items["what's the weather"]], "out_of_scope", None, "", STAFF)  # already known
    decisions.decide([items["I want a person"]], "dismiss", None, "", STAFF)
    decisions.decide([items["is it binding"]], "not_covered", None, "fees for binding agreements", STAFF)
    result = plan_export(decisions.active(), training_examples(nlu))
    assert result.examples == {"mediator_role": ["how much does mediation cost", "what does a mediator charge, mail me at [email]"],
                               "not_covered": ["is it binding"]}
    assert result.already_known == ["what's the weather"]
    assert result.conflicts == [("how much do mediators cost", "mediator_role", "what_is_mediation")]
    out, reports = nlu / "reviewed.yml", tmp_path / "reports"
    write_export(result, out, reports)
    written = out.read_text()
    assert written.startswith("# Written by `make reviewed`")
    assert yaml.safe_load(written)["nlu"] == [{"intent": "mediator_role", "examples":
                                               "- how much does mediation cost\n- what does a mediator charge, mail me at [email]\n"},
                                              {"intent": "not_covered", "examples": "- is it binding\n"}]
    assert "@" not in written
    with (reports / "needs-new-content.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["message"], r["note"], r["decided_by"]) for r in rows] == [("is it binding", "fees for binding agreements", STAFF)]
    assert "how much does mediation cost" not in training_examples(nlu)


def decision(message: str, kind: str, intent: Optional[str] = None, note: str = "", number: int = 1) -> Decision:
    """An active staff decision on a message of conversation conv-n."""
    from datetime import datetime, timezone

    return Decision(number, "conv-n", number, message, kind, intent, note, STAFF, datetime(2026, 12, 1, tzinfo=timezone.utc))


def test_not_covered_decisions_become_not_covered_examples_and_stay_in_the_csv(tmp_path: Path) -> None:
    """"Not covered" is exported as not_covered examples (masked, deduped, conflicts left out) and still listed for the KB."""
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "existing.yml").write_text('version: "3.1"\nnlu:\n- intent: not_covered\n  examples: |\n    - how long does mediation take\n'
                                      '- intent: mediator_role\n  examples: |\n    - what does a mediator do\n')
    decisions = [
        decision("Is mediation confidential? I'm Ana Lopez, ana@example.com, 07700 900123", "not_covered", note="privacy", number=1),
        decision("is mediation  CONFIDENTIAL? i'm [name], [email], [phone]", "not_covered", number=2),  # the same once masked
        decision("How long does mediation take?", "not_covered", number=3),  # already a not_covered example
        decision("what does a mediator do", "not_covered", number=4),  # the training data says mediator_role
        decision("can I appeal an arbitration award", "not_covered", number=5),
        decision("can i appeal an arbitration award", "topic", "binding_agreements", number=6),  # another decision disagrees
    ]
    result = plan_export(decisions, training_examples(nlu))
    assert result.examples == {"not_covered": ["Is mediation confidential? I'm [name], [email], [phone]"]}
    assert result.already_known == ["How long does mediation take?"]
    assert result.conflicts == [("what does a mediator do", "not_covered", "mediator_role"),
                                ("can I appeal an arbitration award", "binding_agreements, not_covered", "")]
    write_export(result, nlu / "reviewed.yml", tmp_path / "reports")
    written = (nlu / "reviewed.yml").read_text()
    assert yaml.safe_load(written)["nlu"] == [{"intent": "not_covered",
                                               "examples": "- Is mediation confidential? I'm [name], [email], [phone]\n"}]
    assert "Ana" not in written and "@" not in written and "0770" not in written
    with (tmp_path / "reports" / "needs-new-content.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["message"] for r in rows] == ["Is mediation confidential? I'm [name], [email], [phone]",
                                            "is mediation CONFIDENTIAL? i'm [name], [email], [phone]",
                                            "How long does mediation take?", "what does a mediator do",
                                            "can I appeal an arbitration award"]
    assert rows[0]["note"] == "privacy"


def test_empty_export_is_valid_yaml() -> None:
    """With no decisions the file still parses and has no examples."""
    assert yaml.safe_load(render_yaml({})) == {"version": "3.1", "nlu": []}
