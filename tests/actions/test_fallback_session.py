"""Fallback suggestions and the session start that fills the configured contact slots."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionSuggestTopics
from actions.session import ActionSessionStart
from tests.actions.conftest import DOMAIN, make_tracker


async def test_fallback_suggests_the_ranked_topics_with_titles() -> None:
    """An unclear message gets up to three "did you mean" topics from the classifier's ranking."""
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "impasse", "confidence": 0.3},
        {"name": "greet", "confidence": 0.1},
        {"name": "unreasonable_demands", "confidence": 0.08},
    ]
    dispatcher = CollectingDispatcher()
    await ActionSuggestTopics().run(dispatcher, make_tracker("nlu_fallback", ranking=ranking), DOMAIN)
    [message] = dispatcher.messages
    assert message["text"].startswith("I'm not sure I understood")
    assert message["custom"]["kind"] == "fallback"
    assert message["custom"]["suggestions"] == [
        {"topic": "impasse", "title": "When you are stuck", "payload": "/impasse"},
        {"topic": "unreasonable_demands", "title": "When demands seem unreasonable", "payload": "/unreasonable_demands"},
    ]


async def test_fallback_asks_about_danger_first_when_danger_is_plausible() -> None:
    """When `safety` is a plausible reading ("I got attacked by my neighbour this morning"), the reply offers to say so first."""
    ranking = [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "safety", "confidence": 0.46}, {"name": "impasse", "confidence": 0.2}]
    dispatcher = CollectingDispatcher()
    await ActionSuggestTopics().run(dispatcher, make_tracker("nlu_fallback", ranking=ranking), DOMAIN)
    [message] = dispatcher.messages
    assert "may be in danger" in message["text"]
    assert message["custom"]["follow_ups"] == [
        {"title": "Someone may be in danger", "payload": "/safety"},
        {"title": "Talk to a person", "payload": "/request_consultation"},
    ]
    assert [s["topic"] for s in message["custom"]["suggestions"]] == ["impasse"]


async def test_fallback_without_danger_in_the_ranking_offers_a_person_only() -> None:
    """An unclear message with `safety` ranked low gets the usual follow-up: a person at the firm."""
    ranking = [{"name": "nlu_fallback", "confidence": 1.0}, {"name": "impasse", "confidence": 0.4}, {"name": "safety", "confidence": 0.1}]
    dispatcher = CollectingDispatcher()
    await ActionSuggestTopics().run(dispatcher, make_tracker("nlu_fallback", ranking=ranking), DOMAIN)
    [message] = dispatcher.messages
    assert "danger" not in message["text"]
    assert message["custom"]["follow_ups"] == [{"title": "Talk to a person", "payload": "/request_consultation"}]


async def test_fallback_without_a_likely_topic_offers_starter_topics() -> None:
    """When no topic is ranked, the suggestions are the three starter topics."""
    dispatcher = CollectingDispatcher()
    await ActionSuggestTopics().run(dispatcher, make_tracker("nlu_fallback", ranking=[]), DOMAIN)
    [message] = dispatcher.messages
    assert [s["topic"] for s in message["custom"]["suggestions"]] == [
        "mediation_vs_negotiation", "mediator_role", "meeting_formats",
    ]


async def test_session_start_fills_contact_slots_and_carries_others(monkeypatch) -> None:
    """A new session keeps earlier slots and sets the configured firm contact and emergency number."""
    monkeypatch.setenv("EMERGENCY_NUMBER", "999")
    monkeypatch.setenv("FIRM_CONTACT", "0800 123 456")
    tracker: Tracker = make_tracker("greet", slots={"last_topic": "impasse", "firm_contact": "old"})
    events = await ActionSessionStart().run(CollectingDispatcher(), tracker, DOMAIN)
    assert events == [
        SessionStarted(),
        SlotSet("last_topic", "impasse"),
        SlotSet("firm_contact", "0800 123 456"),
        SlotSet("emergency_number", "999"),
        ActionExecuted("action_listen"),
    ]
