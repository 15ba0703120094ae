"""The NLU components that adapt our rules to Rasa: the arbiter sets the final intent on real Messages."""

from __future__ import annotations

from typing import Dict, List

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.understanding.arbiter import Thresholds
from bot.understanding.rasa_components import MessageArbiter

IN_DOMAIN = {"in_domain": 0.95, "asks_recommendation": 0.05, "not_covered": 0.05}


def classified(text: str, intent: str, scope: Dict[str, float], confidence: float = 0.7) -> Message:
    """A message as the classifiers leave it."""
    ranking = [{"name": intent, "confidence": confidence}, {"name": "greet", "confidence": 0.1}]
    return Message(data={"text": text, "intent": ranking[0], "intent_ranking": ranking, "scope": scope})


@pytest.mark.parametrize(
    "text, intent, scope, expected",
    [
        ("my ex threatened to hurt me, can we try mediation?", "what_is_mediation", IN_DOMAIN, "safety"),
        ("he hit me", "communication_breakdown", IN_DOMAIN, "safety"),
        ("what is mediation?", "what_is_mediation", IN_DOMAIN, "what_is_mediation"),
        ("what is mediation?", "what_is_mediation", {**IN_DOMAIN, "in_domain": 0.1}, "out_of_scope"),
        ("communication broke down, which process do you recommend?", "communication_breakdown", {**IN_DOMAIN, "asks_recommendation": 0.9}, "recommend_process"),
        ("/what_is_mediation", "what_is_mediation", {**IN_DOMAIN, "in_domain": 0.1}, "what_is_mediation"),
    ],
)
def test_arbiter_sets_the_final_intent(text: str, intent: str, scope: Dict[str, float], expected: str) -> None:
    """The arbiter promotes its verdict with confidence 1 and keeps the classifier's ranking below it."""
    [message] = MessageArbiter(Thresholds()).process([classified(text, intent, scope)])
    assert message.get("intent")["name"] == expected
    ranking: List[dict] = message.get("intent_ranking")
    if expected != intent:
        assert ranking[0] == {"name": expected, "confidence": 1.0}
        assert ranking[1]["name"] == intent
        assert message.get("arbiter")["intent"] == intent


def test_arbiter_reports_language_and_reason() -> None:
    """The parse result says which language was detected and why the intent is what it is."""
    [message] = MessageArbiter(Thresholds()).process([classified("what is mediation?", "what_is_mediation", IN_DOMAIN)])
    assert message.get("language") == "en"
    assert message.get("arbiter") == {"intent": "what_is_mediation", "reason": "classifier", "asks_recommendation": False}


def test_arbiter_config_reaches_the_thresholds() -> None:
    """config.yml's values become the arbiter's thresholds."""
    arbiter = MessageArbiter.create({"in_domain": 0.8, "name": "x"}, None, None, None)  # type: ignore[arg-type]
    [message] = arbiter.process([classified("what is mediation?", "what_is_mediation", {**IN_DOMAIN, "in_domain": 0.7})])
    assert message.get("intent")["name"] == "out_of_scope"
