"""Recommends a process: gathers known facts, asks what is missing (a form), explains the result."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import EventType
from bot.understanding.facts import asks_what_to_do, facts_in_message, merge_facts
from bot.recommend import FACTS, next_question, recommend
from bot.recommendation_text import recommendation_payload, recommendation_text

RECOMMEND_ACTION = "action_recommend"


def known_facts(tracker: Tracker) -> Dict[str, Any]:
    """The fact slots that hold a value."""
    return {fact: tracker.get_slot(fact) for fact in FACTS if tracker.get_slot(fact) is not None}


def user_messages_since_last_recommendation(tracker: Tracker) -> List[Tuple[Optional[str], str, Dict[str, float]]]:
    """(intent, text, scope scores) of every user message after the last recommendation, oldest first."""
    messages: List[Tuple[Optional[str], str, Dict[str, float]]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == RECOMMEND_ACTION:
            break
        if event.get("event") == "user":
            parse_data = event.get("parse_data") or {}
            intent = parse_data.get("intent") or {}
            messages.append((intent.get("name"), event.get("text") or "", parse_data.get("scope") or {}))
    return list(reversed(messages))


def recommendation_events(dispatcher: CollectingDispatcher, facts: Dict[str, Any]) -> List[EventType]:
    """Send the recommendation for `facts` and remember it for the hand-over."""
    result = recommend(facts)
    payload = recommendation_payload(result)
    dispatcher.utter_message(text=recommendation_text(result), json_message=payload)
    summary = {"process": result.process, "reasons": [r.fact for r in result.reasons], "facts": facts}
    return [SlotSet("last_recommendation", summary), SlotSet("recommendation_offered", False)]


class ActionGatherFacts(Action):
    """Fills the fact slots with what the conversation already makes evident."""

    def name(self) -> Text:
        """Runs right before the recommendation form starts."""
        return "action_gather_facts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Merge facts stated since the last recommendation; start afresh if none were."""
        messages = user_messages_since_last_recommendation(tracker)
        stated = merge_facts({}, messages)
        previous = {} if tracker.get_slot("last_recommendation") and not stated else known_facts(tracker)
        facts = {**previous, **stated}
        return [SlotSet(fact, facts.get(fact)) for fact in FACTS] + [SlotSet("requested_slot", None)]


class ValidateRecommendationForm(FormValidationAction):
    """Reads answers and volunteered facts; asks only the next fact the policy still needs."""

    def name(self) -> Text:
        """The form's validation action."""
        return "validate_recommendation_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        """Only the next question in policy order, or nothing once the outcome is decided."""
        following = next_question(known_facts(tracker))
        return [following] if following else []

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Set every fact the latest message states, then request the next one (or finish)."""
        requested = tracker.get_slot("requested_slot")
        intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
        latest = tracker.latest_message
        found = facts_in_message(intent, latest.get("text") or "", requested if requested in FACTS else None, latest.get("scope"))
        events: List[EventType] = [SlotSet(fact, value) for fact, value in found.items()]
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])


class ActionRecommend(Action):
    """Explains the recommended process once the form has what it needs."""

    def name(self) -> Text:
        """Runs when the recommendation form completes."""
        return RECOMMEND_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Recommend from the fact slots."""
        return recommendation_events(dispatcher, known_facts(tracker))


class ActionRecommendIfAsked(Action):
    """After safety guidance: if the message also asked what to do, recommend in the same turn."""

    def name(self) -> Text:
        """Runs after the safety reply."""
        return "action_recommend_if_asked"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Recommend (safety decides: court) when the user asked for a course of action."""
        latest = tracker.latest_message
        ranking = latest.get("intent_ranking") or []
        runner_up = ranking[1]["name"] if len(ranking) > 1 else None
        also_asked = (latest.get("arbiter") or {}).get("asks_recommendation") or runner_up == "recommend_process"
        if not (also_asked or asks_what_to_do(latest.get("text") or "")):
            return [SlotSet("safety", True)]
        facts = {**known_facts(tracker), "safety": True}
        return [SlotSet("safety", True)] + recommendation_events(dispatcher, facts)


class ActionNoteFact(Action):
    """Acknowledges a fact the user volunteered and offers a recommendation."""

    def name(self) -> Text:
        """Runs for statements like "we still get along"."""
        return "action_note_fact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Remember the fact and offer to suggest a process."""
        intent = tracker.get_intent_of_latest_message()
        found = facts_in_message(intent, tracker.latest_message.get("text") or "", scores=tracker.latest_message.get("scope"))
        dispatcher.utter_message(response="utter_offer_recommendation")
        return [SlotSet(fact, value) for fact, value in found.items()] + [SlotSet("recommendation_offered", True)]


RESET_SLOTS = (*FACTS, "contact_name", "contact_method", "description", "other_party", "consent", "requested_slot")


class ActionCancel(Action):
    """Stops whatever was in progress and forgets the half-given answers."""

    def name(self) -> Text:
        """Runs on "stop", "cancel", "never mind"."""
        return "action_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Say it stopped; clear the form's slots."""
        dispatcher.utter_message(response="utter_cancelled")
        return [SlotSet(slot, None) for slot in RESET_SLOTS] + [SlotSet("recommendation_offered", False)]


class ActionStartOver(Action):
    """Starts the conversation afresh: forgets the situation, the last topic and recommendation."""

    def name(self) -> Text:
        """Runs on "start over"."""
        return "action_start_over"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Clear everything the user told us, keep the configured contact slots."""
        dispatcher.utter_message(response="utter_started_over")
        forgotten = (*RESET_SLOTS, "last_topic", "last_recommendation")
        return [SlotSet(slot, None) for slot in forgotten] + [SlotSet("recommendation_offered", False)]
