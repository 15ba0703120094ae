"""Decides a message's final intent from the classifier's choice and the second opinions.

Pure Python, so every rule is testable without Rasa. The order is the order of what matters most:
danger first (in any language), then another language, then the conversation's own moves, then
whether the message is about a dispute at all, then a request for a recommendation, then whether
a question is one the guide doesn't cover. A grounded answer needs the intent classifier and the
in-domain classifier to agree; when they don't, the message is out of scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Collection, Dict, Mapping, Optional, Sequence, Tuple

from bot.understanding.intents import (
    CONVERSATION,
    DESCRIBE_DISPUTE,
    KNOWLEDGE_QUESTIONS,
    LEGAL_ADVICE,
    NLU_FALLBACK,
    NON_ENGLISH,
    NOT_COVERED,
    OUT_OF_SCOPE,
    RECOMMEND,
    SAFETY,
    SITUATION_TOPICS,
)
from bot.understanding.facts import INTENT_FACTS
from bot.understanding.facts import asks_what_to_do as asks_what_to_do_in
from bot.understanding.safety import DANGER as DANGER_WORDING, HYPERBOLE, danger_wording
from bot.understanding.scope import ASKS_RECOMMENDATION, DANGER, IN_DOMAIN, NOT_COVERED_QUESTION, OTHER_LANGUAGE_DANGER, fact_task_name
from bot.understanding.vocabulary import names_uncovered_process as names_uncovered_process_in


# Knowledge questions about what a process is or does, and messages the classifier can't place:
# when they name a process the guide never mentions, the guide has no answer for them.
_ABOUT_A_PROCESS = (KNOWLEDGE_QUESTIONS - {LEGAL_ADVICE}) | {NLU_FALLBACK, OUT_OF_SCOPE}
# Processes whose names have no everyday sense ("negotiate a discount", "a squash court" do): a
# message naming one is about our field even when it matches no topic ("how do I choose a good
# mediator?"), so it is not covered rather than out of scope.
IN_FIELD_PROCESSES = frozenset({"mediation", "arbitration"})


def _intents_by_fact() -> Dict[str, Tuple[str, ...]]:
    """Each situation fact's task name with the intents that state it."""
    found: Dict[str, Tuple[str, ...]] = {}
    for intent, (fact, value) in sorted(INTENT_FACTS.items()):
        if fact != "safety":
            found[fact_task_name(fact, value)] = found.get(fact_task_name(fact, value), ()) + (intent,)
    return found


# The intents that state each fact value on their own ("we're totally deadlocked" -> impasse; "she wants
# everything, even the dog" -> unreasonable_demands, the same fact).
_FACT_INTENTS = _intents_by_fact()
# A letter or digit of any script.
_WORD_CHARACTER = re.compile(r"[^\W_]")
_SAFETY_RULED_OUT = fact_task_name("safety", False)
_SAFETY_CLAIMED = fact_task_name("safety", True)


@dataclass(frozen=True)
class Thresholds:
    """Probabilities above which a second opinion changes the intent (tuned on tests/nlu/dev/)."""

    in_domain: float = 0.5
    recommendation: float = 0.5
    not_covered: float = 0.5
    # A conversation move ("yes", "stop") is kept when the classifier is at least this sure and
    # the in-domain classifier not quite sure it's something else ("can I talk to my bank" is not ours).
    conversation: float = 0.6
    conversation_in_domain: float = 0.2
    # The classifier's `safety` without a danger signal in the wording is kept only this sure (and
    # with at least `safety_danger` from the learned danger classifier: "kill two birds with one
    # stone" is the intent classifier's idiom, not the danger classifier's), or less sure when the
    # learned danger classifier gives at least `unsure_safety_danger`. Otherwise danger is asked about.
    safety: float = 0.7
    safety_danger: float = 0.0
    unsure_safety_danger: float = 0.5
    # The learned danger classifier (whole message or any sentence) raises safety from this
    # probability, for messages at least `danger_in_domain` likely to be about a person's situation.
    danger: float = 0.5
    danger_in_domain: float = 0.2
    # Below `danger`, the learned danger classifier and the fact extractor (trained on other data) agreeing
    # is safety: the danger classifier at least `agreed_danger` and the fact safety=true at least
    # `agreed_danger_fact` ("she threatened to poison me, I'm not joking", which the intent classifier
    # can't place).
    agreed_danger: float = 1.0
    agreed_danger_fact: float = 1.0
    # When the intent classifier and the recommendation classifier (at least this sure) agree that
    # a message asks which process to use, it is ours at this lower in-domain probability: a bare
    # "how should I proceed?" names no dispute, yet in this chat it can only mean one thing.
    agreed_recommendation: float = 0.7
    agreed_recommendation_in_domain: float = 0.4
    # The classifier's `safety` is overruled when the fact extractor is at least this sure the user
    # ruled danger out ("he's never been violent, he's just stubborn") and no part of the message
    # claims danger: danger words under a negation are what the intent classifier can't read.
    danger_ruled_out: float = 0.9
    # Danger worded as everyday hyperbole ("my mum will kill me if I forget", bot/understanding/safety.py
    # danger_wording) is danger when the message is at least this likely to be about a person's situation,
    # or the learned danger classifier gives it at least `hyperbole_danger`; else the classifiers decide.
    hyperbole_in_domain: float = 0.5
    hyperbole_danger: float = 0.5
    # A message in another language is about danger from this probability of the danger classifier
    # trained on those languages (bot/understanding/danger_model.py).
    other_language_danger: float = 0.5
    # A question the classifier reads as a dispute's background (no background in the training data
    # is a question) is not covered from this probability of the not-covered classifier, else unplaced.
    question_not_covered: float = 0.3
    # A dispute's background, or a message the classifier can't place, that the fact extractor is at least
    # this sure states one situation's fact and no other ("totally deadlocked with my co-parent over the
    # school holidays") is that situation.
    situation_fact: float = 0.8


