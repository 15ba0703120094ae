"""The arbiter's order of decisions: danger, language, conversation moves, off-domain, recommendation, not covered."""

from __future__ import annotations

from typing import Dict, Optional

import pytest

from bot.understanding.arbiter import Thresholds, arbitrate, arbitrate_message

IN = {"in_domain": 0.95, "asks_recommendation": 0.05, "not_covered": 0.05}
OFF = {"in_domain": 0.10, "asks_recommendation": 0.05, "not_covered": 0.05}


def scores(**changes: float) -> Dict[str, float]:
    """In-domain scores with some probabilities changed."""
    return {**IN, **changes}


@pytest.mark.parametrize(
    "intent, confidence, given, danger, non_english, asks, expected, reason",
    [
        # danger wins over everything, in any language and domain
        ("what_is_mediation", 0.9, IN, True, False, False, "safety", "danger signal"),
        ("out_of_scope", 0.9, OFF, True, True, False, "safety", "danger signal"),
        # the learned danger classifier, for messages about a person's situation
        ("what_is_mediation", 0.9, scores(danger=0.8), False, False, False, "safety", "learned danger"),
        ("out_of_scope", 0.9, {**OFF, "in_domain": 0.05, "danger": 0.8}, False, False, False, "out_of_scope", "classifier"),
        ("what_is_mediation", 0.9, scores(danger=0.3), False, False, False, "what_is_mediation", "classifier"),
        # then the language, unless the danger classifier of other languages finds danger
        ("greet", 0.9, IN, False, True, False, "non_english", "language"),
        ("greet", 0.9, scores(**{"danger:other_language": 0.8}), False, True, False, "safety", "learned danger, other language"),
        ("greet", 0.9, scores(**{"danger:other_language": 0.3}), False, True, False, "non_english", "language"),
        # ... which reads only messages in other languages
        ("what_is_mediation", 0.9, scores(**{"danger:other_language": 0.9}), False, False, False, "what_is_mediation", "classifier"),
        # the conversation's own moves are kept when the classifier is sure, unless clearly off-domain
        ("affirm", 0.9, {**OFF, "in_domain": 0.3}, False, False, False, "affirm", "classifier"),
        ("request_consultation", 0.9, {**OFF, "in_domain": 0.05}, False, False, False, "out_of_scope", "off-domain"),
        ("affirm", 0.4, OFF, False, False, False, "out_of_scope", "off-domain"),
        # off-domain: a grounded answer needs both classifiers
        ("what_is_mediation", 0.9, OFF, False, False, False, "out_of_scope", "off-domain"),
        ("safety", 0.95, OFF, False, False, False, "out_of_scope", "off-domain"),
        ("recommend_process", 0.9, OFF, False, False, False, "out_of_scope", "off-domain"),
        # ... unless both classifiers say it asks which process to use ("how should I proceed?")
        ("recommend_process", 0.8, {**OFF, "in_domain": 0.45, "asks_recommendation": 0.9}, False, False, False,
         "recommend_process", "classifiers agree"),
        ("recommend_process", 0.8, {**OFF, "in_domain": 0.45, "asks_recommendation": 0.3}, False, False, False,
         "out_of_scope", "off-domain"),
        ("recommend_process", 0.8, {**OFF, "in_domain": 0.2, "asks_recommendation": 0.9}, False, False, False,
         "out_of_scope", "off-domain"),
        ("nlu_fallback", 0.3, OFF, False, False, False, "out_of_scope", "off-domain"),
        ("out_of_scope", 0.9, IN, False, False, False, "out_of_scope", "classifier"),
        # safety from the classifier alone, without a danger signal in the wording
        ("safety", 0.9, IN, False, False, False, "safety", "classifier"),
        ("safety", 0.5, IN, False, False, False, "nlu_fallback", "unsure safety"),
        # ... which, when the message also asks which process to use, starts the recommendation (its first question is about danger)
        ("safety", 0.5, scores(asks_recommendation=0.9), False, False, False, "recommend_process",
         "unsure safety, asks for a recommendation"),
        # ... and gives way when the fact extractor is sure the user ruled danger out ("he's never been violent")
        ("safety", 0.9, scores(**{"fact:safety=false": 0.95}), False, False, False, "describe_dispute", "danger ruled out"),
        ("safety", 0.9, scores(**{"fact:safety=false": 0.95, "asks_recommendation": 0.9}), False, False, False,
         "recommend_process", "recommendation request"),
        # ... but not when a part of the message claims danger, or the danger classifier leans to it
        ("safety", 0.9, scores(**{"fact:safety=false": 0.95, "fact:safety=true": 0.5}), False, False, False, "safety", "classifier"),
        ("safety", 0.9, scores(**{"fact:safety=false": 0.8}), False, False, False, "safety", "classifier"),
        # recommendation requests, also inside a situation
        ("communication_breakdown", 0.8, scores(asks_recommendation=0.9), False, False, False, "recommend_process", "recommendation request"),
        ("communication_breakdown", 0.8, IN, False, False, True, "recommend_process", "asks what to do"),
        ("what_is_mediation", 0.8, IN, False, False, True, "what_is_mediation", "classifier"),
        ("recommend_process", 0.8, IN, False, False, False, "recommend_process", "classifier"),
        # not covered
        ("what_is_mediation", 0.8, scores(not_covered=0.9), False, False, False, "not_covered", "not covered"),
        ("nlu_fallback", 0.3, scores(not_covered=0.9), False, False, False, "not_covered", "not covered"),
        ("communication_breakdown", 0.8, scores(not_covered=0.9), False, False, False, "communication_breakdown", "classifier"),
        ("not_covered", 0.8, IN, False, False, False, "not_covered", "classifier"),
        # a dispute's background or an unplaced message that states one situation's fact is that situation
        ("describe_dispute", 0.8, scores(**{"fact:impasse=true": 0.9}), False, False, False, "impasse", "states a situation's fact"),
        ("nlu_fallback", 0.3, scores(**{"fact:wants_decision=true": 0.9}), False, False, False, "wants_decision", "states a situation's fact"),
        ("describe_dispute", 0.8, scores(**{"fact:face_to_face=false": 0.9}), False, False, False, "avoid_face_to_face", "states a situation's fact"),
        # ... but not with two facts, an unsure one, or a fact of danger
        ("describe_dispute", 0.8, scores(**{"fact:impasse=true": 0.9, "fact:pressure=true": 0.9}), False, False, False, "describe_dispute", "classifier"),
        ("describe_dispute", 0.8, scores(**{"fact:impasse=true": 0.5}), False, False, False, "describe_dispute", "classifier"),
        ("describe_dispute", 0.8, scores(**{"fact:safety=false": 0.95}), False, False, False, "describe_dispute", "classifier"),
        # otherwise the classifier's choice stands
        ("what_is_mediation", 0.8, IN, False, False, False, "what_is_mediation", "classifier"),
        ("nlu_fallback", 0.3, IN, False, False, False, "nlu_fallback", "classifier"),
    ],
)
def test_arbitrate(
    intent: str, confidence: float, given: Dict[str, float], danger: bool, non_english: bool, asks: bool,
    expected: Optional[str], reason: str,
) -> None:
    """Each rule changes the intent only in its own case, in the documented order."""
    verdict = arbitrate(intent, confidence, given, danger=danger, non_english=non_english, asks_what_to_do=asks)
    assert (verdict.intent, verdict.reason) == (expected, reason)


