"""Danger written in a language other than English, learned from examples written in those languages.

The English danger classifier (bot/understanding/scope.py) reads English words; the patterns of
bot/understanding/safety.py catch the commonest phrasings in each of SAFETY_LANGUAGES, and only
those. This classifier learns from data/safety/ (danger and ordinary messages per language) and
from the other-language examples of the NLU data (ordinary): a logistic regression over word 1-2-grams
and character 2-5-grams within words, accents stripped, so inflections ("pegó", "pegaba"), unaccented
typing and spelling slips share most of their features. Chosen on the tuning sets (tests/nlu/dev/
dev_safety.yml other_languages and benign, safety_samples.yml): AUC 0.966 against 0.965 for
characters alone and 0.954 for words alone; balanced class weights doubled the false alarms at 0.5.
A message is scored whole and sentence by sentence, keeping the highest, so danger in the middle of
a long message about the flat counts too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from bot.understanding.data_files import read_yaml
from bot.understanding.scope import OTHER_LANGUAGE_DANGER, FastTfidfVectorizer, JoinedFeatures, StackedHeads, normalise, sentences
DangerCase = Tuple[str, int]


def read_danger_cases(folder: Path) -> List[DangerCase]:
    """(text, 1) for each danger message and (text, 0) for each ordinary one, of every YAML file in `folder`.

    Each file maps an ISO 639-1 code to `danger:` and `benign:` lists.
    """
    cases: List[DangerCase] = []
    for path in sorted(Path(folder).glob("*.yml")):
        for code, sets in read_yaml(path).items():
            if not isinstance(sets, dict) or set(sets) - {"danger", "benign"}:
                raise ValueError(f"{path}: {code!r} needs danger: and benign: lists only")
            cases += [(str(text), 1) for text in sets.get("danger") or []]
            cases += [(str(text), 0) for text in sets.get("benign") or []]
    return cases


class OtherLanguageDangerModel:
    """The probability that a message in another language says someone may be in danger."""

    def __init__(self, features: FeatureUnion, classifier: LogisticRegression) -> None:
        self._features = features
        self._classifier = classifier
        self._heads = StackedHeads({OTHER_LANGUAGE_DANGER: classifier})

    @classmethod
    def train(cls, cases: Iterable[DangerCase], seed: int = 42) -> "OtherLanguageDangerModel":
        """Fit on (text, 1 for danger / 0 for ordinary) cases."""
        pairs = [(normalise(text), int(label)) for text, label in cases if text]
        if len({label for _, label in pairs}) < 2:
            raise ValueError("the other-language danger model needs danger and ordinary messages")
        features = JoinedFeatures(
            [
                ("words", FastTfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode", sublinear_tf=True)),
                ("chars", FastTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), strip_accents="unicode", sublinear_tf=True)),
            ]
        )
        matrix = features.fit_transform([text for text, _ in pairs])
        classifier = LogisticRegression(C=10.0, max_iter=3000, random_state=seed)
        classifier.fit(matrix, [label for _, label in pairs])
        return cls(features, classifier)

    def probabilities(self, texts: Sequence[str]) -> List[float]:
        """For each text, the highest danger probability of the whole text and of its sentences."""
        normalised = [normalise(text) for text in texts]
        pieces = [(index, piece) for index, text in enumerate(normalised) for piece in [text, *sentences(text)]]
        if not pieces:
            return []
        matrix = self._features.transform([piece for _, piece in pieces])
        scores = self._heads.probabilities(matrix)[OTHER_LANGUAGE_DANGER][:, list(self._classifier.classes_).index(1)]
        # A piece none of whose words the examples use (another language or script) counts for nothing: only
        # its punctuation's character n-grams would be known, and on their own they weigh as a whole message.
        # The word n-grams are the first block of the joined columns.
        word_columns = len(dict(self._features.transformer_list)["words"].vocabulary_)
        knows_a_word = matrix[:, :word_columns].getnnz(axis=1) > 0
        best = np.zeros(len(texts))
        for (index, _), score, known in zip(pieces, scores, knows_a_word):
            if known:
                best[index] = max(best[index], score)
        return [round(float(value), 4) for value in best]
