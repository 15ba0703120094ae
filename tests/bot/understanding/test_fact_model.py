"""The fact extractor learns fact values from labelled messages and reads them clause by clause."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from bot.understanding.fact_model import FactModel, read_fact_cases, read_fact_data, training_cases
from bot.understanding.scope import clauses
from bot.understanding.facts import learned_facts

CASES: List[Tuple[str, Dict[str, bool]]] = [
    *[(f"{who} won't talk to me", {"communication": False}) for who in ("he", "she", "my ex", "my landlord", "my boss", "my sister")],
    *[(f"{who} and i still talk every week", {"communication": True}) for who in ("my ex", "my brother", "my partner", "my boss")],
    *[(f"{who} wants me to sign by friday", {"pressure": True}) for who in ("he", "she", "my landlord", "the builder", "my ex")],
    *[(f"there is no deadline, {who} is patient", {"pressure": False}) for who in ("he", "she", "my landlord", "the builder")],
    *[(f"{who} kept the deposit", {}) for who in ("he", "she", "my landlord", "the agent", "my flatmate")],
    *[(f"what does a {word} do", {}) for word in ("mediator", "judge", "lawyer", "arbitrator")],
    *[(f"play some {genre} music", {}) for genre in ("jazz", "rock", "pop", "folk")],
]


@pytest.fixture(scope="module")
def model() -> FactModel:
    """The extractor trained on the small table above."""
    return FactModel.train(CASES)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my neighbour won't talk to me", {"communication": False}),
        ("my neighbour won't talk to me and he wants me to sign by friday", {"communication": False, "pressure": True}),
        ("there is no deadline", {"pressure": False}),
        ("my neighbour kept the deposit", {}),
        ("play some blues music", {}),
    ],
)
def test_facts_are_read_from_each_clause(model: FactModel, text: str, expected: Dict[str, bool]) -> None:
    """Each clause's fact is found, with its value; a message stating none gets none."""
    [scores] = model.scores([text])
    assert learned_facts(scores, threshold=0.5) == expected, scores


@pytest.mark.parametrize(
    "text, expected",
    [
        ("he won't talk to me and wants me to sign by friday", ["he won't talk to me", "wants me to sign by friday"]),
        ("we still talk. but she refuses mediation", ["we still talk", "she refuses mediation"]),
        ("no contact, no reply, nothing at all", ["no contact no reply", "nothing at all"]),
        ("my ex and i talk fine and she is up for mediation", ["my ex i talk fine", "she is up for mediation"]),
        ("he won't talk to me", []),
    ],
)
def test_clauses(text: str, expected: List[str]) -> None:
    """A message splits at sentence ends, commas and joining words; a piece under three words joins the next."""
    assert clauses(text) == expected


def test_intent_examples_are_labelled_by_their_intents_fact() -> None:
    """A situation intent's example states its fact; other intents' examples state none; recommendation requests are left out."""
    cases = training_cases(
        [("we stopped talking", "communication_breakdown"), ("hello", "greet"), ("which process, we stopped talking", "recommend_process")],
        [("he is pushing me to sign", {"pressure": True})],
    )
    assert cases == [("he is pushing me to sign", {"pressure": True}), ("we stopped talking", {"communication": False}), ("hello", {})]


def test_fact_data_with_an_unknown_fact_is_refused(tmp_path: Path) -> None:
    """A labelled message naming a fact the recommender doesn't know stops training with the file and text."""
    (tmp_path / "facts.yml").write_text("cases:\n  - text: he shouts\n    facts: {shouting: true}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="shouting"):
        read_fact_cases(tmp_path)


def test_danger_labels_come_from_the_safety_fact_or_danger_false(tmp_path: Path) -> None:
    """The danger task learns from cases stating or ruling out danger and from `danger: false` ones, which state no fact."""
    (tmp_path / "facts.yml").write_text(
        "cases:\n"
        "  - text: he hit me\n    facts: {safety: true}\n"
        "  - text: he's never been violent\n    facts: {safety: false}\n"
        "  - text: she came out swinging in her letter\n    danger: false\n"
        "  - text: we stopped talking\n    facts: {communication: false}\n",
        encoding="utf-8",
    )
    cases, danger = read_fact_data(tmp_path)
    assert danger == [("he hit me", 1), ("he's never been violent", 0), ("she came out swinging in her letter", 0)]
    assert ("she came out swinging in her letter", {}) in cases and cases == read_fact_cases(tmp_path)


@pytest.mark.parametrize("case", ["facts: {safety: true}\n    danger: false", "danger: true"])
def test_danger_false_with_the_safety_fact_or_another_value_is_refused(tmp_path: Path, case: str) -> None:
    """`danger:` only says false, and only where the case doesn't state the safety fact."""
    (tmp_path / "facts.yml").write_text(f"cases:\n  - text: he hit me\n    {case}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="danger: false"):
        read_fact_data(tmp_path)


def test_project_fact_data_reads() -> None:
    """data/facts/ holds fact-labelled messages for every fact the recommender asks about."""
    from bot.config import PROJECT_ROOT
    from bot.recommend import FACTS

    cases = read_fact_cases(PROJECT_ROOT / "data" / "facts")
    stated = {(fact, value) for _, facts in cases for fact, value in facts.items()}
    assert {fact for fact, _ in stated} == set(FACTS)
    assert sum(1 for _, facts in cases if not facts) >= 100
