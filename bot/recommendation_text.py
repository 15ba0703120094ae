"""Renders a recommendation as text plus the reply contract's `recommendation` payload."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

import yaml

from bot.config import PROJECT_ROOT
from bot.recommend import Recommendation
from bot.replies import TALK_TO_PERSON, topic_payload

WORDING_FILE = PROJECT_ROOT / "data" / "recommendations.yml"


@lru_cache(maxsize=1)
def wording() -> Dict[str, Any]:
    """The recommendation wording from data/recommendations.yml."""
    return yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))


def _join(items: list) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def recommendation_text(recommendation: Recommendation) -> str:
    """The recommendation in plain words: which process, why, what it looks like, other options."""
    words = wording()
    process = words["processes"][recommendation.process].lower()
    lines = [words["intro"].format(process=process), "", "Why:"]
    lines += [f"- {words['reasons'][reason.id]}" for reason in recommendation.reasons]
    lines += ["", words["formats"][recommendation.format_id]]
    if recommendation.assumed:
        lines += ["", words["assumed"].format(
            facts=_join([words["fact_names"][fact] for fact in recommendation.assumed]),
            assumptions=_join([words["assumptions"][fact] for fact in recommendation.assumed]),
        )]
    lines += ["", "Other options:"]
    lines += [
        f"- {words['processes'][alt.process]}: {words['alternatives'][alt.id]}"
        for alt in recommendation.alternatives
    ]
    lines += ["", words["closing"]]
    return "\n".join(lines)


def recommendation_payload(recommendation: Recommendation) -> Dict[str, Any]:
    """The `recommendation` payload: process, reasons, alternatives, follow-ups."""
    words = wording()
    first_topic = recommendation.reasons[0].topic if recommendation.reasons else "mediation_vs_negotiation"
    return {
        "kind": "recommendation",
        "process": recommendation.process,
        "title": words["processes"][recommendation.process],
        "reasons": [
            {"fact": r.fact, "value": r.value, "topic": r.topic, "paragraph": r.paragraph, "text": words["reasons"][r.id]}
            for r in recommendation.reasons
        ],
        "alternatives": [
            {"process": a.process, "topic": a.topic, "paragraph": a.paragraph, "text": words["alternatives"][a.id]}
            for a in recommendation.alternatives
        ],
        "format": words["formats"][recommendation.format_id],
        "assumed": list(recommendation.assumed),
        "follow_ups": [
            dict(TALK_TO_PERSON),
            {"title": "Why this process?", "payload": topic_payload(first_topic)},
            {"title": "Start again with different answers", "payload": "/recommend_process"},
        ],
    }
