"""Facts about the user's situation that a message makes evident, from its intent and wording."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, Mapping, Optional, Pattern, Sequence, Tuple

from bot.recommend import UNSURE, FactValue
from bot.understanding.safety import is_safety_concern

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

_THEY = r"(?:he|she|they|him|her|them|my \w+(?:[- ]\w+)?|the other (?:side|party))"
_NOT = r"(?:not|n't|never|no longer|won't|wont|can't|cant|don't|dont|doesn't|doesnt|refuses? to|stopped)"

# Wording cues for facts stated inside a longer message ("we stopped talking and he wants me
# to sign by Friday, what should I do?"), checked in order; the first match per fact wins.
CUES: Sequence[Tuple[str, bool, Pattern[str]]] = [
    ("communication", False, re.compile(
        r"\b(?:stopped (?:talking|speaking|communicating)|(?:not|no longer|aren't|arent|isn't) (?:talking|speaking|on speaking terms)"
        r"|(?:won't|wont|doesn't|doesnt|don't|dont|refuses? to) (?:talk|speak|answer|reply|respond|return my)"
        r"|can(?:'t|not|t) (?:talk|communicate|speak)|communication (?:has )?(?:broken|broke|is broken|broke down|fell apart)"
        r"|ignor(?:es|ing) (?:me|my)|no contact|radio silence|every (?:conversation|call|talk) (?:ends|turns))")),
    ("communication", True, re.compile(
        r"\b(?:we (?:still )?(?:get along|talk fine|talk ok|can (?:still )?talk|are on speaking terms|communicate well)"
        r"|(?:still|are) on (?:good|speaking) terms|communication is (?:fine|ok|okay|good))")),
    ("pressure", True, re.compile(
        r"\b(?:pressur\w*|rush(?:ing|ed)? me|push(?:ing|es|ed)? me to (?:sign|agree|accept)|(?:wants|want|needs) me to sign"
        r"|sign (?:it |this |the \w+ )?(?:by|before|today|tonight|tomorrow|now)|deadline|ultimatum|just (?:sign|give in) to get it over)")),
    ("impasse", True, re.compile(
        r"\b(?:stuck|deadlock\w*|stalemate|impasse|(?:round|around) in circles|getting nowhere|can(?:'t|not|t) agree"
        r"|unreasonable|wants? (?:absolutely )?everything|ridiculous demands|no progress)")),
    ("other_side_willing", False, re.compile(
        rf"\b{_THEY} (?:{_NOT}) (?:even )?(?:want to |willing to |agree to |consider )?(?:negotiat\w*|mediat\w*|engag\w*|discuss\w*|settle|talk it (?:out|through)|compromise)")),
    ("other_side_willing", True, re.compile(
        rf"\b{_THEY}(?:'s|'re| is| are| seems?)? (?:open|willing|happy|keen) to (?:talk|negotiat\w*|mediat\w*|settle|work (?:it|this|things) out|try)")),
    ("wants_decision", True, re.compile(
        r"\b(?:someone (?:else |neutral |independent )?(?:to )?(?:decide|make the (?:call|decision))|(?:a|an) (?:judge|arbitrator|third party) (?:to )?decide"
        r"|want (?:a|an) (?:binding )?(?:ruling|decision) from)")),
    ("face_to_face", False, re.compile(
        r"\b(?:(?:don't|dont|do not) want to (?:see|meet|face|be in the same room)|can(?:'t|not|t) (?:face|be in the same room)"
        r"|without (?:meeting|seeing) (?:him|her|them)|not in the same room)")),
    ("face_to_face", True, re.compile(
        r"\b(?:(?:happy|fine|ok|okay|willing) to (?:meet|sit down)|(?:don't|dont) mind (?:meeting|seeing|being in the same room))")),
]


def facts_in_text(text: str) -> Dict[str, bool]:
    """Facts the wording of a message states, including a safety concern."""
    lowered = " ".join((text or "").lower().replace("’", "'").split())
    found: Dict[str, bool] = {}
    if is_safety_concern(lowered):
        found["safety"] = True
    for fact, value, pattern in CUES:
        if fact not in found and pattern.search(lowered):
            found[fact] = value
    return found


# A learned fact (bot/understanding/scope.py) counts only this sure: a wrong fact changes the
# process, so below it the recommendation form asks instead (tuned on tests/nlu/dev/dev_facts.yml).
LEARNED_FACT_THRESHOLD = 0.8


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

    The wording's cues come first, then what the fact classifiers learned (`scores`, the message's
    `scope`), then the intent's own fact, then the answer to the question asked.
    """
    found: Dict[str, FactValue] = dict(facts_in_text(text))
    for fact, value in learned_facts(scores).items():
        found.setdefault(fact, value)
    if intent in INTENT_FACTS:
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
