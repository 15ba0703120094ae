"""The evaluation sets stay apart from the training data: no message is in both, none under two intents."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterator, Set

import pytest

from bot.config import PROJECT_ROOT
from bot.understanding.evaluation import EvaluationSets, nlu_examples, read_sets
from bot.understanding.danger_model import read_danger_cases
from bot.understanding.fact_model import read_fact_cases

HERE = Path(__file__).parent


def normalised(text: str) -> str:
    """Lower case, straight apostrophes, single spaces, no closing punctuation."""
    return " ".join(text.lower().replace("’", "'").split()).strip(" ?.!")


def training_intents() -> Dict[str, Set[str]]:
    """Every training message (normalised) with the intents it is an example of."""
    intents: Dict[str, Set[str]] = defaultdict(set)
    for path in sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")):
        for text, intent in nlu_examples(path):
            intents[normalised(text)].add(intent)
    return intents


def own_training_messages() -> Set[str]:
    """Every training message of the classifiers' own data (normalised): data/facts/ and data/safety/."""
    cases = read_fact_cases(PROJECT_ROOT / "data" / "facts") + read_danger_cases(PROJECT_ROOT / "data" / "safety")
    return {normalised(text) for text, _ in cases}


def messages(sets: EvaluationSets) -> Iterator[str]:
    """Every message of a family of evaluation sets (the language set measures a detector we don't train)."""
    yield from (text for text, _ in sets.topics)
    yield from (text for text, _ in sets.off_domain)
    yield from sets.danger
    yield from sets.benign
    yield from (text for text, _ in sets.facts)


@pytest.mark.parametrize(
    "folder, prefix",
    [(HERE, ""), (HERE / "dev", "dev_"), (HERE / "dev", "dev_hard_"), (HERE / "dev", "dev_fresh_"), (HERE / "dev", "dev_fourth_"),
     (HERE / "dev", "dev_fifth_"), (HERE / "dev", "dev_sixth_")],
    ids=["report", "tuning", "hard tuning", "fresh tuning", "fourth tuning", "fifth tuning", "sixth tuning"],
)
def test_no_evaluation_message_is_trained_on(folder: Path, prefix: str) -> None:
    """A message of the report or tuning sets never appears in data/nlu/, data/facts/ or data/safety/ (case and spacing aside)."""
    trained = set(training_intents()) | own_training_messages()
    overlap = sorted({text for text in messages(read_sets(folder, prefix)) if normalised(text) in trained})
    assert not overlap, overlap


def test_no_training_message_has_two_intents() -> None:
    """Each training message teaches one intent."""
    conflicting = {text: sorted(intents) for text, intents in training_intents().items() if len(intents) > 1}
    assert not conflicting, conflicting
