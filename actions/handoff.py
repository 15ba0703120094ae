"""Hands over to a person at the firm: a short form, stored (and sent to the firm) only with explicit consent."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.base import EventType
from bot.config import get_settings
from bot.handover.requests import (
    ConsultationRequest,
    ConsultationStore,
    clean_description,
    clean_name,
    clean_other_party,
    contact_problem,
    parse_contact,
    utc_now,
)
from bot.handover.senders import HandoverConfigError, enabled_channels
from bot.messages import message
from bot.replies import TALK_TO_PERSON

logger = logging.getLogger(__name__)

FORM_SLOTS = ("contact_name", "contact_method", "description", "other_party", "consent")
CONTACT_COMPLAINTS = {"email": "utter_invalid_email", "phone": "utter_invalid_phone", "unreadable": "utter_invalid_contact_method"}


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
        """An email address or a phone number (stored in E.164); re-asked naming what is wrong otherwise."""
        region = get_settings().firm_region
        contact = parse_contact(value, region)
        if contact is None:
            dispatcher.utter_message(response=CONTACT_COMPLAINTS[contact_problem(value, region) or "unreadable"])
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

    def validate_other_party(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        """Optional: the other party's name for the firm's conflict check; "skip" or "no" leaves it empty."""
        if tracker.get_intent_of_latest_message() == "deny":
            return {"other_party": ""}
        other_party = clean_other_party(value)
        if other_party is None:
            dispatcher.utter_message(response="utter_invalid_other_party")
        return {"other_party": other_party}


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
        settings = get_settings()
        contact = parse_contact(tracker.get_slot("contact_method"), settings.firm_region)
        request = ConsultationRequest(
            conversation_id=tracker.sender_id,
            name=tracker.get_slot("contact_name"),
            contact=contact,
            description=tracker.get_slot("description") or "",
            other_party=tracker.get_slot("other_party") or "",
            recommendation=tracker.get_slot("last_recommendation"),
            consented_at=utc_now(),
            message_id=latest_message_id(tracker),
        )
        try:
            request_id = self.store.save(request, enabled_channels(settings))
        except (SQLAlchemyError, HandoverConfigError):
            logger.exception("could not store the consultation request")
            dispatcher.utter_message(
                text=message("service_problem", firm_contact=settings.firm_contact),
                json_message={"kind": "error", "follow_ups": [dict(TALK_TO_PERSON)]},
            )
            return cleared
        dispatcher.utter_message(
            text=message("consultation_stored", name=request.name, contact=contact.value,
                         firm_name=settings.firm_name, response_time=settings.firm_response_time),
            json_message={"kind": "handoff", "status": "stored", "request_id": request_id, "follow_ups": []},
        )
        return cleared


def latest_message_id(tracker: Tracker) -> Optional[str]:
    """The Rasa message id of the latest user message (the client's `message_id` when it sent one)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("message_id")
    return None
