"""Builds the reply contract's JSON payloads (kinds `answer`, `fallback`, `not_covered`) from knowledge-base topics."""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from bot.knowledge.repository import Topic

Payload = Dict[str, Any]

# Button wording for the fixed next steps; topic buttons use the topic's own title.
TELL_ME_MORE = {"title": "Tell me more", "payload": "/ask_more"}
SUGGEST_PROCESS = {"title": "Suggest a process for me", "payload": "/recommend_process"}
TALK_TO_PERSON = {"title": "Talk to a person", "payload": "/request_consultation"}
SOMEONE_IN_DANGER = {"title": "Someone may be in danger", "payload": "/safety"}
MAX_RELATED_FOLLOW_UPS = 2
MAX_SUGGESTIONS = 3


def topic_payload(topic_id: str) -> str:
    """The button payload that asks for a topic (topic ids are also intent names)."""
    return f"/{topic_id}"


def sources(topic: Topic) -> List[Payload]:
    """The topic's citations as `{"paragraph", "quote"}` objects."""
    return [{"paragraph": c.paragraph, "quote": c.quote} for c in topic.citations]


def answer_text(topic: Topic, detailed: bool = False) -> str:
    """The human-readable answer, ending with the paragraphs it rests on."""
    body = topic.long_answer if detailed else topic.short_answer
    paragraphs = ", ".join(dict.fromkeys(c.paragraph for c in topic.citations))
    return f"{body}\n(Source: {paragraphs} of the firm's guide to mediation and negotiation.)"


def answer_payload(topic: Topic, detailed: bool = False) -> Payload:
    """The `answer` payload: topic, title, sources and follow-up buttons."""
    related = [
        {"title": item.title, "payload": topic_payload(item.id)}
        for item in topic.related[: (MAX_RELATED_FOLLOW_UPS + (1 if detailed else 0))]
    ]
    follow_ups = ([] if detailed else [TELL_ME_MORE]) + related + [SUGGEST_PROCESS, TALK_TO_PERSON]
    return {
        "kind": "answer",
        "topic": topic.id,
        "title": topic.title,
        "detail": "more" if detailed else "short",
        "sources": sources(topic),
        "follow_ups": [dict(item) for item in follow_ups],
    }


def fallback_payload(suggested_titles: Sequence[tuple], may_be_danger: bool = False) -> Payload:
    """The `fallback` payload: up to three "did you mean" topics as buttons, first a way to say someone is in danger when that is possible."""
    return {
        "kind": "fallback",
        "suggestions": [
            {"topic": topic_id, "title": title, "payload": topic_payload(topic_id)}
            for topic_id, title in list(suggested_titles)[:MAX_SUGGESTIONS]
        ],
        "follow_ups": [dict(SOMEONE_IN_DANGER)] * may_be_danger + [dict(TALK_TO_PERSON)],
    }


def not_covered_payload(related_titles: Sequence[tuple]) -> Payload:
    """The `not_covered` payload: a person at the firm first, then up to three topics the guide covers."""
    return {
        "kind": "not_covered",
        "related": [
            {"topic": topic_id, "title": title, "payload": topic_payload(topic_id)}
            for topic_id, title in list(related_titles)[:MAX_SUGGESTIONS]
        ],
        "follow_ups": [dict(TALK_TO_PERSON)],
    }
