"""Recognises messages that suggest someone may be in danger, so safety comes before process talk."""

from __future__ import annotations

import re
from typing import List, Pattern

_TARGET = r"(?:me|us|my (?:kids?|children|child|son|daughter|baby|family|mum|mom|dad)|the (?:kids|children|baby))"
_HARM_VERB = r"(?:hit|hits|hitting|beat|beats|beating|beaten|punch\w*|slap\w*|kick(?:ed|s|ing)?|chok\w*|strangl\w*|shov\w*|attack(?:ed|s|ing)?|assault\w*|hurt(?:s|ing)?|harm(?:ed|s|ing)?|stab\w*|shoot|shot|rap(?:e|ed))"
_LEGAL_THREAT = r"(?:court|legal|a lawsuit|lawyers?|solicitors?|eviction|evicting|the police|action)"

SAFETY_PATTERNS: List[Pattern[str]] = [
    re.compile(rf"\b{_HARM_VERB}\s+{_TARGET}\b"),
    re.compile(rf"\bthreat\w*\s+(?:{_TARGET}\s+)?(?:to\s+)?(?:kill|hurt|harm|hit|beat|attack|shoot|stab|burn)\b"),
    re.compile(rf"\bthreaten(?:ed|ing|s)?\s+{_TARGET}\b(?!\s+with\s+{_LEGAL_THREAT})(?!\s+(?:to|that)\s+(?:sue|evict|take|go|call|report|fire|sack|cut|stop|leave|keep|withhold))"),
    re.compile(rf"\bkill(?:ed|s)?\s+(?:{_TARGET}|him|her|myself|himself|herself)\b"),
    re.compile(r"\b(?:death|physical) threats?\b"),
    re.compile(r"\b(?:violent|violence|abus(?:e|ed|es|ing|ive|er)|stalk\w*|harass\w* me|restraining order|protective order|protection order|non-molestation order)\b"),
    re.compile(r"\b(?:weapons?|guns?|knife|knives|firearms?)\b"),
    re.compile(r"\b(?:fear|afraid|scared|frightened|terrified|worried)\s+for\s+(?:my|our|the kids'?|the children'?s?|my (?:kids'?|children'?s?))\s+(?:life|lives|safety|wellbeing)\b"),
    re.compile(r"\b(?:afraid|scared|frightened|terrified)\s+(?:of\s+)?(?:him|her|them|my ex|what (?:he|she|they)(?:'ll| will| might| could| would)?)\b"),
    re.compile(r"\b(?:don'?t|do not|dont|doesn'?t|does not|no longer|never)\s+feel\s+safe\b"),
    re.compile(r"\b(?:not|isn'?t|aren'?t|unsafe|isnt|arent)\s+safe\s+(?:with|around|at home|near)\b"),
    re.compile(r"\b(?:unsafe|in danger|endangered|my safety)\b"),
    re.compile(r"\bfollow(?:s|ed|ing)?\s+me\s+(?:home|around|everywhere|to work)\b"),
    re.compile(r"\b(?:suicid\w*|kill myself|end my life|hurt myself|self[- ]harm\w*)\b"),
]


def safety_signals(text: str) -> List[str]:
    """The phrases in `text` that suggest a risk to someone's safety (empty when none)."""
    lowered = " ".join((text or "").lower().replace("’", "'").split())
    return [match.group(0) for pattern in SAFETY_PATTERNS for match in pattern.finditer(lowered)]


def is_safety_concern(text: str) -> bool:
    """Whether `text` suggests that someone may be in danger."""
    return bool(safety_signals(text))