@dataclass(frozen=True)
class Verdict:
    """The final intent and the rule that chose it ("classifier" when nothing changed it)."""

    intent: Optional[str]
    reason: str


def arbitrate(
    intent: Optional[str],
    confidence: float,
    scores: Mapping[str, float],
    *,
    danger: bool,
    non_english: bool,
    hyperbole: bool = False,
    asks_what_to_do: bool = False,
    asks_a_question: bool = False,
    names_uncovered_process: bool = False,
    named_processes: Collection[str] = (),
    ranking: Optional[Mapping[str, float]] = None,
    has_words: bool = True,
    thresholds: Thresholds = Thresholds(),
) -> Verdict:
    """The intent the assistant acts on for one message.

    `danger` and `asks_what_to_do` come from the wording (bot/understanding/safety.py, facts.py), and
    `hyperbole` when its only danger is worded as everyday hyperbole ("she'll kill me if I'm late"),
    `asks_a_question` from its closing question mark,
    `names_uncovered_process` from the vocabulary of processes the guide never mentions, and
    `named_processes` are the canonical `process` entities of the message, and `ranking` the intent
    classifier's probability of each intent (it picks between intents that state the same fact).
    A message without `has_words` (".", "?!", emoji) has nothing the classifiers can read: what a punctuation
    mark's n-grams happen to weigh (danger, for a full stop) is no answer, so it is out of scope.
    """
    if not has_words:
        return Verdict(OUT_OF_SCOPE, "no words")
    if danger:
        return Verdict(SAFETY, "danger signal")
    in_domain = scores.get(IN_DOMAIN, 1.0)
    if hyperbole and (in_domain >= thresholds.hyperbole_in_domain or scores.get(DANGER, 0.0) >= thresholds.hyperbole_danger):
        return Verdict(SAFETY, "danger signal, about a person's situation")
    learned_danger = scores.get(DANGER, 0.0)
    if in_domain >= thresholds.danger_in_domain and not non_english:
        if learned_danger >= thresholds.danger:
            return Verdict(SAFETY, "learned danger")
        if learned_danger >= thresholds.agreed_danger and scores.get(_SAFETY_CLAIMED, 0.0) >= thresholds.agreed_danger_fact:
            return Verdict(SAFETY, "danger classifiers agree")
    if non_english:
        if scores.get(OTHER_LANGUAGE_DANGER, 0.0) >= thresholds.other_language_danger:
            return Verdict(SAFETY, "learned danger, other language")
        return Verdict(NON_ENGLISH, "language")
    if intent in CONVERSATION and confidence >= thresholds.conversation and in_domain >= thresholds.conversation_in_domain:
        return Verdict(intent, "classifier")
    asks_recommendation = scores.get(ASKS_RECOMMENDATION, 0.0)
    wants_recommendation = asks_recommendation >= thresholds.recommendation
    if names_uncovered_process and intent in _ABOUT_A_PROCESS and not wants_recommendation:
        return Verdict(NOT_COVERED, "names a process the guide doesn't cover")
    in_our_field = bool(IN_FIELD_PROCESSES.intersection(named_processes))
    if intent == OUT_OF_SCOPE:
        return Verdict(NOT_COVERED, "names mediation or arbitration") if in_our_field else Verdict(OUT_OF_SCOPE, "classifier")
    if (intent == RECOMMEND and asks_recommendation >= thresholds.agreed_recommendation
            and in_domain >= thresholds.agreed_recommendation_in_domain):
        return Verdict(RECOMMEND, "classifiers agree")
    if in_domain < thresholds.in_domain:
        return Verdict(NOT_COVERED, "names mediation or arbitration") if in_our_field else Verdict(OUT_OF_SCOPE, "off-domain")
    danger_ruled_out = intent == SAFETY and _rules_danger_out(scores, thresholds)
    if danger_ruled_out:
        intent = DESCRIBE_DISPUTE
    elif intent == SAFETY:
        if confidence >= thresholds.safety and scores.get(DANGER, 0.0) >= thresholds.safety_danger:
            return Verdict(SAFETY, "classifier")
        if scores.get(DANGER, 0.0) >= thresholds.unsure_safety_danger:
            return Verdict(SAFETY, "classifiers lean to danger")
        if not wants_recommendation:
            return Verdict(NLU_FALLBACK, "unsure safety")
        # The recommendation's first question is whether anyone is in danger: asked there.
        return Verdict(RECOMMEND, "unsure safety, asks for a recommendation")
    backstop = asks_what_to_do and intent in SITUATION_TOPICS | {DESCRIBE_DISPUTE, NLU_FALLBACK}
    if intent == RECOMMEND or wants_recommendation or backstop:
        reason = "classifier" if intent == RECOMMEND else ("recommendation request" if wants_recommendation else "asks what to do")
        return Verdict(RECOMMEND, reason)
    if intent == NOT_COVERED:
        return Verdict(NOT_COVERED, "classifier")
    if intent in KNOWLEDGE_QUESTIONS | {NLU_FALLBACK} and scores.get(NOT_COVERED_QUESTION, 0.0) >= thresholds.not_covered:
        return Verdict(NOT_COVERED, "not covered")
    if intent == DESCRIBE_DISPUTE and asks_a_question:
        # "Thanks, that helps" is no reply to a question: say the guide doesn't cover it, or offer topics.
        if scores.get(NOT_COVERED_QUESTION, 0.0) >= thresholds.question_not_covered:
            return Verdict(NOT_COVERED, "a question, not a background")
        return Verdict(NLU_FALLBACK, "a question, not a background")
    if intent in (DESCRIBE_DISPUTE, NLU_FALLBACK) and not asks_a_question:
        stated = [task for task in _FACT_INTENTS if scores.get(task, 0.0) >= thresholds.situation_fact]
        if len(stated) == 1:
            situation = max(_FACT_INTENTS[stated[0]], key=lambda name: (ranking or {}).get(name, 0.0))
            return Verdict(situation, "states a situation's fact")
    return Verdict(intent, "danger ruled out" if danger_ruled_out else "classifier")


