"""Recommends a dispute-resolution process from what is known about the user's situation.

Pure Python: facts in, recommendation with reasons out. Each fact is True, False, None (not
known yet) or UNSURE (the user was asked and didn't know; a stated default is used).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Tuple, Union

UNSURE = "unsure"
FactValue = Union[bool, str, None]

# Policy order: questions are asked in this order, and only while the outcome is open, except
# safety, which is always asked first when unknown: it changes what the advice must say even
# when the process is already clear.
FACTS: Tuple[str, ...] = (
    "safety",
    "other_side_willing",
    "wants_decision",
    "communication",
    "pressure",
    "impasse",
    "face_to_face",
)

# What an "I'm not sure" answer is taken to mean: the reading that protects the user more
# (safety first; a mediator's help rather than going it alone; the decision kept in their hands).
UNSURE_DEFAULTS: Mapping[str, bool] = {
    "safety": True,
    "other_side_willing": True,
    "wants_decision": False,
    "communication": False,
    "pressure": False,
    "impasse": False,
    "face_to_face": False,
}

# Facts whose value (True/False) points to mediation.
MEDIATION_SIGNALS: Mapping[str, bool] = {
    "communication": False,
    "pressure": True,
    "impasse": True,
    "face_to_face": False,
}

PROCESSES = ("negotiation", "mediation", "arbitration", "court")


@dataclass(frozen=True)
class Reason:
    """One reason: the fact and its value, and the knowledge-base topic and paragraph behind it."""

    id: str
    fact: str
    value: bool
    topic: str
    paragraph: str


@dataclass(frozen=True)
class Alternative:
    """Another process, and the reason it fits less."""

    process: str
    id: str
    topic: str
    paragraph: str


@dataclass(frozen=True)
class Recommendation:
    """The recommended process with its reasons, alternatives and any defaults assumed."""

    process: str
    reasons: Tuple[Reason, ...]
    alternatives: Tuple[Alternative, ...]
    assumed: Tuple[str, ...] = field(default=())
    format_id: str = ""


# Reason catalogue: (fact, value) -> (reason id, topic, paragraph).
REASONS: Mapping[Tuple[str, bool], Tuple[str, str, str]] = {
    ("safety", True): ("safety_first", "arbitration_and_court", "P4"),
    ("other_side_willing", False): ("other_side_unwilling", "other_side_unwilling", "P2"),
    ("wants_decision", True): ("wants_decision", "arbitration_and_court", "P4"),
    ("communication", False): ("communication_broken", "communication_breakdown", "P2"),
    ("pressure", True): ("under_pressure", "pressure_to_sign", "P5"),
    ("impasse", True): ("at_impasse", "impasse", "P5"),
    ("face_to_face", False): ("avoid_meeting", "avoid_face_to_face", "P3"),
    ("other_side_willing", True): ("both_willing", "voluntary_nature", "P4"),
    ("communication", True): ("can_talk", "what_is_negotiation", "P2"),
    ("face_to_face", True): ("happy_to_meet", "meeting_formats", "P3"),
    ("wants_decision", False): ("keep_decision", "mediator_decision_power", "P4"),
}

# Alternatives: (recommended process, alternative) -> (reason id, topic, paragraph).
ALTERNATIVES: Mapping[Tuple[str, str], Tuple[str, str, str]] = {
    ("court", "mediation"): ("alt_mediation_needs_both", "voluntary_nature", "P4"),
    ("court", "negotiation"): ("alt_negotiation_needs_both", "what_is_negotiation", "P2"),
    ("court", "arbitration"): ("alt_arbitration_also_decides", "arbitration_and_court", "P4"),
    ("arbitration", "mediation"): ("alt_mediation_keeps_decision", "mediator_decision_power", "P4"),
    ("arbitration", "negotiation"): ("alt_negotiation_keeps_decision", "binding_agreements", "P4"),
    ("arbitration", "court"): ("alt_court_judge_decides", "arbitration_and_court", "P4"),
    ("mediation", "negotiation"): ("alt_negotiation_direct", "meeting_formats", "P3"),
    ("mediation", "arbitration"): ("alt_arbitration_if_decision", "arbitration_and_court", "P4"),
    ("mediation", "court"): ("alt_court_if_decision", "arbitration_and_court", "P4"),
    ("negotiation", "mediation"): ("alt_mediation_if_stuck", "communication_breakdown", "P2"),
    ("negotiation", "arbitration"): ("alt_arbitration_if_decision", "arbitration_and_court", "P4"),
    ("negotiation", "court"): ("alt_court_if_decision", "arbitration_and_court", "P4"),
}


def effective(facts: Mapping[str, FactValue]) -> Dict[str, Optional[bool]]:
    """Facts with "unsure" answers replaced by their defaults; unknown facts stay None."""
    resolved: Dict[str, Optional[bool]] = {}
    for fact in FACTS:
        value = facts.get(fact)
        resolved[fact] = UNSURE_DEFAULTS[fact] if value == UNSURE else (value if isinstance(value, bool) else None)
    return resolved


def next_question(facts: Mapping[str, FactValue]) -> Optional[str]:
    """The next fact to ask about, in policy order, or None once the outcome is decided."""
    known = effective(facts)
    for fact in ("safety", "other_side_willing", "wants_decision"):
        if known[fact] is None:
            return fact
        if decided_by(fact, known[fact]):
            return None
    if any(known[fact] == signal for fact, signal in MEDIATION_SIGNALS.items()):
        return None
    return next((fact for fact in MEDIATION_SIGNALS if known[fact] is None), None)


def decided_by(fact: str, value: Optional[bool]) -> bool:
    """Whether this early fact alone settles the outcome."""
    return (fact, value) in {("safety", True), ("other_side_willing", False), ("wants_decision", True)}


def choose_process(facts: Mapping[str, FactValue]) -> str:
    """The process the policy picks; facts not known yet count as not pointing anywhere."""
    known = effective(facts)
    if known["safety"] is True:
        return "court"
    if known["other_side_willing"] is False:
        return "court"
    if known["wants_decision"] is True:
        return "arbitration"
    if any(known[fact] == signal for fact, signal in MEDIATION_SIGNALS.items()):
        return "mediation"
    return "negotiation"


def _reason(fact: str, value: bool) -> Reason:
    reason_id, topic, paragraph = REASONS[(fact, value)]
    return Reason(id=reason_id, fact=fact, value=value, topic=topic, paragraph=paragraph)


def _reasons_for(process: str, known: Mapping[str, Optional[bool]]) -> List[Reason]:
    if process == "court":
        decisive = ("safety", True) if known["safety"] is True else ("other_side_willing", False)
        return [_reason(*decisive)]
    if process == "arbitration":
        return [_reason("wants_decision", True)]
    if process == "mediation":
        reasons = [_reason(fact, signal) for fact, signal in MEDIATION_SIGNALS.items() if known[fact] == signal]
        if known["other_side_willing"] is True:
            reasons.append(_reason("other_side_willing", True))
        return reasons
    supporting = [("other_side_willing", True), ("communication", True), ("face_to_face", True), ("wants_decision", False)]
    return [_reason(fact, value) for fact, value in supporting if known[fact] is value]


def _format_for(process: str, known: Mapping[str, Optional[bool]]) -> str:
    if process == "mediation":
        return "mediation_separate" if known["face_to_face"] is False else "mediation_flexible"
    if process == "court" and known["safety"] is True:
        return "court_safety"
    return process


def recommend(facts: Mapping[str, FactValue]) -> Recommendation:
    """The recommended process for these facts, with reasons and the alternatives."""
    known = effective(facts)
    process = choose_process(facts)
    alternatives = tuple(
        Alternative(process=other, id=alt_id, topic=topic, paragraph=paragraph)
        for other in PROCESSES
        if other != process
        for alt_id, topic, paragraph in [ALTERNATIVES[(process, other)]]
    )
    assumed = tuple(fact for fact in FACTS if facts.get(fact) == UNSURE)
    return Recommendation(
        process=process,
        reasons=tuple(_reasons_for(process, known)),
        alternatives=alternatives,
        assumed=assumed,
        format_id=_format_for(process, known),
    )
