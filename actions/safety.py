"""Safety comes first: the safety reply, in the language the danger was written in."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import EventType
from bot.config import get_settings
from bot.messages import message
from bot.replies import TALK_TO_PERSON
from bot.understanding.safety import safety_message_key, safety_reply_language


class ActionSafety(Action):
    """Sends the safety guidance; a danger message in another supported language gets it in that language."""

    def name(self) -> Text:
        """Runs whenever the intent is `safety`."""
        return "action_safety"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """The translated guidance with the emergency number, or `utter_safety` in English."""
        text = tracker.latest_message.get("text") or ""
        key = safety_message_key(safety_reply_language(text, tracker.latest_message.get("language")))
        if key is None:
            dispatcher.utter_message(response="utter_safety")
            return []
        settings = get_settings()
        dispatcher.utter_message(
            text=message(key, emergency_number=settings.emergency_number_plain, firm_contact=settings.firm_contact),
            json_message={"kind": "safety", "language": key.rsplit("_", 1)[1], "follow_ups": [dict(TALK_TO_PERSON)]},
        )
        return []