def arbitrate_message(
    text: str, intent: Optional[str], confidence: float, scores: Mapping[str, float],
    entities: Sequence[Mapping[str, Any]], language: str, thresholds: Thresholds = Thresholds(),
    ranking: Sequence[Mapping[str, Any]] = (),
) -> Verdict:
    """`arbitrate` for one parsed message: the wording's signals read from `text`, processes from its entities, `ranking` Rasa's intent ranking."""
    wording = danger_wording(text)
    return arbitrate(
        intent,
        confidence,
        scores,
        danger=wording == DANGER_WORDING,
        non_english=language != "en",
        hyperbole=wording == HYPERBOLE,
        asks_what_to_do=asks_what_to_do_in(text),
        asks_a_question=text.rstrip().endswith("?"),
        names_uncovered_process=names_uncovered_process_in(text),
        named_processes=[entity.get("value") for entity in entities if entity.get("entity") == "process"],
        ranking={item.get("name"): float(item.get("confidence") or 0.0) for item in ranking},
        has_words=bool(_WORD_CHARACTER.search(text)),
        thresholds=thresholds,
    )


def _rules_danger_out(scores: Mapping[str, float], thresholds: Thresholds) -> bool:
    """Whether the message says no one is in danger, with nothing in it claiming otherwise."""
    return (
        scores.get(_SAFETY_RULED_OUT, 0.0) >= thresholds.danger_ruled_out
        and scores.get(_SAFETY_CLAIMED, 0.0) < 1 - thresholds.danger_ruled_out
        and scores.get(DANGER, 0.0) < thresholds.unsure_safety_danger
    )
