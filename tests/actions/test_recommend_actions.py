"""Recommendation actions: gathering facts, the form's questions, the result, safety in one turn."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.recommend import (
    ActionCancel,
    ActionGatherFacts,
    ActionRecommend,
    ActionRecommendIfAsked,
    ValidateRecommendationForm,
)
from bot.recommend import FACTS, UNSURE

DOMAIN: Dict[str, Any] = {
    "forms": {"recommendation_form": {"required_slots": list(FACTS)}},
    "slots": {fact: {"type": "any", "mappings": [{"type": "custom"}]} for fact in FACTS},
}


def user_event(intent: str, text: str, scope: Optional[Dict[str, float]] = None) -> Dict[str, Any]:
    """A user event as Rasa stores it in the tracker (`scope`: the second opinions of the trained model)."""
    parse_data: Dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}, "text": text}
    if scope is not None:
        parse_data["scope"] = scope
    return {"event": "user", "text": text, "parse_data": parse_data}


WHOLE_MESSAGE = "My business partner and I stopped talking months ago and he wants me to sign by Friday. What should I do?"
FORM_ANSWERS = [
    (({"requested_slot": "safety"}, "deny", "no"), {"safety": False}, "other_side_willing"),
    (({"requested_slot": "safety"}, "affirm", "yes"), {"safety": True}, None),
    (({"requested_slot": "safety", "communication": False}, "deny", "nope"), {"safety": False}, "other_side_willing"),
    (({"safety": False, "requested_slot": "other_side_willing"}, "unsure", "not sure"), {"other_side_willing": UNSURE}, "wants_decision"),
    (({"safety": False, "other_side_willing": True, "requested_slot": "wants_decision"}, "deny", "no, and honestly we stopped talking"),
     {"wants_decision": False, "communication": False}, None),
    (({"safety": False, "other_side_willing": True, "wants_decision": False, "requested_slot": "communication"}, "can_still_talk",
      "we get along fine"), {"communication": True}, "pressure"),
]


@pytest.fixture(scope="module")
def scope_of() -> Callable[[str], Dict[str, float]]:
    """The trained model's second opinions (with the fact extractor's scores) for this module's messages."""
    from bot.config import PROJECT_ROOT
    from bot.understanding.evaluation import model_parser

    texts = [WHOLE_MESSAGE] + [text for (_, _, text), _, _ in FORM_ANSWERS]
    parsed = model_parser(PROJECT_ROOT / "models" / "commonground.tar.gz")(texts)
    scopes = {text: result["scope"] for text, result in zip(texts, parsed)}
    return scopes.__getitem__


