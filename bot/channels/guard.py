"""Only payloads of buttons the bot sent may trigger intents directly; typed `/intent{...}` is text."""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Set

PAYLOAD_LISTS = ("follow_ups", "suggestions", "options", "related")


def payloads_in_bot_message(data: Mapping[str, Any]) -> Set[str]:
    """Button payloads in one bot message: Rasa buttons and our payload's button lists."""
    found = {button.get("payload") for button in data.get("buttons") or [] if isinstance(button, Mapping)}
    custom = data.get("custom")
    if isinstance(custom, Mapping):
        for key in PAYLOAD_LISTS:
            found |= {item.get("payload") for item in custom.get(key) or [] if isinstance(item, Mapping)}
    return {payload for payload in found if isinstance(payload, str)}


def offered_payloads(bot_messages: Iterable[Mapping[str, Any]]) -> Set[str]:
    """Every button payload the bot offered in these messages."""
    offered: Set[str] = set()
    for data in bot_messages:
        offered |= payloads_in_bot_message(data)
    return offered


def is_command(text: str) -> bool:
    """Whether Rasa would read `text` as an `/intent{...}` command rather than as language."""
    return text.lstrip().startswith("/")


def screen_user_text(text: str, offered: Set[str]) -> str:
    """`text` unchanged if it is plain text or an offered payload; otherwise without the leading `/`."""
    stripped = text.strip()
    if not is_command(stripped) or stripped in offered:
        return text
    return stripped.lstrip("/").strip() or text


async def screen_for_conversation(agent: Optional[Any], sender_id: str, text: str) -> str:
    """Screen typed text against the payloads the bot offered in `sender_id`'s conversation."""
    if not is_command(text):
        return text
    tracker_store = getattr(agent, "tracker_store", None)
    tracker = await tracker_store.retrieve(sender_id) if tracker_store is not None else None
    bot_messages = (event.data for event in (tracker.events if tracker else []) if getattr(event, "type_name", "") == "bot")
    return screen_user_text(text, offered_payloads(bot_messages))
