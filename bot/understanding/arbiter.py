"""Decides a message's final intent from the classifier's choice and the second opinions.

Pure Python, so every rule is testable without Rasa. The order is the order of what matters most:
danger first (in any language), then another language, then the conversation's own moves, then
whether the message is about a dispute at all, then a request for a recommendation, then whether
a question is one the guide doesn't cover. A grounded answer needs the intent classifier and the
in-domain classifier to agree; when they don't, the message is out of scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from bot.understanding.intents import (
    CONVERSATION,
    DESCRIBE_DISPUTE,
    KNOWLEDGE_QUESTIONS,
    NLU_FALLBACK,
    NON_ENGLISH,
    NOT_COVERED,
    OUT_OF_SCOPE,
    RECOMMEND,
    SAFETY,
    SITUATION_TOPICS,
)
from bot.understanding.scope import ASKS_RECOMMENDATION, DANGER, IN_DOMAIN, NOT_COVERED_QUESTION


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
    # The classifier's `safety` without a danger signal in the wording is kept only this sure, or
    # less sure when the learned danger classifier gives at least `unsure_safety_danger` too.
    safety: float = 0.7
    unsure_safety_danger: float = 0.5
    # The learned danger classifier (whole message or any sentence) raises safety from this
    # probability, for messages at least `danger_in_domain` likely to be about a person's situation.
    danger: float = 0.5
    danger_in_domain: float = 0.2
    # When the intent classifier and the recommendation classifier (at least this sure) agree that
    # a message asks which process to use, it is ours at this lower in-domain probability: a bare
    # "how should I proceed?" names no dispute, yet in this chat it can only mean one thing.
    agreed_recommendation: float = 0.7
    agreed_recommendation_in_domain: float = 0.4


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
    asks_what_to_do: bool = False,
    thresholds: Thresholds = Thresholds(),
) -> Verdict:
    """The intent the assistant acts on for one message."""
    if danger:
        return Verdict(SAFETY, "danger signal")
    in_domain = scores.get(IN_DOMAIN, 1.0)
    if scores.get(DANGER, 0.0) >= thresholds.danger and in_domain >= thresholds.danger_in_domain and not non_english:
        return Verdict(SAFETY, "learned danger")
    if non_english:
        return Verdict(NON_ENGLISH, "language")
    if intent in CONVERSATION and confidence >= thresholds.conversation and in_domain >= thresholds.conversation_in_domain:
        return Verdict(intent, "classifier")
    if intent == OUT_OF_SCOPE:
        return Verdict(OUT_OF_SCOPE, "classifier")
    asks_recommendation = scores.get(ASKS_RECOMMENDATION, 0.0)
    if (intent == RECOMMEND and asks_recommendation >= thresholds.agreed_recommendation
            and in_domain >= thresholds.agreed_recommendation_in_domain):
        return Verdict(RECOMMEND, "classifiers agree")
    if in_domain < thresholds.in_domain:
        return Verdict(OUT_OF_SCOPE, "off-domain")
    if intent == SAFETY:
        if confidence >= thresholds.safety:
            return Verdict(SAFETY, "classifier")
        if scores.get(DANGER, 0.0) >= thresholds.unsure_safety_danger:
            return Verdict(SAFETY, "classifiers lean to danger")
        return Verdict(NLU_FALLBACK, "unsure safety")
    wants_recommendation = asks_recommendation >= thresholds.recommendation
    backstop = asks_what_to_do and intent in SITUATION_TOPICS | {DESCRIBE_DISPUTE, NLU_FALLBACK}
    if intent == RECOMMEND or wants_recommendation or backstop:
        reason = "classifier" if intent == RECOMMEND else ("recommendation request" if wants_recommendation else "asks what to do")
        return Verdict(RECOMMEND, reason)
    if intent == NOT_COVERED:
        return Verdict(NOT_COVERED, "classifier")
    if intent in KNOWLEDGE_QUESTIONS | {NLU_FALLBACK} and scores.get(NOT_COVERED_QUESTION, 0.0) >= thresholds.not_covered:
        return Verdict(NOT_COVERED, "not covered")
    return Verdict(intent, "classifier")
