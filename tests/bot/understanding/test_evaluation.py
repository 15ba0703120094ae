"""The understanding figures score what the assistant does with each message, as the label rules define it."""

from __future__ import annotations

from typing import Dict

import pytest

from bot.understanding.evaluation import Prediction, fact_scores


def prediction(text: str, scores: Dict[str, float]) -> Prediction:
    """A parsed message whose fact extractor gave `scores`, classified as describing a dispute."""
    return Prediction(text=text, intent="describe_dispute", topic=None, kind="info", parse={"scope": scores})


@pytest.mark.parametrize(
    "expected, scores, fact, precision, recall",
    [
        # A true-only fact (LABELS.md): its false is not scored where the case is silent on the fact...
        ({}, {"fact:pressure=false": 0.9}, "pressure", 1.0, 1.0),
        # ... and wrong wherever the case labels it true.
        ({"pressure": True}, {"fact:pressure=false": 0.9}, "pressure", 0.0, 0.0),
        ({"pressure": True}, {"fact:pressure=true": 0.9}, "pressure", 1.0, 1.0),
        ({}, {"fact:pressure=true": 0.9}, "pressure", 0.0, 1.0),
        # A fact with both values is scored either way.
        ({}, {"fact:communication=false": 0.9}, "communication", 0.0, 1.0),
        ({"communication": True}, {"fact:communication=false": 0.9}, "communication", 0.0, 0.0),
        # Below the extractor's threshold nothing is read.
        ({"impasse": True}, {"fact:impasse=true": 0.4}, "impasse", 1.0, 0.0),
    ],
)
def test_fact_scores(expected: Dict[str, bool], scores: Dict[str, float], fact: str, precision: float, recall: float) -> None:
    """Precision counts the values read, recall the labelled ones; a true-only fact's false counts only against a label."""
    text = "we have been going back and forth about the flat"
    measured = fact_scores([(text, expected)], [prediction(text, scores)])[fact]
    assert (measured["precision"], measured["recall"]) == (precision, recall)
