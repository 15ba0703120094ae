"""Facts evident from what the user says: intents, wording inside longer messages, answers."""

from __future__ import annotations

from typing import Dict, Optional

import pytest

from bot.understanding.facts import asks_what_to_do, facts_in_message, facts_in_text, merge_facts
from bot.recommend import UNSURE


@pytest.mark.parametrize(
    "text, expected",
    [
        ("My business partner and I stopped talking months ago and he wants me to sign by Friday. What should I do?",
         {"communication": False, "pressure": True}),
        ("we still get along but can't agree on the price", {"communication": True, "impasse": True}),
        ("my landlord refuses to negotiate", {"other_side_willing": False}),
        ("she is open to mediation", {"other_side_willing": True}),
        ("I want someone neutral to decide", {"wants_decision": True}),
        ("I don't want to see him ever again", {"face_to_face": False}),
        ("I'm happy to meet them", {"face_to_face": True}),
        ("he hit me, what should I do", {"safety": True}),
        ("my ex won't answer my messages and keeps pushing me to sign", {"communication": False, "pressure": True}),
        ("we're going round in circles", {"impasse": True}),
        ("which process should I use?", {}),
        ("", {}),
    ],
)
def test_facts_in_text(text: str, expected: Dict[str, bool]) -> None:
    """Facts stated inside a longer message are picked up from its wording."""
    assert facts_in_text(text) == expected


@pytest.mark.parametrize(
    "intent, text, requested, expected",
    [
        ("communication_breakdown", "communication broke down", None, {"communication": False}),
        ("can_still_talk", "we are fine talking", None, {"communication": True}),
        ("pressure_to_sign", "I feel pressured to sign", None, {"pressure": True}),
        ("unreasonable_demands", "their demands are silly", None, {"impasse": True}),
        ("other_side_unwilling", "she won't take part", None, {"other_side_willing": False}),
        ("avoid_face_to_face", "can't bear seeing him", None, {"face_to_face": False}),
        ("safety", "he scares me", None, {"safety": True}),
        ("affirm", "yes", "pressure", {"pressure": True}),
        ("deny", "not really", "communication", {"communication": False}),
        ("unsure", "I'm not sure", "impasse", {"impasse": UNSURE}),
        ("affirm", "yes", None, {}),
        ("greet", "hello", "safety", {}),
    ],
)
def test_facts_in_message(intent: str, text: str, requested: Optional[str], expected: Dict[str, object]) -> None:
    """Intents state facts; yes, no and unsure answer the fact that was asked."""
    assert facts_in_message(intent, text, requested) == expected


def test_later_messages_override_earlier_ones() -> None:
    """A changed fact ("now we can talk again") replaces what was said before."""
    merged = merge_facts(
        {"safety": False},
        [("communication_breakdown", "we can't talk"), ("can_still_talk", "we get along again now")],
    )
    assert merged == {"safety": False, "communication": True}


@pytest.mark.parametrize(
    "text, asks",
    [
        ("my ex hit me, what should I do?", True),
        ("he threatened me, should we try mediation?", True),
        ("what are my options", True),
        ("he threatened me", False),
        ("I'm scared of her", False),
    ],
)
def test_asks_what_to_do(text: str, asks: bool) -> None:
    """Requests for a course of action are told apart from plain statements."""
    assert asks_what_to_do(text) is asks


@pytest.mark.parametrize(
    "scores, expected",
    [
        ({"fact:communication=false": 0.93, "in_domain": 0.99}, {"communication": False}),
        ({"fact:communication=false": 0.6}, {}),
        ({"fact:communication=false": 0.9, "fact:communication=true": 0.85}, {}),
        ({"fact:pressure=true": 0.9, "fact:impasse=true": 0.95}, {"pressure": True, "impasse": True}),
    ],
)
def test_learned_facts_count_only_when_sure(scores: Dict[str, float], expected: Dict[str, bool]) -> None:
    """A learned fact counts above the threshold, and not at all when both its values claim it."""
    assert facts_in_message("recommend_process", "which process do you recommend", scores=scores) == expected


def test_wording_cues_win_over_learned_facts() -> None:
    """A fact the wording states is not overridden by a classifier's guess."""
    found = facts_in_message("recommend_process", "we still get along, what should i do", scores={"fact:communication=false": 0.95})
    assert found["communication"] is True
