"""Facts about the user's situation that a message makes evident: learned, from the safety wording, or answered."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple

from bot.recommend import UNSURE, FactValue
from bot.understanding.safety import DANGER, danger_wording

# Intents that state a fact on their own.
INTENT_FACTS: Mapping[str, Tuple[str, bool]] = {
    "safety": ("safety", True),
    "communication_breakdown": ("communication", False),
    "can_still_talk": ("communication", True),
    "pressure_to_sign": ("pressure", True),
    "impasse": ("impasse", True),
    "unreasonable_demands": ("impasse", True),
    "other_side_unwilling": ("other_side_willing", False),
    "other_side_willing": ("other_side_willing", True),
    "wants_decision": ("wants_decision", True),
    "avoid_face_to_face": ("face_to_face", False),
    "happy_to_meet": ("face_to_face", True),
}

# Answers to a yes/no question about the fact being asked.
ANSWER_INTENTS: Mapping[str, FactValue] = {"affirm": True, "deny": False, "unsure": UNSURE}

# A learned fact (bot/understanding/fact_model.py) counts only this sure: a wrong fact changes the
# process, so below it the recommendation form asks instead (tuned on tests/nlu/dev/dev_facts.yml:
# 0.5 lost precision, 0.7 and 0.8 lost recall and gained nothing).
LEARNED_FACT_THRESHOLD = 0.6


def learned_facts(scores: Optional[Mapping[str, float]], threshold: float = LEARNED_FACT_THRESHOLD) -> Dict[str, bool]:
    """Facts the message's fact classifiers are sure of; a fact both values claim is left out."""
    found: Dict[str, bool] = {}
    conflicting = set()
    for name, probability in (scores or {}).items():
        if not name.startswith("fact:") or probability < threshold:
            continue
        fact, _, value = name[len("fact:"):].partition("=")
        if fact in found:
            conflicting.add(fact)
        found[fact] = value == "true"
    return {fact: value for fact, value in found.items() if fact not in conflicting}


def facts_in_message(
    intent: Optional[str], text: str, requested: Optional[str] = None, scores: Optional[Mapping[str, float]] = None
) -> Dict[str, FactValue]:
    """Facts evident in one user message; `requested` is the fact the bot just asked about.

    What the fact extractor is sure of (`scores`, the message's `scope`), and danger whenever the
    safety wording or the final intent says so (a false alarm costs a question; a missed danger
    costs more; danger worded as everyday hyperbole counts only in the final intent). Whether someone
    is in danger is the arbiter's call, with its own tuned detectors,
    so the extractor may only say the user ruled it out ("he's never been violent"). A message
    with no scores (a button's payload) states its intent's own fact. A yes, no or "not sure"
    answers the fact that was asked.
    """
    learned = learned_facts(scores)
    found: Dict[str, FactValue] = {fact: value for fact, value in learned.items() if (fact, value) != ("safety", True)}
    if intent == "safety" or danger_wording(text) == DANGER:
        found["safety"] = True
    if not scores and intent in INTENT_FACTS:
        fact, value = INTENT_FACTS[intent]
        found[fact] = value
    if requested and intent in ANSWER_INTENTS:
        found[requested] = ANSWER_INTENTS[intent]
    return found


def merge_facts(known: Mapping[str, FactValue], messages: Iterable[Sequence[Any]]) -> Dict[str, FactValue]:
    """`known` updated with what each (intent, text[, scores]) message states, later messages winning."""
    merged: Dict[str, FactValue] = dict(known)
    for intent, text, *scores in messages:
        merged.update(facts_in_message(intent, text, scores=scores[0] if scores else None))
    return merged


_ASKS_WHAT_TO_DO = re.compile(
    r"\b(?:what (?:should|can|do|could) (?:i|we)|what are (?:my|our) options|what would you (?:suggest|recommend|advise)"
    r"|which (?:process|option|route)|what do you (?:suggest|recommend)|should (?:i|we) (?:try|go|use|do|start|consider)"
    r"|can (?:i|we) (?:try|do|use) (?:mediation|negotiation|arbitration)|is (?:mediation|negotiation|arbitration) (?:an option|right|ok))"
)


def asks_what_to_do(text: str) -> bool:
    """Whether a message asks for a course of action ("what should I do?", "should we try mediation?")."""
    return bool(_ASKS_WHAT_TO_DO.search(" ".join((text or "").lower().replace("’", "'").split())))
