"""The recommendation policy over every combination of facts, and the questions it asks."""

from __future__ import annotations

import itertools
from typing import Dict, Iterator, Optional

import pytest

from bot.recommend import (
    FACTS,
    PROCESSES,
    UNSURE,
    UNSURE_DEFAULTS,
    FactValue,
    choose_process,
    next_question,
    recommend,
)

KNOWN_VALUES = (True, False)
ALL_VALUES = (True, False, None, UNSURE)


def every_combination(values: tuple) -> Iterator[Dict[str, FactValue]]:
    """Every assignment of `values` to the seven facts."""
    for combination in itertools.product(values, repeat=len(FACTS)):
        yield dict(zip(FACTS, combination))


def policy_as_specified(facts: Dict[str, Optional[bool]]) -> str:
    """The policy as the issue states it, in its order, for fully known facts."""
    if facts["safety"]:
        return "court"
    if facts["other_side_willing"] is False:
        return "court"
    if facts["wants_decision"]:
        return "arbitration"
    if facts["communication"] is False or facts["pressure"] or facts["impasse"] or facts["face_to_face"] is False:
        return "mediation"
    return "negotiation"


def completions(facts: Dict[str, FactValue]) -> Iterator[Dict[str, FactValue]]:
    """Every way of filling the unknown facts with yes or no."""
    unknown = [fact for fact in FACTS if facts[fact] is None]
    for values in itertools.product(KNOWN_VALUES, repeat=len(unknown)):
        yield {**facts, **dict(zip(unknown, values))}


def resolved(facts: Dict[str, FactValue]) -> Dict[str, Optional[bool]]:
    """Unsure answers replaced by their documented defaults."""
    return {fact: UNSURE_DEFAULTS[fact] if value == UNSURE else value for fact, value in facts.items()}


@pytest.mark.parametrize("facts", list(every_combination(KNOWN_VALUES)), ids=lambda f: "".join("TF"[not v] for v in f.values()))
def test_policy_over_every_known_combination(facts: Dict[str, bool]) -> None:
    """With every fact known, the recommendation follows the policy's order."""
    result = recommend(facts)
    assert result.process == policy_as_specified(facts)
    assert next_question(facts) is None


def test_unsure_answers_use_their_defaults_and_are_reported() -> None:
    """Across all combinations with "unsure", the default is used and listed as assumed."""
    for facts in every_combination((True, False, UNSURE)):
        result = recommend(facts)
        assert result.process == policy_as_specified(resolved(facts))
        assert set(result.assumed) == {fact for fact, value in facts.items() if value == UNSURE}


def test_questions_stop_exactly_when_the_outcome_is_decided() -> None:
    """Safety is always asked first; after it, a question only while the outcome is still open."""
    for facts in every_combination(ALL_VALUES):
        outcomes = {policy_as_specified(resolved(c)) for c in completions(facts)}
        question = next_question(facts)
        if facts["safety"] is None:
            assert question == "safety"
        elif question is None:
            assert len(outcomes) == 1, facts
            assert choose_process(facts) in outcomes
        else:
            assert facts[question] is None
            assert len(outcomes) > 1, (facts, question)
            assert question == next(fact for fact in FACTS if facts[fact] is None), (facts, question)


def test_every_recommendation_has_grounded_reasons_and_three_alternatives() -> None:
    """Each reason names its fact, a topic and a paragraph; the other three processes are alternatives."""
    for facts in every_combination((True, False, UNSURE)):
        result = recommend(facts)
        assert result.reasons, facts
        for reason in result.reasons:
            assert reason.fact in FACTS and reason.topic and reason.paragraph in {"P1", "P2", "P3", "P4", "P5"}
            assert resolved(facts)[reason.fact] == reason.value
        assert sorted(a.process for a in result.alternatives) == sorted(set(PROCESSES) - {result.process})


@pytest.mark.parametrize(
    "facts, expected_format",
    [
        ({"safety": True}, "court_safety"),
        ({"safety": False, "other_side_willing": False}, "court"),
        ({"safety": False, "other_side_willing": True, "wants_decision": True}, "arbitration"),
        ({"safety": False, "other_side_willing": True, "wants_decision": False, "face_to_face": False}, "mediation_separate"),
        ({"safety": False, "other_side_willing": True, "wants_decision": False, "communication": False}, "mediation_flexible"),
    ],
)
def test_what_it_would_look_like(facts: Dict[str, FactValue], expected_format: str) -> None:
    """Separate sessions when they won't meet; no meeting at all when safety is at stake."""
    assert recommend(facts).format_id == expected_format


def test_questions_follow_policy_order_from_nothing() -> None:
    """Asked from scratch, answering "no risk, willing, no ruling, can talk, no pressure, not stuck, will meet"."""
    answers = {"safety": False, "other_side_willing": True, "wants_decision": False, "communication": True,
               "pressure": False, "impasse": False, "face_to_face": True}
    facts: Dict[str, FactValue] = {}
    asked = []
    while (question := next_question(facts)) is not None:
        asked.append(question)
        facts[question] = answers[question]
    assert asked == list(FACTS)
    assert recommend(facts).process == "negotiation"
