"""Starts each conversation session with the firm's configured contact details in slots."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import EventType
from bot.config import get_settings

CONFIGURED_SLOTS = ("firm_contact", "emergency_number")


class ActionSessionStart(Action):
    """Starts a session, carries slots over, and fills the configured contact slots."""

    def name(self) -> Text:
        """Rasa's session-start action, overridden."""
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """Emit SessionStarted, the carried-over slots, the configured slots and action_listen."""
        settings = get_settings()
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name not in CONFIGURED_SLOTS
        ]
        configured = [
            SlotSet("firm_contact", settings.firm_contact),
            SlotSet("emergency_number", settings.emergency_number),
        ]
        return [SessionStarted(), *carried, *configured, ActionExecuted("action_listen")]
