"""The learned fact extractor: which situation facts a message states, clause by clause.

One three-way logistic regression per fact (not stated / true / false) over the same word and
character n-grams as the other classifiers, trained on the fact-labelled messages of data/facts/
and on the examples of the intents that state a fact on their own (bot/understanding/facts.py
INTENT_FACTS; every other intent's examples state none). A message is scored whole and clause by
clause ("he won't listen, and now he's pushing me to sign" states two facts, one per clause), and
each value keeps its highest probability; bot/understanding/facts.py takes a value only when it is
sure and no clause claims the opposite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from bot.recommend import FACTS
from bot.understanding.data_files import read_yaml
from bot.understanding.facts import INTENT_FACTS
from bot.understanding.intents import NON_ENGLISH, RECOMMEND
from bot.understanding.scope import _features, clauses, fact_task_name, fit_in_parallel, normalise, stacked_heads

NOT_STATED, TRUE, FALSE = 0, 1, 2
# Recommendation requests often describe a situation too, and messages in other languages are not
# read for facts: neither counts as an example of "no fact stated".
_UNLABELLED_INTENTS = frozenset({RECOMMEND, NON_ENGLISH})
# Each fact's regression stops after this many L-BFGS iterations instead of converging (75-115): on
# the six tuning families' fact sets the facts read were the same (micro precision 0.974 against
# 0.975, recall 0.928 both, lowest per-fact precision 0.953 and recall 0.906 both), and training
# spends 40 % less time on them. 40 iterations began to lose recall (lowest 0.902).
FACT_ITERATIONS = 60
FactCase = Tuple[str, Mapping[str, bool]]


def read_fact_cases(folder: Path) -> List[FactCase]:
    """The fact-labelled messages of every YAML file in `folder` (`cases:` of `text` and `facts`)."""
    return read_fact_data(folder)[0]


def read_fact_data(folder: Path) -> Tuple[List[FactCase], List[Tuple[str, int]]]:
    """The fact cases of `folder`, and (text, 1 or 0) labels for the learned danger task, from one read.

    A danger label comes from each case stating the `safety` fact, or labelled `danger: false`: a
    message with no danger in it that doesn't rule danger out either ("she came out swinging in her
    letter"). That teaches the danger classifier without teaching the fact extractor `safety=false`,
    which would let the recommendation skip its safety question.
    """
    cases: List[FactCase] = []
    danger: List[Tuple[str, int]] = []
    for path in sorted(Path(folder).glob("*.yml")):
        for case in read_yaml(path).get("cases") or []:
            text = str(case["text"])
            facts = {fact: bool(value) for fact, value in (case.get("facts") or {}).items()}
            unknown = set(facts) - set(FACTS)
            if unknown:
                raise ValueError(f"{path}: unknown facts {sorted(unknown)} in {text!r}")
            if "danger" in case and ("safety" in facts or case["danger"] is not False):
                raise ValueError(f"{path}: `danger: false` is for cases without the safety fact, in {text!r}")
            cases.append((text, facts))
            if "safety" in facts:
                danger.append((text, int(facts["safety"])))
            elif "danger" in case:
                danger.append((text, 0))
    return cases, danger


def training_cases(intent_examples: Iterable[Tuple[str, str]], fact_cases: Sequence[FactCase]) -> List[FactCase]:
    """The fact-labelled messages plus every intent example, labelled by the fact its intent states."""
    cases = list(fact_cases)
    for text, intent in intent_examples:
        if not text or not intent or intent in _UNLABELLED_INTENTS:
            continue
        cases.append((text, dict([INTENT_FACTS[intent]]) if intent in INTENT_FACTS else {}))
    return cases


class FactModel:
    """One three-way classifier per fact over a shared n-gram vocabulary."""

    def __init__(self, features: FeatureUnion, classifiers: Mapping[str, LogisticRegression]) -> None:
        self._features = features
        self._classifiers = dict(classifiers)

    @classmethod
    def train(
        cls, cases: Sequence[FactCase], seed: int = 42, features: Optional[FeatureUnion] = None,
        transform: Optional[Callable[[Sequence[str]], Any]] = None,
    ) -> "FactModel":
        """Fit every fact that has examples of being stated (on `features` already fitted, to share them, or its own).

        `transform` gives the rows of `features` when another model has computed them (bot/understanding/scope.py FeatureRows).
        """
        texts = [normalise(text) for text, _ in cases]
        features = features if features is not None else _features().fit(texts)
        matrix = (transform or features.transform)(texts)
        jobs = {}
        for fact in FACTS:
            labels = np.array([NOT_STATED if fact not in facts else (TRUE if facts[fact] else FALSE) for _, facts in cases])
            if len(set(labels.tolist())) >= 2:
                jobs[fact] = (LogisticRegression(C=8.0, max_iter=FACT_ITERATIONS, random_state=seed), matrix, labels)
        return cls(features, fit_in_parallel(jobs, stopped_early=True))

    @property
    def facts(self) -> List[str]:
        """The facts this model reads."""
        return list(self._classifiers)

    def scores(self, texts: Sequence[str], transform: Optional[Callable[[Sequence[str]], Any]] = None) -> List[Dict[str, float]]:
        """For each text, the probability of every fact value ("fact:pressure=true"), the highest over its clauses.

        `transform` computes the feature rows when another model shares (and has computed) them.
        """
        pieces = [(index, piece) for index, text in enumerate(texts) for piece in [normalise(text), *clauses(text)]]
        results: List[Dict[str, float]] = [{} for _ in texts]
        if not pieces or not self._classifiers:
            return results
        matrix = (transform or self._features.transform)([piece for _, piece in pieces])
        for fact, probabilities in stacked_heads(self, self._classifiers).probabilities(matrix).items():
            classifier = self._classifiers[fact]
            columns = {value: list(classifier.classes_).index(label) for value, label in ((True, TRUE), (False, FALSE))
                       if label in classifier.classes_}
            for (index, _), row in zip(pieces, probabilities):
                for value, column in columns.items():
                    name = fact_task_name(fact, value)
                    results[index][name] = max(results[index].get(name, 0.0), round(float(row[column]), 4))
        return results


def fact_data_files(folder: Optional[Path]) -> List[Path]:
    """The files whose content the trained fact model depends on."""
    return sorted(Path(folder).glob("*.yml")) if folder else []