def tracker_with(
    events: List[Dict[str, Any]],
    slots: Optional[Dict[str, Any]] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """A tracker whose latest message is the last user event in `events`."""
    last = [e for e in events if e["event"] == "user"][-1]
    latest = {**last["parse_data"], "entities": [], "intent_ranking": ranking or [last["parse_data"]["intent"]]}
    return Tracker("conv", slots or {}, latest, events, False, None, {}, "action_listen")


def slot_values(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The slot values a list of events sets, last one winning."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_gather_takes_facts_from_the_whole_message(scope_of: Callable[[str], Dict[str, float]]) -> None:
    """The customer's example yields both facts before any question is asked."""
    tracker = tracker_with([user_event("recommend_process", WHOLE_MESSAGE, scope_of(WHOLE_MESSAGE))])
    events = await ActionGatherFacts().run(CollectingDispatcher(), tracker, DOMAIN)
    values = slot_values(events)
    assert values["communication"] is False and values["pressure"] is True
    assert values["safety"] is None and values["requested_slot"] is None


async def test_gather_uses_earlier_situation_intents() -> None:
    """A situation told earlier ("communication broke down") is not asked again."""
    events = [user_event("communication_breakdown", "communication broke down"), user_event("affirm", "yes")]
    values = slot_values(await ActionGatherFacts().run(CollectingDispatcher(), tracker_with(events), DOMAIN))
    assert values["communication"] is False


async def test_gather_starts_afresh_after_a_recommendation_unless_facts_changed() -> None:
    """A second request with nothing new clears the old answers; a changed fact is kept with the rest."""
    old = {"safety": False, "other_side_willing": True, "communication": False}
    done = [user_event("recommend_process", "what should I do"), {"event": "action", "name": "action_recommend"}]
    fresh = await ActionGatherFacts().run(
        CollectingDispatcher(),
        tracker_with(done + [user_event("recommend_process", "which process again?")], {**old, "last_recommendation": {"process": "mediation"}}),
        DOMAIN,
    )
    assert all(value is None for name, value in slot_values(fresh).items())
    changed = await ActionGatherFacts().run(
        CollectingDispatcher(),
        tracker_with(done + [user_event("can_still_talk", "we can talk again now"), user_event("recommend_process", "so what now?")],
                     {**old, "last_recommendation": {"process": "mediation"}}),
        DOMAIN,
    )
    assert slot_values(changed) == {**{f: None for f in FACTS}, **old, "communication": True, "requested_slot": None}


@pytest.mark.parametrize(
    "slots, intent, text, expected_slots, expected_next",
    [(slots, intent, text, expected_slots, expected_next) for (slots, intent, text), expected_slots, expected_next in FORM_ANSWERS],
)
async def test_form_reads_answers_and_asks_only_what_is_needed(
    slots: Dict[str, Any], intent: str, text: str, expected_slots: Dict[str, Any], expected_next: Optional[str],
    scope_of: Callable[[str], Dict[str, float]],
) -> None:
    """Answers fill the asked fact, volunteered facts fill theirs, and the next question follows policy."""
    tracker = tracker_with([user_event(intent, text, scope_of(text))], slots)
    events = await ValidateRecommendationForm().run(CollectingDispatcher(), tracker, DOMAIN)
    values = slot_values(events)
    assert {k: v for k, v in values.items() if k != "requested_slot"} == expected_slots
    assert values["requested_slot"] == expected_next


async def test_recommendation_message_follows_the_contract() -> None:
    """The result is text plus a `recommendation` payload with grounded reasons and alternatives."""
    slots = {"safety": False, "other_side_willing": True, "wants_decision": False, "communication": False, "pressure": True}
    dispatcher = CollectingDispatcher()
    events = await ActionRecommend().run(dispatcher, tracker_with([user_event("deny", "no")], slots), DOMAIN)
    [message] = dispatcher.messages
    payload = message["custom"]
    assert payload["kind"] == "recommendation" and payload["process"] == "mediation"
    assert {(r["fact"], r["topic"], r["paragraph"]) for r in payload["reasons"]} >= {
        ("communication", "communication_breakdown", "P2"), ("pressure", "pressure_to_sign", "P5"),
    }
    assert sorted(a["process"] for a in payload["alternatives"]) == ["arbitration", "court", "negotiation"]
    assert {"title": "Talk to a person", "payload": "/request_consultation"} in payload["follow_ups"]
    assert "mediation looks like the best fit" in message["text"] and "not legal advice" in message["text"]
    assert slot_values(events)["last_recommendation"]["process"] == "mediation"


@pytest.mark.parametrize(
    "text, ranking, recommends",
    [
        ("my ex hit me, what should I do?", None, True),
        ("he threatened to hurt me", [{"name": "safety", "confidence": 1.0}, {"name": "recommend_process", "confidence": 0.6}], True),
        ("he threatened to hurt me", [{"name": "safety", "confidence": 1.0}, {"name": "pressure_to_sign", "confidence": 0.6}], False),
    ],
)
async def test_safety_message_that_asks_what_to_do_gets_court_in_the_same_turn(text: str, ranking, recommends: bool) -> None:
    """With a safety concern, a request for advice is answered with `court`, never a joint session."""
    dispatcher = CollectingDispatcher()
    events = await ActionRecommendIfAsked().run(dispatcher, tracker_with([user_event("safety", text)], ranking=ranking), DOMAIN)
    assert slot_values(events)["safety"] is True
    if recommends:
        [message] = dispatcher.messages
        assert message["custom"]["process"] == "court"
        assert message["custom"]["reasons"][0]["fact"] == "safety"
        assert "don't arrange any meeting" in message["text"]
    else:
        assert dispatcher.messages == []


async def test_cancel_forgets_half_given_answers() -> None:
    """Cancelling clears the facts and the hand-over details and says so."""
    dispatcher = CollectingDispatcher()
    events = await ActionCancel().run(dispatcher, tracker_with([user_event("cancel", "stop")], {"safety": False}), DOMAIN)
    assert dispatcher.messages[0]["response"] == "utter_cancelled"
    values = slot_values(events)
    assert all(values[fact] is None for fact in FACTS) and values["contact_method"] is None