@pytest.mark.parametrize(
    "intent, given, expected, reason",
    [
        # danger worded as hyperbole ("she'll kill me if I'm late") is danger in a message about a person's situation
        ("describe_dispute", IN, "safety", "danger signal, about a person's situation"),
        # ... or when the learned danger classifier agrees, even off-domain
        ("out_of_scope", {**OFF, "danger": 0.8}, "safety", "danger signal, about a person's situation"),
        # ... and otherwise the classifiers decide ("my mum will kill me if I forget her birthday")
        ("out_of_scope", {**OFF, "danger": 0.1}, "out_of_scope", "classifier"),
        ("safety", {**OFF, "danger": 0.1}, "out_of_scope", "off-domain"),
    ],
)
def test_hyperbole_is_danger_only_about_a_persons_situation(intent: str, given: Dict[str, float], expected: str, reason: str) -> None:
    """A hyperbole-only danger signal raises safety in domain or with the danger classifier; else it is not a signal."""
    verdict = arbitrate(intent, 0.9, given, danger=False, non_english=False, hyperbole=True)
    assert (verdict.intent, verdict.reason) == (expected, reason)


@pytest.mark.parametrize(
    "intent, given, expected, reason",
    [
        # a question about a process the guide never mentions has no answer there, however it was classified
        ("what_is_mediation", IN, "not_covered", "names a process the guide doesn't cover"),
        ("mediation_vs_negotiation", IN, "not_covered", "names a process the guide doesn't cover"),
        ("out_of_scope", OFF, "not_covered", "names a process the guide doesn't cover"),
        ("nlu_fallback", IN, "not_covered", "names a process the guide doesn't cover"),
        # a request for a recommendation, a situation, advice and the conversation's moves keep their intent
        ("what_is_mediation", scores(asks_recommendation=0.9), "recommend_process", "recommendation request"),
        ("other_side_unwilling", IN, "other_side_unwilling", "classifier"),
        ("legal_advice_boundary", IN, "legal_advice_boundary", "classifier"),
        ("thanks", IN, "thanks", "classifier"),
    ],
)
def test_a_process_the_guide_does_not_cover(intent: str, given: Dict[str, float], expected: str, reason: str) -> None:
    """Messages naming an uncovered process ("what is conciliation?") get not_covered instead of a topic's answer."""
    verdict = arbitrate(intent, 0.8, given, danger=False, non_english=False, names_uncovered_process=True)
    assert (verdict.intent, verdict.reason) == (expected, reason)


