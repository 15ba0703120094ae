"""The NLU components that adapt our rules to Rasa: canonical entities and intent overrides."""

from __future__ import annotations

from typing import List, Optional

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.understanding.rasa_components import AdviceRequestOverride, SafetyOverride


def classified(text: str, intent: str, runner_up: str = "greet") -> Message:
    """A message as the classifier leaves it."""
    ranking = [{"name": intent, "confidence": 0.7}, {"name": runner_up, "confidence": 0.2}]
    return Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking})


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("my ex threatened to hurt me, can we try mediation?", "what_is_mediation", "safety"),
        ("he hit me", "communication_breakdown", "safety"),
        ("what is mediation?", "what_is_mediation", "what_is_mediation"),
        ("/what_is_mediation", "what_is_mediation", "what_is_mediation"),
    ],
)
def test_safety_override(text: str, intent: str, expected: str) -> None:
    """Danger makes `safety` the intent, with the classifier's ranking kept below it."""
    [message] = SafetyOverride().process([classified(text, intent)])
    assert message.get("intent")["name"] == expected
    ranking: List[dict] = message.get("intent_ranking")
    if expected == "safety":
        assert ranking[0] == {"name": "safety", "confidence": 1.0}
        assert ranking[1]["name"] == intent


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("communication broke down, what should I do?", "communication_breakdown", "recommend_process"),
        ("my landlord refuses to negotiate, what are my options?", "other_side_unwilling", "recommend_process"),
        ("communication broke down", "communication_breakdown", "communication_breakdown"),
        ("what should I do about the weather", "out_of_scope", "out_of_scope"),
        ("what is mediation, should we try it?", "what_is_mediation", "what_is_mediation"),
        ("my landlord refuses to negotiate, what are my options?", "nlu_fallback", "recommend_process"),
        ("hmm what should i do with my weekend", "nlu_fallback", "nlu_fallback"),
    ],
)
def test_advice_request_override(text: str, intent: str, expected: Optional[str]) -> None:
    """A situation plus "what should I do?" becomes a recommendation request; nothing else changes."""
    [message] = AdviceRequestOverride().process([classified(text, intent)])
    assert message.get("intent")["name"] == expected
