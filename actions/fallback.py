"""Answers messages the assistant is unsure about with "did you mean…?" suggestions."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import EventType, KnowledgeAction
from bot.messages import message
from bot.replies import fallback_payload
from bot.understanding.topics import may_be_about_danger, suggest_topics


class ActionSuggestTopics(KnowledgeAction):
    """Offers up to three likely topics when the intent is uncertain."""

    def name(self) -> Text:
        """Action name used as the NLU and core fallback."""
        return "action_suggest_topics"

    async def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """Suggest topics from the classifier's ranking, asking first whether someone is in danger when that is plausible."""
        ranking = tracker.latest_message.get("intent_ranking") or []
        topic_ids = suggest_topics(ranking, self.repository.topic_ids())
        titles = self.repository.titles(topic_ids)
        suggestions = [(topic_id, titles[topic_id]) for topic_id in topic_ids if topic_id in titles]
        danger = may_be_about_danger(ranking)
        dispatcher.utter_message(
            text=message("fallback_danger" if danger else "fallback"), json_message=fallback_payload(suggestions, may_be_danger=danger)
        )
        return []