@pytest.mark.parametrize(
    "intent, given, processes, expected, reason",
    [
        # naming mediation or arbitration puts a message in our field: not covered rather than out of scope
        ("out_of_scope", IN, ["mediation"], "not_covered", "names mediation or arbitration"),
        ("mediator_role", OFF, ["mediation"], "not_covered", "names mediation or arbitration"),
        ("out_of_scope", OFF, ["arbitration", "court"], "not_covered", "names mediation or arbitration"),
        # negotiation and court have everyday senses ("negotiate a discount", "book a squash court")
        ("out_of_scope", IN, ["negotiation"], "out_of_scope", "classifier"),
        ("out_of_scope", OFF, ["court"], "out_of_scope", "classifier"),
        ("what_is_mediation", OFF, [], "out_of_scope", "off-domain"),
        # in domain, the processes named change nothing
        ("mediator_role", IN, ["mediation"], "mediator_role", "classifier"),
    ],
)
def test_naming_mediation_or_arbitration_is_never_out_of_scope(
    intent: str, given: Dict[str, float], processes: list, expected: str, reason: str,
) -> None:
    """A message the classifiers put out of scope but that names mediation or arbitration gets not_covered."""
    verdict = arbitrate(intent, 0.8, given, danger=False, non_english=False, named_processes=processes)
    assert (verdict.intent, verdict.reason) == (expected, reason)


def test_missing_scores_change_nothing() -> None:
    """A model trained without the scope classifiers leaves the classifier's intent as it is."""
    assert arbitrate("what_is_mediation", 0.8, {}, danger=False, non_english=False).intent == "what_is_mediation"


@pytest.mark.parametrize("danger, expected", [(0.6, "safety"), (0.3, "nlu_fallback")])
def test_unsure_safety_counts_when_the_danger_classifier_leans_to_danger(danger: float, expected: str) -> None:
    """The classifier's unsure `safety` becomes safety when the learned danger classifier leans the same way, else a fallback."""
    thresholds = Thresholds(danger=0.85, unsure_safety_danger=0.5)
    verdict = arbitrate("safety", 0.6, scores(danger=danger), danger=False, non_english=False, thresholds=thresholds)
    assert verdict.intent == expected


@pytest.mark.parametrize("danger, expected", [(0.4, "safety"), (0.1, "nlu_fallback")])
def test_sure_safety_needs_some_support_from_the_danger_classifier(danger: float, expected: str) -> None:
    """The classifier's sure `safety` stands only with `safety_danger` from the danger classifier; otherwise danger is asked about."""
    thresholds = Thresholds(danger=0.9, safety=0.7, safety_danger=0.3, unsure_safety_danger=0.5)
    verdict = arbitrate("safety", 0.95, scores(danger=danger), danger=False, non_english=False, thresholds=thresholds)
    assert verdict.intent == expected


@pytest.mark.parametrize(
    "danger, fact, non_english, expected",
    [
        (0.6, 0.95, False, "safety"),
        # each alone below its threshold is not enough
        (0.6, 0.85, False, "nlu_fallback"),
        (0.4, 0.95, False, "nlu_fallback"),
        # the English classifiers don't read another language
        (0.6, 0.95, True, "non_english"),
    ],
)
def test_danger_classifier_and_fact_extractor_agreeing_is_safety(danger: float, fact: float, non_english: bool, expected: str) -> None:
    """Below the learned-danger threshold, the danger classifier and the fact extractor's safety=true together make safety."""
    thresholds = Thresholds(danger=0.9, agreed_danger=0.5, agreed_danger_fact=0.9)
    given = scores(danger=danger, **{"fact:safety=true": fact})
    verdict = arbitrate("nlu_fallback", 0.3, given, danger=False, non_english=non_english, thresholds=thresholds)
    assert verdict.intent == expected
    if expected == "safety":
        assert verdict.reason == "danger classifiers agree"


