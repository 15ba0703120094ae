"""Fixtures for action tests: real trackers and a temporary knowledge base behind the actions."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa_sdk import Tracker

from actions.base import KnowledgeAction
from bot.knowledge.repository import KnowledgeRepository

DOMAIN: Dict[str, Any] = {}


def make_tracker(
    intent: str,
    text: str = "",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    ranking: Optional[List[Dict[str, Any]]] = None,
) -> Tracker:
    """A tracker whose latest user message has the given intent, entities and ranking."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}],
    }
    return Tracker(
        sender_id="test-user",
        slots=slots or {},
        latest_message=latest,
        events=[{"event": "user", "text": text, "parse_data": latest}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def process(value: str) -> Dict[str, Any]:
    """A `process` entity as the entity extractor produces it."""
    return {"entity": "process", "value": value, "start": 0, "end": 1}


@pytest.fixture(autouse=True)
def knowledge_behind_actions(repository: KnowledgeRepository, monkeypatch: pytest.MonkeyPatch) -> KnowledgeRepository:
    """Point every knowledge action at the test's own loaded database."""
    monkeypatch.setattr(KnowledgeAction, "repository", repository)
    return repository
