"""Second opinions on a message, learned from the NLU training data.

The intent classifier picks one intent from a closed set, so every message lands on some intent.
These binary classifiers ask the questions a single label cannot answer: is the message about a
dispute at all, does it ask for a recommendation (also while it describes a situation), and is it a
question in our field that the firm's guide does not cover, is someone in danger, which situation
facts does it state. Each is a binary logistic regression over word and character n-grams, trained
on the same examples as the intent classifier (`IntentModel`, a calibrated linear SVM over the same
n-grams) but framed as its own yes/no question, so the two disagree where the data is thin, and the
arbiter (bot/understanding/arbiter.py) only lets a grounded answer through when both agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.understanding.facts import INTENT_FACTS
from bot.understanding.intents import (
    KNOWLEDGE_TOPICS,
    NON_ENGLISH,
    NOT_COVERED,
    OUT_OF_SCOPE,
    RECOMMEND,
    SAFETY,
    SITUATION_TOPICS,
)

IN_DOMAIN = "in_domain"
ASKS_RECOMMENDATION = "asks_recommendation"
NOT_COVERED_QUESTION = "not_covered"
DANGER = "danger"
# Tasks scored on each sentence as well as on the whole message, keeping the highest: a danger
# signal in the middle of a long story about the house counts as much as on its own.
SENTENCE_TASKS = frozenset({DANGER})
_SENTENCE_BREAK = re.compile(r"(?<=[.!?;])\s+|\n+|,\s+(?:and|but|so)\s+")


@dataclass(frozen=True)
class Task:
    """One binary question: examples of `positive` intents against those of `negative` ones (None: all others)."""

    name: str
    positive: FrozenSet[str]
    negative: Optional[FrozenSet[str]] = None
    ignored: FrozenSet[str] = frozenset()

    def label(self, intent: str) -> Optional[int]:
        """1 for a positive example, 0 for a negative one, None when the intent takes no part."""
        if intent in self.ignored:
            return None
        if intent in self.positive:
            return 1
        if self.negative is None or intent in self.negative:
            return 0
        return None


def fact_task_name(fact: str, value: bool) -> str:
    """The task that tells whether a message states `fact` = `value` ("fact:communication=false")."""
    return f"fact:{fact}={str(value).lower()}"


def _fact_tasks() -> Tuple[Task, ...]:
    """One task per fact value that some intent states, learned from that intent's examples.

    Recommendation requests are left out: they often describe a situation too, so they are neither
    positive nor negative examples; at run time these tasks find the situation inside them.
    """
    by_value: Dict[Tuple[str, bool], set] = {}
    for intent, (fact, value) in INTENT_FACTS.items():
        if fact != "safety":
            by_value.setdefault((fact, value), set()).add(intent)
    return tuple(
        Task(fact_task_name(fact, value), positive=frozenset(intents), ignored=frozenset({RECOMMEND, NON_ENGLISH}))
        for (fact, value), intents in sorted(by_value.items())
    )


TASKS: Tuple[Task, ...] = (
    Task(IN_DOMAIN, positive=frozenset(), negative=frozenset({OUT_OF_SCOPE}), ignored=frozenset({NON_ENGLISH})),
    Task(ASKS_RECOMMENDATION, positive=frozenset({RECOMMEND}), ignored=frozenset({NON_ENGLISH})),
    Task(NOT_COVERED_QUESTION, positive=frozenset({NOT_COVERED}), negative=KNOWLEDGE_TOPICS | SITUATION_TOPICS),
    Task(DANGER, positive=frozenset({SAFETY}), ignored=frozenset({NON_ENGLISH})),
    *_fact_tasks(),
)


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, single spaces."""
    return " ".join((text or "").lower().replace("’", "'").split())


def _features() -> FeatureUnion:
    """Word 1-2-grams and character 2-5-grams (within words, so typos share most of them), TF-IDF weighted."""
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"(?u)\b\w[\w']*\b", sublinear_tf=True, min_df=1)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
        ]
    )


