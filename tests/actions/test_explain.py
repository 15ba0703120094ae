"""Topic answers and "tell me more", through the real dispatcher and tracker."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.explain import ActionExplainMore, ActionExplainNotCovered, ActionExplainTopic
from bot.understanding.intents import SITUATION_TOPICS
from tests.actions.conftest import DOMAIN, make_tracker, process

TOPIC_INTENTS = [
    "mediation_vs_negotiation", "what_is_mediation", "what_is_negotiation", "mediator_role",
    "mediator_decision_power", "arbitration_and_court", "voluntary_nature", "binding_agreements",
    "meeting_formats", "process_flexibility", "legal_advice_boundary", "communication_breakdown",
    "pressure_to_sign", "unreasonable_demands", "impasse", "other_side_unwilling", "avoid_face_to_face",
]


def only_message(dispatcher: CollectingDispatcher) -> Dict[str, Any]:
    """The single message an action sent."""
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0]


@pytest.mark.parametrize("intent", TOPIC_INTENTS)
async def test_every_topic_intent_gets_a_cited_answer(intent: str) -> None:
    """Each topic gets text, an `answer` payload with sources and follow-ups; situations offer a recommendation."""
    dispatcher = CollectingDispatcher()
    events = await ActionExplainTopic().run(dispatcher, make_tracker(intent), DOMAIN)
    message = only_message(dispatcher)
    payload = message["custom"]
    assert payload["kind"] == "answer"
    assert payload["topic"] == intent
    assert payload["sources"] and all(s["paragraph"].startswith("P") and s["quote"] for s in payload["sources"])
    assert payload["sources"][0]["paragraph"] in message["text"]
    assert {"title": "Tell me more", "payload": "/ask_more"} in payload["follow_ups"]
    assert {"title": "Talk to a person", "payload": "/request_consultation"} in payload["follow_ups"]
    offered = intent in SITUATION_TOPICS
    assert events == [SlotSet("last_topic", intent), SlotSet("recommendation_offered", offered)]
    assert ("Would you like me to suggest a process" in message["text"]) is offered


@pytest.mark.parametrize(
    "intent, entities, expected_topic",
    [
        ("mediator_role", [process("arbitration")], "arbitration_and_court"),
        ("mediator_role", [process("mediation")], "mediator_role"),
        ("mediator_decision_power", [process("court")], "arbitration_and_court"),
        ("what_is_mediation", [process("mediation"), process("negotiation")], "mediation_vs_negotiation"),
    ],
)
async def test_named_process_picks_the_topic(intent: str, entities: List[Dict[str, Any]], expected_topic: str) -> None:
    """"What does an arbitrator do?" and "what does a mediator do?" get different answers."""
    dispatcher = CollectingDispatcher()
    await ActionExplainTopic().run(dispatcher, make_tracker(intent, entities=entities), DOMAIN)
    assert only_message(dispatcher)["custom"]["topic"] == expected_topic


async def test_answer_text_is_the_short_answer_with_its_paragraph(repository) -> None:
    """The text carries the knowledge base's short answer and names the cited paragraph."""
    dispatcher = CollectingDispatcher()
    await ActionExplainTopic().run(dispatcher, make_tracker("mediator_decision_power"), DOMAIN)
    topic = repository.get_topic("mediator_decision_power")
    assert only_message(dispatcher)["text"].startswith(topic.short_answer)
    assert "(Source: P4" in only_message(dispatcher)["text"]


async def test_tell_me_more_explains_the_last_topic_in_detail(repository) -> None:
    """"Tell me more" gives the long explanation of `last_topic`, with sources."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("ask_more", slots={"last_topic": "meeting_formats"})
    await ActionExplainMore().run(dispatcher, tracker, DOMAIN)
    message = only_message(dispatcher)
    assert message["text"].startswith(repository.get_topic("meeting_formats").long_answer)
    assert message["custom"]["detail"] == "more"
    assert message["custom"]["topic"] == "meeting_formats"
    assert {"title": "Tell me more", "payload": "/ask_more"} not in message["custom"]["follow_ups"]


async def test_tell_me_more_without_a_topic_asks_which() -> None:
    """With nothing discussed yet, "tell me more" offers topics instead of guessing."""
    dispatcher = CollectingDispatcher()
    await ActionExplainMore().run(dispatcher, make_tracker("ask_more"), DOMAIN)
    message = only_message(dispatcher)
    assert message["text"] == "Happy to go into more detail. Which topic would you like to know more about?"
    assert message["custom"]["kind"] == "fallback"
    assert len(message["custom"]["suggestions"]) == 3


async def test_unknown_topic_falls_back_to_suggestions() -> None:
    """An intent with no knowledge-base topic gets suggestions, not an empty answer."""
    dispatcher = CollectingDispatcher()
    events = await ActionExplainTopic().run(dispatcher, make_tracker("greet"), DOMAIN)
    assert only_message(dispatcher)["custom"]["kind"] == "fallback"
    assert events == []


async def test_database_failure_gets_an_apology(database_url: str, monkeypatch) -> None:
    monkeypatch.delenv("FIRM_CONTACT", raising=False)
    """When the knowledge base can't be read the user gets an apology, not silence."""
    from actions.base import KnowledgeAction
    from bot.db import session_factory
    from bot.knowledge.repository import KnowledgeRepository

    empty = KnowledgeRepository(session_factory(database_url.replace("kb.db", "missing-tables.db")))
    monkeypatch.setattr(KnowledgeAction, "repository", empty)
    dispatcher = CollectingDispatcher()
    await ActionExplainTopic().run(dispatcher, make_tracker("impasse"), DOMAIN)
    message = only_message(dispatcher)
    assert message["text"].startswith("Sorry, something went wrong on my side")
    assert "the contact details on the firm's website" in message["text"]
    assert message["custom"]["kind"] == "error"


@pytest.mark.parametrize(
    "entities, ranking, expected_related",
    [
        ([process("mediation")], [{"name": "not_covered", "confidence": 0.8}, {"name": "voluntary_nature", "confidence": 0.1}],
         ["what_is_mediation", "voluntary_nature"]),
        ([process("court")], [{"name": "not_covered", "confidence": 0.9}], ["arbitration_and_court", "mediation_vs_negotiation", "mediator_role"]),
        ([], [{"name": "not_covered", "confidence": 0.9}], ["mediation_vs_negotiation", "mediator_role", "meeting_formats"]),
    ],
)
async def test_not_covered_offers_a_person_and_covered_topics(
    entities: List[Dict[str, Any]], ranking: List[Dict[str, Any]], expected_related: List[str]
) -> None:
    """A question the guide doesn't answer says so, offers a person first and up to three covered topics."""
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("not_covered", text="how much does it cost", entities=entities, ranking=ranking)
    events = await ActionExplainNotCovered().run(dispatcher, tracker, DOMAIN)
    message = only_message(dispatcher)
    assert message["text"].startswith("The firm's guide that I answer from doesn't cover that, so I won't guess.")
    payload = message["custom"]
    assert payload["kind"] == "not_covered"
    assert "sources" not in payload and "topic" not in payload
    assert payload["follow_ups"] == [{"title": "Talk to a person", "payload": "/request_consultation"}]
    assert [item["topic"] for item in payload["related"]] == expected_related
    assert all(item["payload"] == f"/{item['topic']}" and item["title"] for item in payload["related"])
    assert events == []
