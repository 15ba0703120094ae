"""The hand-over form's validators and the consented storage of the request."""

from __future__ import annotations

from typing import Any, Dict, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import sessionmaker

from actions.handoff import ActionSubmitConsultation, ValidateConsultationForm
from bot.handover.requests import Contact, ConsultationStore
from bot.db import create_schema
from tests.actions.conftest import DOMAIN, make_tracker


@pytest.fixture
def store(sessions: sessionmaker, monkeypatch: pytest.MonkeyPatch) -> ConsultationStore:
    """The submit action's store, on the test's own SQLite database."""
    create_schema(sessions.kw["bind"])
    store = ConsultationStore(sessions)
    monkeypatch.setattr(ActionSubmitConsultation, "store", store)
    return store


@pytest.mark.parametrize(
    "method, value, expected, complaint",
    [
        ("validate_contact_name", "Ana Lopez", {"contact_name": "Ana Lopez"}, None),
        ("validate_contact_name", "1234", {"contact_name": None}, "utter_invalid_contact_name"),
        ("validate_contact_method", "Ana@Example.com", {"contact_method": "ana@example.com"}, None),
        ("validate_contact_method", "+44 20 7946 0958", {"contact_method": "+442079460958"}, None),
        ("validate_contact_method", "tomorrow afternoon", {"contact_method": None}, "utter_invalid_contact_method"),
        ("validate_contact_method", "ana@example", {"contact_method": None}, "utter_invalid_email"),
        ("validate_contact_method", "0123", {"contact_method": None}, "utter_invalid_phone"),
        ("validate_other_party", "Brown Lettings Ltd", {"other_party": "Brown Lettings Ltd"}, None),
        ("validate_other_party", "skip", {"other_party": ""}, None),
        ("validate_other_party", "12", {"other_party": None}, "utter_invalid_other_party"),
        ("validate_description", "Deposit not returned", {"description": "Deposit not returned"}, None),
        ("validate_description", "skip", {"description": ""}, None),
        ("validate_description", "y" * 1200, {"description": None}, "utter_invalid_description"),
    ],
)
def test_validators(method: str, value: str, expected: Dict[str, Any], complaint: Optional[str]) -> None:
    """Valid details are kept (normalised); invalid ones are re-asked with a clear message."""
    dispatcher = CollectingDispatcher()
    result = getattr(ValidateConsultationForm(), method)(value, dispatcher, make_tracker("inform", value), DOMAIN)
    assert result == expected
    assert [m.get("response") for m in dispatcher.messages] == ([complaint] if complaint else [])


def filled_tracker(consent: Optional[bool]) -> Tracker:
    """A tracker at the end of the hand-over form."""
    slots = {
        "contact_name": "Ana Lopez",
        "contact_method": "ana@example.com",
        "description": "Deposit dispute with my landlord",
        "other_party": "Brown Lettings",
        "consent": consent,
        "last_recommendation": {"process": "mediation", "reasons": ["communication"]},
    }
    return make_tracker("affirm" if consent else "deny", slots=slots)


async def test_with_consent_the_request_is_stored(store: ConsultationStore) -> None:
    """Consent stores the details, the conversation id, the recommendation and the consent time."""
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitConsultation().run(dispatcher, filled_tracker(True), DOMAIN)
    [stored] = store.for_conversation("test-user")
    assert stored.other_party == "Brown Lettings"
    assert stored.contact == Contact("email", "ana@example.com")
    assert stored.recommendation == {"process": "mediation", "reasons": ["communication"]}
    assert stored.consented_at is not None
    [message] = dispatcher.messages
    assert message["custom"] == {"kind": "handoff", "status": "stored", "request_id": 1, "follow_ups": []}
    assert "Ana Lopez" in message["text"] and "ana@example.com" in message["text"]
    assert "within one working day" in message["text"] and "because you said yes" in message["text"]
    assert {e["name"]: e["value"] for e in events} == {"contact_name": None, "contact_method": None, "description": None, "other_party": None, "consent": None}


async def test_without_consent_nothing_is_stored(store: ConsultationStore) -> None:
    """Declining keeps nothing, tells the user so, and clears the details from the conversation."""
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitConsultation().run(dispatcher, filled_tracker(False), DOMAIN)
    assert store.for_conversation("test-user") == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_consultation_not_stored"
    assert message["custom"]["status"] == "not_stored"
    assert all(e["value"] is None for e in events)


async def test_configured_deliveries_are_queued_with_the_request(store: ConsultationStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """With email and webhook configured, the stored request gets one pending delivery for each."""
    from bot.handover.outbox import Outbox

    for name, value in {"HANDOVER_EMAIL_TO": "intake@firm.example", "HANDOVER_EMAIL_FROM": "bot@firm.example",
                        "SMTP_URL": "smtp://127.0.0.1:2525", "HANDOVER_WEBHOOK_URL": "http://127.0.0.1:9/hook",
                        "HANDOVER_WEBHOOK_SECRET": "s3cret"}.items():
        monkeypatch.setenv(name, value)
    await ActionSubmitConsultation().run(CollectingDispatcher(), filled_tracker(True), DOMAIN)
    [stored] = store.for_conversation("test-user")
    deliveries = Outbox(store._sessions).for_requests([stored.id])[stored.id]
    assert sorted(d.channel for d in deliveries) == ["email", "webhook"]
    assert {d.state for d in deliveries} == {"pending"}
