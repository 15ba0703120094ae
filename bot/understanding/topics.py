"""Which knowledge-base topic a recognised intent and its entities ask about."""

from __future__ import annotations

from typing import Iterable, Optional


# Intents that ask what a process is or who does what in it: the process named decides the topic,
# so "what does an arbitrator do?" and "what does a mediator do?" get different answers.
DEFINITION_INTENTS = frozenset(
    {"what_is_mediation", "what_is_negotiation", "mediator_role", "mediator_decision_power", "arbitration_and_court"}
)
MEDIATION_TOPICS = frozenset({"what_is_mediation", "mediator_role", "mediator_decision_power"})
DECIDING_PROCESSES = frozenset({"arbitration", "court"})
# Questions about the mediator that compare them with a judge or an arbitrator ("isn't the
# mediator basically a judge?") stay about the mediator.
MEDIATOR_TOPICS = frozenset({"mediator_role", "mediator_decision_power"})


def resolve_topic(intent: Optional[str], processes: Iterable[str]) -> Optional[str]:
    """The topic to explain for `intent`, refined by the `process` entities in the message."""
    if intent is None or intent not in DEFINITION_INTENTS:
        return intent
    named = set(processes)
    if named & DECIDING_PROCESSES and not ("mediation" in named and intent in MEDIATOR_TOPICS):
        return "arbitration_and_court"
    if named == {"mediation", "negotiation"}:
        return "mediation_vs_negotiation"
    if named == {"negotiation"}:
        return "what_is_negotiation"
    if named == {"mediation"} and intent not in MEDIATION_TOPICS:
        return "what_is_mediation"
    return intent


# A message the assistant is unsure about may be about danger when the intent classifier gives
# `safety` at least this probability: the did-you-mean reply then asks about danger first. (On the
# tuning sets, 0.3 reaches every danger message that gets a fallback.)
POSSIBLE_DANGER_CONFIDENCE = 0.3


def may_be_about_danger(intent_ranking: Iterable[dict]) -> bool:
    """Whether the classifier's ranking leaves danger plausible enough to ask about it."""
    return any(item.get("name") == "safety" and float(item.get("confidence") or 0.0) >= POSSIBLE_DANGER_CONFIDENCE
               for item in intent_ranking)


# Offered when nothing in the message points to a topic.
STARTER_TOPICS = ("mediation_vs_negotiation", "mediator_role", "meeting_formats")
MIN_SUGGESTION_CONFIDENCE = 0.02


def suggest_topics(intent_ranking: Iterable[dict], known_topics: Iterable[str], limit: int = 3) -> list:
    """Up to `limit` topic ids the classifier ranked highest, else the starter topics."""
    known = set(known_topics)
    ranked = [
        item["name"]
        for item in intent_ranking
        if item.get("name") in known and float(item.get("confidence") or 0.0) >= MIN_SUGGESTION_CONFIDENCE
    ]
    chosen = list(dict.fromkeys(ranked))[:limit]
    return chosen or [topic for topic in STARTER_TOPICS if topic in known][:limit]


# The topic that introduces each process, for questions about it the guide doesn't answer.
PROCESS_TOPICS = {
    "mediation": "what_is_mediation",
    "negotiation": "what_is_negotiation",
    "arbitration": "arbitration_and_court",
    "court": "arbitration_and_court",
}


def related_topics(intent_ranking: Iterable[dict], processes: Iterable[str], known_topics: Iterable[str], limit: int = 3) -> list:
    """Up to `limit` covered topics near a question: those introducing the processes it names, then the ranking's."""
    known = list(known_topics)
    named = [PROCESS_TOPICS[process] for process in processes if PROCESS_TOPICS.get(process) in known]
    return list(dict.fromkeys(named + suggest_topics(intent_ranking, known, limit)))[:limit]
