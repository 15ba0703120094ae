"""Erases everything stored for the conversation when the user asks and confirms."""

from __future__ import annotations

import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import EventType
from bot.handover.requests import ConsultationStore
from bot.messages import message

logger = logging.getLogger(__name__)


class ActionEraseMyData(Action):
    """Deletes the conversation's consultation requests; the tracker store then erases the conversation."""

    store: ConsultationStore = ConsultationStore()

    def name(self) -> Text:
        """Runs after the user confirmed "delete my data"."""
        return "action_erase_my_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Delete stored requests, confirm, and flag the conversation for erasure (bot/stores.py)."""
        removed = self.store.erase_conversation(tracker.sender_id)
        logger.info("erased %d consultation requests on the user's request", removed)
        dispatcher.utter_message(text=message("erasure_done"), json_message={"kind": "info", "follow_ups": []})
        return [SlotSet("erasure_requested", True)]