class ScopeModel:
    """The trained binary classifiers, one per task, over one shared n-gram vocabulary.

    The features are computed once per message for all tasks (fitted on every example), and each
    task's logistic regression (unweighted, so its probabilities stay calibrated) reads them.
    """

    def __init__(self, features: FeatureUnion, classifiers: Mapping[str, LogisticRegression]) -> None:
        self._features = features
        self._classifiers = dict(classifiers)

    @classmethod
    def train(cls, examples: Iterable[Tuple[str, str]], tasks: Sequence[Task] = TASKS, seed: int = 42) -> "ScopeModel":
        """Fit every task on (text, intent) examples; a task without both classes is left out."""
        pairs = [(normalise(text), intent) for text, intent in examples if text and intent]
        intents = {intent for _, intent in pairs}
        features = _features().fit([text for text, _ in pairs])
        matrix = features.transform([text for text, _ in pairs])
        classifiers: Dict[str, LogisticRegression] = {}
        for task in tasks:
            resolved = Task(task.name, task.positive or frozenset(intents) - (task.negative or frozenset()) - task.ignored,
                            task.negative, task.ignored)
            labelled = [(row, resolved.label(intent)) for row, (_, intent) in enumerate(pairs)]
            rows = [row for row, label in labelled if label is not None]
            labels = [label for _, label in labelled if label is not None]
            if len(set(labels)) < 2:
                continue
            classifier = LogisticRegression(C=8.0, max_iter=2000, random_state=seed)
            classifiers[task.name] = classifier.fit(matrix[rows], labels)
        return cls(features, classifiers)

    @property
    def task_names(self) -> List[str]:
        """The tasks this model answers."""
        return list(self._classifiers)

    def scores(self, texts: Sequence[str]) -> List[Dict[str, float]]:
        """Each task's probability for each text (for sentence tasks, the highest of the text and its sentences)."""
        if not self._classifiers:
            return [{} for _ in texts]
        normalised = [normalise(text) for text in texts]
        matrix = self._features.transform(normalised)
        columns = {name: classifier.predict_proba(matrix)[:, 1] for name, classifier in self._classifiers.items()}
        results = [{name: round(float(values[index]), 4) for name, values in columns.items()} for index in range(len(texts))]
        sentence_tasks = SENTENCE_TASKS & set(self._classifiers)
        pieces = [(index, piece) for index, text in enumerate(normalised) for piece in sentences(text)] if sentence_tasks else []
        if pieces:
            piece_matrix = self._features.transform([piece for _, piece in pieces])
            for name in sentence_tasks:
                for (index, _), probability in zip(pieces, self._classifiers[name].predict_proba(piece_matrix)[:, 1]):
                    results[index][name] = max(results[index][name], round(float(probability), 4))
        return results


def sentences(text: str) -> List[str]:
    """The sentences and clauses of a message that has more than one; each of at least three words."""
    pieces = [piece.strip(" ,.") for piece in _SENTENCE_BREAK.split(text)]
    pieces = [piece for piece in pieces if len(piece.split()) >= 3]
    return pieces if len(pieces) > 1 else []


class IntentModel:
    """The intent classifier: a linear SVM over the same n-grams, with probabilities calibrated by cross-validation.

    Chosen over DIET by held-out accuracy on tests/nlu/dev/ (0.92 against 0.82 for DIET with the same
    training data) and training time (seconds instead of minutes): the messages are short and the
    signal is in their words and spelling, which a linear model over n-grams captures well.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    @classmethod
    def train(cls, examples: Iterable[Tuple[str, str]], seed: int = 42) -> "IntentModel":
        """Fit on (text, intent) examples."""
        pairs = [(normalise(text), intent) for text, intent in examples if text and intent]
        texts = [text for text, _ in pairs]
        labels = np.array([intent for _, intent in pairs])
        calibrated = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=seed), method="sigmoid", cv=3, ensemble=False)
        return cls(Pipeline([("features", _features()), ("classifier", calibrated)]).fit(texts, labels))

    def rankings(self, texts: Sequence[str], limit: int = 10) -> List[List[Dict[str, float]]]:
        """For each text, the `limit` most probable intents, best first, with probabilities summing to 1."""
        probabilities = self._pipeline.predict_proba([normalise(text) for text in texts])
        classes = self._pipeline.classes_
        rankings = []
        for row in probabilities:
            order = np.argsort(-row)[:limit]
            rankings.append([{"name": str(classes[index]), "confidence": round(float(row[index]), 4)} for index in order])
        return rankings
