"""Choosing the topic to explain from the intent and the processes the user named."""

from __future__ import annotations

from typing import List, Optional

import pytest

from bot.understanding.topics import STARTER_TOPICS, resolve_topic, suggest_topics


@pytest.mark.parametrize(
    "intent, processes, expected",
    [
        ("mediator_role", ["mediation"], "mediator_role"),
        ("mediator_role", ["arbitration"], "arbitration_and_court"),
        ("mediator_role", ["court"], "arbitration_and_court"),
        ("mediator_role", [], "mediator_role"),
        ("mediator_decision_power", ["arbitration"], "arbitration_and_court"),
        ("mediator_decision_power", ["mediation"], "mediator_decision_power"),
        ("mediator_decision_power", ["mediation", "court"], "mediator_decision_power"),
        ("mediator_role", ["mediation", "arbitration"], "mediator_role"),
        ("what_is_mediation", ["negotiation"], "what_is_negotiation"),
        ("what_is_negotiation", ["mediation"], "what_is_mediation"),
        ("what_is_mediation", ["mediation", "negotiation"], "mediation_vs_negotiation"),
        ("what_is_mediation", ["mediation", "court"], "arbitration_and_court"),
        ("arbitration_and_court", ["mediation"], "what_is_mediation"),
        ("pressure_to_sign", ["negotiation"], "pressure_to_sign"),
        ("meeting_formats", ["mediation"], "meeting_formats"),
        (None, ["mediation"], None),
    ],
)
def test_resolve_topic(intent: Optional[str], processes: List[str], expected: Optional[str]) -> None:
    """Definition questions follow the named process; other topics keep their intent."""
    assert resolve_topic(intent, processes) == expected


KNOWN = ["mediation_vs_negotiation", "mediator_role", "meeting_formats", "impasse", "pressure_to_sign"]


@pytest.mark.parametrize(
    "ranking, expected",
    [
        (
            [{"name": "nlu_fallback", "confidence": 0.45}, {"name": "impasse", "confidence": 0.3},
             {"name": "greet", "confidence": 0.2}, {"name": "pressure_to_sign", "confidence": 0.1},
             {"name": "mediator_role", "confidence": 0.05}, {"name": "meeting_formats", "confidence": 0.04}],
            ["impasse", "pressure_to_sign", "mediator_role"],
        ),
        ([{"name": "impasse", "confidence": 0.001}], list(STARTER_TOPICS)),
        ([{"name": "greet", "confidence": 0.9}], list(STARTER_TOPICS)),
        ([], list(STARTER_TOPICS)),
    ],
)
def test_suggest_topics(ranking: List[dict], expected: List[str]) -> None:
    """Suggestions are the top-ranked known topics, else the starter topics."""
    assert suggest_topics(ranking, KNOWN) == expected
