"""Facts evident from what the user says: learned scores, danger wording, button intents, answers."""

from __future__ import annotations

from typing import Dict, Optional

import pytest

from bot.understanding.facts import asks_what_to_do, facts_in_message, merge_facts
from bot.recommend import UNSURE


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
        # danger in the wording counts whatever the intent, unless it is only everyday hyperbole
        ("describe_dispute", "he hit me last week", None, {"safety": True}),
        ("out_of_scope", "my mum will kill me if I forget her birthday", None, {}),
        ("safety", "he'll kill me if I leave", None, {"safety": True}),
    ],
)
def test_facts_in_message(intent: str, text: str, requested: Optional[str], expected: Dict[str, object]) -> None:
    """A message without learned scores (a button) states its intent's fact; yes, no and unsure answer the fact asked."""
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
        ({"fact:communication=false": 0.5}, {}),
        ({"fact:communication=false": 0.9, "fact:communication=true": 0.85}, {}),
        ({"fact:pressure=true": 0.9, "fact:impasse=true": 0.95}, {"pressure": True, "impasse": True}),
    ],
)
def test_learned_facts_count_only_when_sure(scores: Dict[str, float], expected: Dict[str, bool]) -> None:
    """A learned fact counts above the threshold, and not at all when both its values claim it."""
    assert facts_in_message("recommend_process", "which process do you recommend", scores=scores) == expected


@pytest.mark.parametrize(
    "intent, text, scores, expected",
    [
        ("communication_breakdown", "he ignores me", {"fact:communication=false": 0.3}, {}),
        ("describe_dispute", "he ignores me", {"fact:communication=false": 0.9}, {"communication": False}),
        ("describe_dispute", "he hit me last night", {"fact:safety=false": 0.2}, {"safety": True}),
        ("safety", "i'm frightened at home", {}, {"safety": True}),
    ],
)
def test_typed_messages_state_what_was_learned_and_danger(
    intent: str, text: str, scores: Dict[str, float], expected: Dict[str, bool]
) -> None:
    """A typed message states what the extractor is sure of, not its intent's fact; danger counts from the wording or the intent."""
    assert facts_in_message(intent, text, scores=scores) == expected
