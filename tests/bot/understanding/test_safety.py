"""Recognising danger in a message: broad enough to catch it, narrow enough to spare legal threats."""

from __future__ import annotations

import pytest

from bot.understanding.safety import is_safety_concern

IN_DANGER = [
    "he threatened to hurt me",
    "My ex hit me last night",
    "I am scared for my safety",
    "she said she would kill me",
    "he has a gun in the house",
    "I dont feel safe at home anymore",
    "my partner is abusive, should we try mediation?",
    "he keeps following me home from work",
    "I fear for my life",
    "I'm afraid of what he might do",
    "the kids aren't safe with her",
    "he threatened me",
    "My ex is violent. Can we do mediation?",
    "my landlord pushed me and threatened to beat me",
    "I'm thinking about ending it, I want to kill myself",
    "she's been stalking me for weeks",
    "I had to get a restraining order against my neighbour",
]

NOT_IN_DANGER = [
    "the negotiation is killing me",
    "my landlord threatened to take me to court",
    "he pushed me to sign the agreement",
    "I'm afraid we will never agree",
    "my boss threatened me with legal action",
    "he threatened to sue me",
    "communication broke down",
    "I feel pressured to sign",
    "what's the difference between mediation and negotiation?",
    "will I win in court",
    "my business partner is stalling the deal",
    "I don't want to be in the same room as my ex",
]


@pytest.mark.parametrize("text", IN_DANGER)
def test_danger_is_recognised(text: str) -> None:
    """Threats, violence, stalking and fear are all safety concerns."""
    assert is_safety_concern(text)


@pytest.mark.parametrize("text", NOT_IN_DANGER)
def test_ordinary_dispute_language_is_not_a_safety_concern(text: str) -> None:
    """Legal threats, pressure and figures of speech are not mistaken for danger."""
    assert not is_safety_concern(text)
