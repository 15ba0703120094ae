"""Validation of hand-over details and their consented storage in SQL."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from sqlalchemy.orm import sessionmaker

from bot.handover.requests import (
    Contact,
    ConsultationRequest,
    ConsultationStore,
    clean_description,
    clean_name,
    clean_other_party,
    contact_problem,
    parse_contact,
    utc_now,
)
from bot.db import create_schema


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ana  Lopez", "Ana Lopez"),
        ("  Jo ", "Jo"),
        ("Zoë O'Brien-Smith", "Zoë O'Brien-Smith"),
        ("12345", None),
        ("", None),
        ("   ", None),
        ("ana@example.com", None),
        ("x" * 101, None),
        (None, None),
    ],
)
def test_clean_name(text: Any, expected: Optional[str]) -> None:
    """A name needs a letter and at most 100 characters; an email is not a name."""
    assert clean_name(text) == expected


@pytest.mark.parametrize(
    "text, region, expected",
    [
        ("ana@example.com", "GB", Contact("email", "ana@example.com")),
        ("Ana.Lopez+law@Example.co.uk.", "GB", Contact("email", "ana.lopez+law@example.co.uk")),
        ("zoë@bücher.example", "GB", Contact("email", "zoë@bücher.example")),
        ("+44 20 7946 0958", "GB", Contact("phone", "+442079460958")),
        ("020 7946 0958", "GB", Contact("phone", "+442079460958")),
        ("07911 123456", "GB", Contact("phone", "+447911123456")),
        ("(202) 555-0143", "US", Contact("phone", "+12025550143")),
        ("+1 202-555-0143", "GB", Contact("phone", "+12025550143")),
        ("030 901820", "DE", Contact("phone", "+4930901820")),
        ("(202) 555-0143", "GB", None),
        ("ana@example", "GB", None),
        ("ana@@example.com", "GB", None),
        ("ana example.com", "GB", None),
        ("call me maybe", "GB", None),
        ("12345", "GB", None),
        ("+1234567890123456", "GB", None),
        ("555-CALL-NOW", "GB", None),
        ("", "GB", None),
        (42, "GB", None),
    ],
)
def test_parse_contact(text: Any, region: str, expected: Optional[Contact]) -> None:
    """Emails (syntax only) and phone numbers valid for the firm's region (in E.164) are accepted; anything else is not."""
    assert parse_contact(text, region) == expected


@pytest.mark.parametrize(
    "text, problem",
    [
        ("ana@example.com", None),
        ("ana@example", "email"),
        ("12345", "phone"),
        ("+44 12", "phone"),
        ("tomorrow afternoon", "unreadable"),
    ],
)
def test_contact_problem_names_what_is_wrong(text: str, problem: Optional[str]) -> None:
    """The re-ask can say whether the email or the phone number is wrong."""
    assert contact_problem(text, "GB") == problem


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dispute with   my landlord about the deposit.", "Dispute with my landlord about the deposit."),
        ("skip", ""),
        ("No thanks", ""),
        ("x" * 1001, None),
    ],
)
def test_clean_description(text: str, expected: Optional[str]) -> None:
    """The description is optional and bounded."""
    assert clean_description(text) == expected


def test_store_saves_reads_back_and_erases(sessions: sessionmaker) -> None:
    """A consented request is stored with its conversation id, recommendation and consent time."""
    create_schema(sessions.kw["bind"])
    store = ConsultationStore(sessions)
    consented_at = utc_now()
    request = ConsultationRequest(
        conversation_id="conv-1",
        name="Ana Lopez",
        contact=Contact("email", "ana@example.com"),
        description="Deposit dispute",
        recommendation={"process": "mediation", "reasons": ["communication"]},
        consented_at=consented_at,
    )
    assert store.save(request) > 0
    [stored] = store.for_conversation("conv-1")
    assert stored.name == "Ana Lopez" and stored.contact == Contact("email", "ana@example.com")
    assert stored.recommendation == {"process": "mediation", "reasons": ["communication"]}
    assert stored.consented_at.replace(tzinfo=None) == consented_at.replace(tzinfo=None)
    assert store.for_conversation("someone-else") == []
    assert store.erase_conversation("conv-1") == 1
    assert store.for_conversation("conv-1") == []


@pytest.mark.parametrize(
    "text, expected",
    [("Brown & Sons Ltd", "Brown & Sons Ltd"), ("skip", ""), ("no", ""), ("1234", None), ("x" * 101, None)],
)
def test_clean_other_party(text: str, expected: Optional[str]) -> None:
    """The other party's name is optional ("skip" leaves it out) and must look like a name."""
    assert clean_other_party(text) == expected


def test_request_and_its_deliveries_are_stored_together_and_erased_together(sessions: sessionmaker) -> None:
    """Saving writes one pending delivery per channel; staff state changes stick; erasure removes the deliveries too."""
    from bot.handover.outbox import Outbox

    create_schema(sessions.kw["bind"])
    store, outbox = ConsultationStore(sessions), Outbox(sessions)
    request = ConsultationRequest(conversation_id="conv-2", name="Sam", contact=Contact("phone", "+447700900123"),
                                  description="", recommendation=None, consented_at=utc_now(), other_party="Mr Brown")
    request_id = store.save(request, ["email", "webhook"])
    deliveries = outbox.for_requests([request_id])[request_id]
    assert [(d.channel, d.state, d.attempts) for d in deliveries] == [("email", "pending", 0), ("webhook", "pending", 0)]
    assert len({d.idempotency_key for d in deliveries}) == 2
    assert store.set_state(request_id, "contacted", "left a voicemail", "staff@firm.example")
    stored = store.get(request_id)
    assert (stored.state, stored.state_note, stored.other_party) == ("contacted", "left a voicemail", "Mr Brown")
    assert store.count_by_state() == {"new": 0, "contacted": 1, "closed": 0}
    assert not store.set_state(request_id + 1, "closed", "", "staff@firm.example")
    assert store.erase_conversation("conv-2") == 1
    assert outbox.for_requests([request_id])[request_id] == []


def test_a_request_confirmed_by_the_same_message_is_stored_once(sessions: sessionmaker) -> None:
    """Saving again for the same conversation and message id (the message handled again) stores nothing new."""
    from bot.handover.outbox import Outbox

    create_schema(sessions.kw["bind"])
    store, outbox = ConsultationStore(sessions), Outbox(sessions)

    def request(conversation: str, message_id: Optional[str]) -> ConsultationRequest:
        return ConsultationRequest(conversation_id=conversation, name="Sam", contact=Contact("email", "sam@example.com"),
                                   description="", recommendation=None, consented_at=utc_now(), message_id=message_id)

    first = store.save(request("conv-3", "m-1"), ["email"])
    assert store.save(request("conv-3", "m-1"), ["email"]) == first
    assert [r.message_id for r in store.for_conversation("conv-3")] == ["m-1"]
    assert len(outbox.for_requests([first])[first]) == 1
    second = store.save(request("conv-3", "m-2"), ["email"])  # a later hand-over in the same conversation
    other = store.save(request("conv-4", "m-1"), ["email"])  # message ids are per conversation
    without_id = [store.save(request("conv-5", None)) for _ in range(2)]  # clients that send no id
    assert len({first, second, other, *without_id}) == 5
    assert [r.message_id for r in store.for_conversation("conv-3")] == ["m-1", "m-2"]
