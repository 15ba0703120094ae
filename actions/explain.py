"""Explains knowledge-base topics: the short answer for a question, the longer one for "tell me more"."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import EventType, KnowledgeAction
from bot.messages import message
from bot.replies import answer_payload, answer_text, fallback_payload, not_covered_payload
from bot.understanding.intents import SITUATION_TOPICS
from bot.understanding.topics import STARTER_TOPICS, related_topics, resolve_topic


class ActionExplainTopic(KnowledgeAction):
    """Answers a topic question from the knowledge base, with its sources and follow-ups."""

    def name(self) -> Text:
        """Action name used in the domain and rules."""
        return "action_explain_topic"

    async def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """Explain the topic the latest intent (and its `process` entities) asks about."""
        intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
        processes = list(tracker.get_latest_entity_values("process"))
        topic = self.repository.get_topic(resolve_topic(intent, processes) or "")
        if topic is None:
            titles = self.repository.titles(STARTER_TOPICS)
            dispatcher.utter_message(text=message("fallback"), json_message=fallback_payload(titles.items()))
            return []
        text = answer_text(topic)
        offered = topic.id in SITUATION_TOPICS
        if offered:
            text = f"{text}\n\n{message('offer_recommendation')}"
        dispatcher.utter_message(text=text, json_message=answer_payload(topic))
        return [SlotSet("last_topic", topic.id), SlotSet("recommendation_offered", offered)]


class ActionExplainMore(KnowledgeAction):
    """Gives the longer explanation of the topic discussed last."""

    def name(self) -> Text:
        """Action name used in the domain and rules."""
        return "action_explain_more"

    async def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """Explain `last_topic` in detail, or ask which topic when there is none."""
        topic_id = tracker.get_slot("last_topic")
        topic = self.repository.get_topic(topic_id) if topic_id else None
        if topic is None:
            titles = self.repository.titles(STARTER_TOPICS)
            dispatcher.utter_message(text=message("more_about_what"), json_message=fallback_payload(titles.items()))
            return []
        dispatcher.utter_message(text=answer_text(topic, detailed=True), json_message=answer_payload(topic, detailed=True))
        return []


class ActionExplainNotCovered(KnowledgeAction):
    """Says plainly that the firm's guide doesn't cover a question, and offers a person and nearby topics."""

    def name(self) -> Text:
        """Action name used in the domain and rules."""
        return "action_explain_not_covered"

    async def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """Offer a hand-over and up to three covered topics related to the question."""
        ranking = tracker.latest_message.get("intent_ranking") or []
        processes = list(tracker.get_latest_entity_values("process"))
        topic_ids = related_topics(ranking, processes, self.repository.topic_ids())
        titles = self.repository.titles(topic_ids)
        related = [(topic_id, titles[topic_id]) for topic_id in topic_ids if topic_id in titles]
        text = message("not_covered" if related else "not_covered_no_topics")
        dispatcher.utter_message(text=text, json_message=not_covered_payload(related))
        return []
