"""What a channel sends for one bot reply: its text and its payload together."""

from __future__ import annotations

from typing import Any, Dict, Mapping

REPLY_KEYS = ("text", "custom", "buttons", "image", "attachment", "elements", "quick_replies")


def whole_reply(message: Mapping[str, Any]) -> Dict[str, Any]:
    """The parts of a Rasa bot message a client needs, as one object (empty parts left out)."""
    return {key: message[key] for key in REPLY_KEYS if message.get(key)}
