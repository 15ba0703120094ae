"""The second-opinion classifiers learn from labelled examples and answer each task with a probability."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import pytest

from sklearn.feature_extraction.text import TfidfVectorizer

from bot.understanding.scope import (
    ASKS_RECOMMENDATION, ENGLISH_WORDS, IN_DOMAIN, NOT_COVERED_QUESTION, FastTfidfVectorizer, ScopeModel, Task, english_word_share,
)

EXAMPLES: List[Tuple[str, str]] = [
    *[(f"what is mediation {suffix}", "what_is_mediation") for suffix in ("exactly", "about", "like", "in a dispute", "for us")],
    *[(f"does the mediator decide {suffix}", "mediator_decision_power") for suffix in ("for us", "who wins", "the outcome", "anything", "it")],
    *[(f"how much does mediation cost {suffix}", "not_covered") for suffix in ("", "per hour", "in total", "for two", "usually")],
    *[(f"which process should i use {suffix}", "recommend_process") for suffix in ("", "now", "for my dispute", "with my ex", "please")],
    *[(f"we stopped talking {suffix}", "communication_breakdown") for suffix in ("", "months ago", "completely", "after the fight", "at all")],
    *[(f"play some {genre} music", "out_of_scope") for genre in ("jazz", "rock", "pop", "classical", "folk")],
    *[(f"set an alarm for {hour}", "out_of_scope") for hour in ("seven", "six", "noon", "eight", "nine")],
    ("hola necesito ayuda", "non_english"),
]


@pytest.fixture(scope="module")
def model() -> ScopeModel:
    """The classifiers trained on the small table above."""
    return ScopeModel.train(EXAMPLES)


@pytest.mark.parametrize(
    "text, task, high",
    [
        ("play some blues music", IN_DOMAIN, False),
        ("set an alarm for ten", IN_DOMAIN, False),
        ("what is mediation", IN_DOMAIN, True),
        ("which process should i use for my landlord", ASKS_RECOMMENDATION, True),
        ("what is mediation exactly", ASKS_RECOMMENDATION, False),
        ("how much does mediation cost a month", NOT_COVERED_QUESTION, True),
        ("does the mediator decide", NOT_COVERED_QUESTION, False),
    ],
)
def test_each_task_separates_its_examples(model: ScopeModel, text: str, task: str, high: bool) -> None:
    """Unseen wordings near a task's positive examples score above 0.5, others below."""
    [scores] = model.scores([text])
    assert (scores[task] > 0.5) is high, scores


@pytest.mark.parametrize(
    "text, share",
    [
        ("what is mediation", 1.0),
        ("which process should i use for med-arb", 0.75),
        ("hola necesito ayuda", 0.0),
        ("Mediation ALWAYS?", 0.5),
        ("123 !!!", 0.0),
    ],
)
def test_english_word_share_counts_the_words_of_english_examples(model: ScopeModel, text: str, share: float) -> None:
    """The share of a message's words seen in English training examples; another language's examples don't count."""
    assert model.scores([text])[0][ENGLISH_WORDS] == share
    assert english_word_share(text, model.english_vocabulary) == share


def test_task_needing_absent_intents_is_left_out() -> None:
    """A task whose examples are all of one class is not trained, and not reported (the English word share still is)."""
    trained = ScopeModel.train([("hello", "greet"), ("hi there", "greet")], tasks=[Task("only", positive=frozenset({"greet"}))])
    assert trained.task_names == [] and trained.scores(["hello"]) == [{ENGLISH_WORDS: 1.0}]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("we argued. then he hit me hard. can a mediator help", ["then he hit me hard", "can a mediator help"]),
        ("we argue about money all the time, and then he hit me", ["we argue about money all the time", "then he hit me"]),
        ("what is mediation", []),
        ("sorry. late again", []),
    ],
)
def test_sentences(text: str, expected: List[str]) -> None:
    """A message splits into its sentences and clauses of three words or more, or not at all."""
    from bot.understanding.scope import sentences

    assert sentences(text) == expected


def test_task_labels() -> None:
    """Positive, negative and ignored intents of a task."""
    task = Task("t", positive=frozenset({"a"}), negative=frozenset({"b"}), ignored=frozenset({"c"}))
    assert [task.label(intent) for intent in ("a", "b", "c", "d")] == [1, 0, None, None]


def test_extra_rows_teach_one_task_only() -> None:
    """Labelled rows given for one task teach it what the intent examples don't; the other tasks get no labels from them."""
    from bot.understanding.scope import DANGER

    danger = [(f"he {verb} me {when}", 1) for verb in ("hit", "punched", "kicked", "slapped", "choked")
              for when in ("last night", "again", "in the kitchen", "yesterday", "when i left", "today")]
    base = ScopeModel.train(EXAMPLES)
    taught = ScopeModel.train(EXAMPLES, extra={DANGER: danger + [("he never hit anyone, he is just loud", 0)]})
    [before], [after] = base.scores(["he hit me at the weekend"]), taught.scores(["he hit me at the weekend"])
    assert DANGER not in before and after[DANGER] > 0.5
    assert set(after) == set(before) | {DANGER}