def test_danger_is_not_ruled_out_while_the_danger_classifier_leans_to_it() -> None:
    """Below the learned-danger threshold, a danger score of at least `unsure_safety_danger` keeps the classifier's safety."""
    thresholds = Thresholds(danger=0.85, unsure_safety_danger=0.5)
    ruled_out = scores(**{"fact:safety=false": 0.95})
    assert arbitrate("safety", 0.9, {**ruled_out, "danger": 0.3}, danger=False, non_english=False, thresholds=thresholds).intent == "describe_dispute"
    verdict = arbitrate("safety", 0.9, {**ruled_out, "danger": 0.6}, danger=False, non_english=False, thresholds=thresholds)
    assert (verdict.intent, verdict.reason) == ("safety", "classifier")


def test_thresholds_are_configurable() -> None:
    """A stricter in-domain threshold turns a borderline message out of scope."""
    borderline = scores(in_domain=0.6)
    assert arbitrate("what_is_mediation", 0.8, borderline, danger=False, non_english=False).intent == "what_is_mediation"
    strict = Thresholds(in_domain=0.7)
    assert arbitrate("what_is_mediation", 0.8, borderline, danger=False, non_english=False, thresholds=strict).intent == "out_of_scope"


@pytest.mark.parametrize(
    "intent, question, given, expected, reason",
    [
        # a question read as a dispute's background gets no "thanks, that helps"
        ("describe_dispute", True, scores(not_covered=0.6), "not_covered", "a question, not a background"),
        ("describe_dispute", True, scores(not_covered=0.1), "nlu_fallback", "a question, not a background"),
        # a background without a question mark stays a background
        ("describe_dispute", False, scores(not_covered=0.6), "describe_dispute", "classifier"),
        # a situation topic asked as a question keeps its topic
        ("impasse", True, scores(not_covered=0.6), "impasse", "classifier"),
    ],
)
def test_a_question_is_not_a_background(intent: str, question: bool, given: Dict[str, float], expected: str, reason: str) -> None:
    """describe_dispute for a message ending in a question mark becomes not covered or a did-you-mean."""
    verdict = arbitrate(intent, 0.8, given, danger=False, non_english=False, asks_a_question=question)
    assert (verdict.intent, verdict.reason) == (expected, reason)


@pytest.mark.parametrize(
    "ranking, expected",
    [({"unreasonable_demands": 0.3, "impasse": 0.1}, "unreasonable_demands"), ({"unreasonable_demands": 0.1, "impasse": 0.3}, "impasse"), ({}, "impasse")],
)
def test_a_fact_stated_by_two_intents_takes_the_one_ranked_higher(ranking: Dict[str, float], expected: str) -> None:
    """'She wants everything, even the dog' states impasse as unreasonable demands do: the intent ranking chooses."""
    verdict = arbitrate("describe_dispute", 0.6, scores(**{"fact:impasse=true": 0.9}), danger=False, non_english=False, ranking=ranking)
    assert (verdict.intent, verdict.reason) == (expected, "states a situation's fact")


@pytest.mark.parametrize(
    "text, intent, expected, reason",
    [
        # a full stop's n-grams weigh towards danger in the classifiers: no words, nothing to read
        (".", "safety", "out_of_scope", "no words"),
        ("?!", "affirm", "out_of_scope", "no words"),
        ("👍", "out_of_scope", "out_of_scope", "no words"),
        # one letter or digit of any script is a word to read
        ("ok", "affirm", "affirm", "classifier"),
        ("2", "affirm", "affirm", "classifier"),
    ],
)
def test_a_message_without_words_is_out_of_scope(text: str, intent: str, expected: str, reason: str) -> None:
    """Punctuation or emoji alone gets no answer, alarm or question, whatever the classifiers make of it."""
    verdict = arbitrate_message(text, intent, 0.9, scores(danger=0.45), [], "en")
    assert (verdict.intent, verdict.reason) == (expected, reason)
