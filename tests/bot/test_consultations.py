"""Validation of hand-over details and their consented storage in SQL."""

from __future__ import annotations

from typing import Any, Optional

import pytest
from sqlalchemy.orm import sessionmaker

from bot.consultations import (
    Contact,
    ConsultationRequest,
    ConsultationStore,
    clean_description,
    clean_name,
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
    "text, expected",
    [
        ("ana@example.com", Contact("email", "ana@example.com")),
        ("Ana.Lopez+law@Example.co.uk.", Contact("email", "ana.lopez+law@example.co.uk")),
        ("+44 20 7946 0958", Contact("phone", "+442079460958")),
        ("(555) 123-4567", Contact("phone", "5551234567")),
        ("ana@example", None),
        ("call me maybe", None),
        ("12345", None),
        ("+1234567890123456", None),
        ("555-CALL-NOW", None),
        ("", None),
        (42, None),
    ],
)
def test_parse_contact(text: Any, expected: Optional[Contact]) -> None:
    """Emails and phone numbers (7 to 15 digits) are accepted and normalised; anything else is not."""
    assert parse_contact(text) == expected


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
