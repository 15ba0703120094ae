"""Hands over to a person at the firm: a short form, stored only with explicit consent."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.base import EventType
from bot.config import get_settings
from bot.consultations import (
    ConsultationRequest,
    ConsultationStore,
    clean_description,
    clean_name,
    parse_contact,
    utc_now,
)
from bot.messages import message
from bot.replies import TALK_TO_PERSON

logger = logging.getLogger(__name__)

FORM_SLOTS = ("contact_name", "contact_method", "description", "consent")


class ValidateConsultationForm(FormValidationAction):
    """Validates the name, the email or phone number, and the optional description."""

    def name(self) -> Text:
        """The form's validation action."""
        return "validate_consultation_form"

    def validate_contact_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        """A name with at least one letter, at most 100 characters."""
        name = clean_name(value)
        if name is None:
            dispatcher.utter_message(response="utter_invalid_contact_name")
        return {"contact_name": name}

    def validate_contact_method(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        """An email address or a phone number; re-asked with the reason otherwise."""
        contact = parse_contact(value)
        if contact is None:
            dispatcher.utter_message(response="utter_invalid_contact_method")
            return {"contact_method": None}
        return {"contact_method": contact.value}

    def validate_description(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        """Optional: "skip" or "no" leaves it empty; at most 1,000 characters."""
        if tracker.get_intent_of_latest_message() == "deny":
            return {"description": ""}
        description = clean_description(value)
        if description is None:
            dispatcher.utter_message(response="utter_invalid_description")
        return {"description": description}


class ActionSubmitConsultation(Action):
    """Stores the request when the user consented; otherwise keeps nothing and says so."""

    store: ConsultationStore = ConsultationStore()

    def name(self) -> Text:
        """Runs when the consultation form completes."""
        return "action_submit_consultation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Save with consent, confirm, and clear the form's slots either way."""
        cleared = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if tracker.get_slot("consent") is not True:
            dispatcher.utter_message(
                response="utter_consultation_not_stored",
                json_message={"kind": "handoff", "status": "not_stored", "follow_ups": []},
            )
            return cleared
        contact = parse_contact(tracker.get_slot("contact_method"))
        request = ConsultationRequest(
            conversation_id=tracker.sender_id,
            name=tracker.get_slot("contact_name"),
            contact=contact,
            description=tracker.get_slot("description") or "",
            recommendation=tracker.get_slot("last_recommendation"),
            consented_at=utc_now(),
        )
        try:
            request_id = self.store.save(request)
        except SQLAlchemyError:
            logger.exception("could not store the consultation request")
            dispatcher.utter_message(
                text=message("service_problem", firm_contact=get_settings().firm_contact),
                json_message={"kind": "error", "follow_ups": [dict(TALK_TO_PERSON)]},
            )
            return cleared
        dispatcher.utter_message(
            text=message("consultation_stored", name=request.name, contact=contact.value),
            json_message={"kind": "handoff", "status": "stored", "request_id": request_id, "follow_ups": []},
        )
        return cleared
