"""Shared behaviour of our actions: knowledge-base access and a clear apology when a service fails."""

from __future__ import annotations

import abc
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot.config import get_settings
from bot.knowledge.repository import KnowledgeRepository
from bot.messages import message
from bot.replies import TALK_TO_PERSON

logger = logging.getLogger(__name__)

EventType = Dict[Text, Any]


class KnowledgeAction(Action, metaclass=abc.ABCMeta):
    """An action that reads the knowledge base; a database failure becomes an apology, not silence."""

    repository: KnowledgeRepository = KnowledgeRepository()

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """Run `respond`, apologising with a way to reach the firm when the database fails."""
        try:
            return await self.respond(dispatcher, tracker, domain)
        except SQLAlchemyError:
            logger.exception("knowledge base unavailable in %s", self.name())
            dispatcher.utter_message(
                text=message("service_problem", firm_contact=get_settings().firm_contact),
                json_message={"kind": "error", "follow_ups": [dict(TALK_TO_PERSON)]},
            )
            return []

    @abc.abstractmethod
    async def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        """The action's own behaviour."""