def test_stacked_probabilities_equal_each_classifiers_own() -> None:
    """One product with every classifier's weights gives what each binary and multi-class regression's predict_proba gives."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from bot.understanding.scope import StackedHeads

    texts = [text for text, _ in EXAMPLES]
    intents = [intent for _, intent in EXAMPLES]
    matrix = TfidfVectorizer().fit_transform(texts)
    classifiers = {
        "binary": LogisticRegression(max_iter=1000).fit(matrix, [intent == "out_of_scope" for intent in intents]),
        "multi": LogisticRegression(max_iter=1000).fit(matrix, intents),
    }
    stacked = StackedHeads(classifiers).probabilities(matrix)
    for name, classifier in classifiers.items():
        np.testing.assert_allclose(stacked[name], classifier.predict_proba(matrix), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("binary", [False, True], ids=["intents", "one intent against the rest"])
def test_calibrated_svm_is_calibrated_classifier_cvs_model(binary: bool) -> None:
    """calibrated_svm gives exactly the probabilities of CalibratedClassifierCV(LinearSVC, sigmoid, cv=3, ensemble=False)."""
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    from bot.understanding.scope import calibrated_svm

    texts = [text for text, _ in EXAMPLES if not text.startswith("hola")]
    labels = np.array([intent for text, intent in EXAMPLES if not text.startswith("hola")])
    labels = np.where(labels == "out_of_scope", "out_of_scope", "other") if binary else labels
    matrix = TfidfVectorizer().fit_transform(texts)
    expected = CalibratedClassifierCV(LinearSVC(C=1.0, random_state=7), method="sigmoid", cv=3, ensemble=False).fit(matrix, labels)
    model = calibrated_svm(matrix, labels, seed=7)
    unseen = TfidfVectorizer().fit(texts).transform(["what is mediation for", "play some music", "we stopped talking"])
    assert list(model.classes_) == list(expected.classes_)
    np.testing.assert_allclose(model.predict_proba(unseen), expected.predict_proba(unseen), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "options",
    [
        {"ngram_range": (1, 2), "token_pattern": r"(?u)\b\w[\w']*\b", "sublinear_tf": True},
        {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True, "min_df": 2},
        {"norm": None, "use_idf": False},
    ],
)
def test_fast_tfidf_vectorizer_gives_the_same_rows(options: dict) -> None:
    """FastTfidfVectorizer's rows equal TfidfVectorizer's for the same options, unseen words and empty texts included."""
    texts = [text for text, _ in EXAMPLES]
    unseen = ["what is conciliation", "he hit the roof", "", "mediation mediation mediation"]
    expected = TfidfVectorizer(**options).fit(texts).transform(unseen)
    assert abs(FastTfidfVectorizer(**options).fit(texts).transform(unseen) - expected).max() < 1e-12


@pytest.mark.parametrize("rows", [1, 2, 4])
def test_joined_features_give_feature_unions_rows(rows: int) -> None:
    """JoinedFeatures (n-grams and the sentence embedding) give exactly FeatureUnion's rows, for one or several texts."""
    from sklearn.pipeline import FeatureUnion

    from bot.understanding.scope import _features

    texts = [text for text, _ in EXAMPLES]
    unseen = ["we don't speak anymore", "", "which process for my ex", "play the radio"][:rows]
    joined = _features(meaning_layers=6).fit(texts)
    plain = FeatureUnion(joined.transformer_list).fit(texts)
    expected, got = plain.transform(unseen), joined.transform(unseen)
    assert got.shape == expected.shape == (rows, expected.shape[1])
    assert abs(got - expected).max() < 1e-12


# Intent examples that share a meaning but few words with the unseen messages of the next test.
PARAPHRASE_EXAMPLES: List[Tuple[str, str]] = [
    *[(text, "pressure") for text in (
        "i feel pressured to sign", "they are pressuring me to sign the agreement", "i'm being pressured into agreeing",
        "he keeps pressuring me to accept the offer", "i feel pressure to sign quickly", "they pressure me to settle now")],
    *[(text, "communication_breakdown") for text in (
        "communication broke down", "we stopped talking", "our communication has broken down completely",
        "we no longer communicate", "communication between us is broken", "we can't communicate at all")],
    *[(text, "out_of_scope") for text in (
        "what's the weather tomorrow", "play some jazz", "set an alarm for seven", "how do i boil an egg",
        "book a flight to rome", "what time is it")],
]


@pytest.fixture(scope="module")
def paraphrase_models() -> Dict[int, Any]:
    """The intent classifier trained on the paraphrase table with n-grams alone (0) and with the embedding (6)."""
    from bot.understanding.scope import IntentModel

    return {layers: IntentModel.train(PARAPHRASE_EXAMPLES, meaning_layers=layers) for layers in (0, 6)}


@pytest.mark.parametrize(
    "text, intent",
    [
        ("my ex and i haven't spoken a word to each other in months", "communication_breakdown"),
        ("we haven't talked since the summer", "communication_breakdown"),
        ("she won't answer my calls anymore", "communication_breakdown"),
        ("will it rain this weekend", "out_of_scope"),
    ],
)
def test_the_sentence_embedding_reads_wording_the_examples_never_used(paraphrase_models: Dict[int, Any], text: str, intent: str) -> None:
    """Paraphrases sharing almost no words with the examples get clearly more probability for their intent with the embedding than without."""
    def probability(layers: int) -> float:
        ranking = paraphrase_models[layers].rankings([text], limit=len(PARAPHRASE_EXAMPLES))[0]
        return next(entry["confidence"] for entry in ranking if entry["name"] == intent)

    assert probability(6) > probability(0) + 0.05
