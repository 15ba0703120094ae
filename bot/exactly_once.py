"""A user message is handled once, however often its client sends it (the client's `message_id`).

A client that did not get the answer to a message (the Rasa replica died mid-request, the network
dropped the response, it got the apology) sends it again with the same `message_id` (REST body field,
socket.io payload field; bot/channels/). The id becomes the message's Rasa id, which the tracker store
keeps in the user event. Before a message is processed, and under the conversation's lock (Redis with
several replicas, so no other replica is working on it meanwhile), the conversation's stored events
are searched for that id:

- not there: the message is processed as usual;
- there, and its turn finished (the assistant listened again, or another message followed): the
  stored replies are sent again; nothing is processed, run or stored a second time;
- there, but its turn unfinished (the user event was stored without the rest of the turn): the turn
  is finished from there, without logging the message again.

Our tracker store writes a turn's events in one transaction at the end of the turn (bot/stores.py),
so the third case needs a store that saves part of a turn; it is handled all the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.data import TrainingType
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

MAX_MESSAGE_ID_CHARS = 128
_MESSAGE_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def message_id_problem(value: Any) -> Optional[str]:
    """Why `value` is unacceptable as a client's message id (absent is fine), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_MESSAGE_ID_CHARS or not set(value) <= _MESSAGE_ID_CHARS:
        return f"'message_id' must be 1 to {MAX_MESSAGE_ID_CHARS} letters, digits or - _ . :"
    return None


@dataclass(frozen=True)
class PriorTurn:
    """What is stored of an earlier handling of the same message."""

    replies: List[Dict[str, Any]]  # the bot messages of the turn, as Rasa hands them to a channel
    finished: bool
    slots_extracted: bool  # whether anything followed the user event (Rasa's slot extraction comes first)


def bot_message(event: BotUttered) -> Dict[str, Any]:
    """A stored bot event as the message Rasa gave the output channel when it was sent."""
    return {"text": event.text, **{key: value for key, value in (event.data or {}).items() if value is not None}}


def prior_turn(events: Iterable[Event], message_id: Text) -> Optional[PriorTurn]:
    """The stored turn of the user message `message_id` among `events`, or None if it was never stored."""
    events = list(events)  # a tracker's events are a deque
    start = next(
        (i for i in range(len(events) - 1, -1, -1)
         if isinstance(events[i], UserUttered) and events[i].message_id == message_id),
        None,
    )
    if start is None:
        return None
    replies: List[Dict[str, Any]] = []
    finished = False
    for event in events[start + 1:]:
        if isinstance(event, UserUttered):
            finished = True
            break
        if isinstance(event, BotUttered):
            replies.append(bot_message(event))
        elif isinstance(event, ActionExecuted) and event.action_name == ACTION_LISTEN_NAME:
            finished = True
            break
    return PriorTurn(replies=replies, finished=finished, slots_extracted=len(events) > start + 1)


async def handle_message(self: MessageProcessor, message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
    """Rasa's `MessageProcessor.handle_message`, which first looks for an earlier handling of the message."""
    if self.model_metadata.training_type == TrainingType.NLU:
        return await _RASA_HANDLE_MESSAGE(self, message)
    tracker = await self.fetch_tracker_and_update_session(message.sender_id, message.output_channel, message.metadata)
    prior = prior_turn(tracker.events, message.message_id) if message.message_id else None
    if prior is not None and prior.finished:
        logger.info("message %s was handled before: sending its %d stored replies again", message.message_id, len(prior.replies))
        for reply in prior.replies:
            await message.output_channel.send_response(message.sender_id, reply)
        return _collected(message)
    if prior is None:
        await self._handle_message_with_tracker(message, tracker)
    else:
        logger.warning("message %s was stored without its replies: finishing its turn", message.message_id)
    if prior is None or not prior.slots_extracted:
        tracker = await self.run_action_extract_slots(message.output_channel, tracker)
    await _finish_turn(self, message, tracker)
    return _collected(message)


async def _finish_turn(processor: MessageProcessor, message: UserMessage, tracker: DialogueStateTracker) -> None:
    """Rasa's end of a turn: predict and run actions until it listens, then store the tracker."""
    await processor._run_prediction_loop(message.output_channel, tracker)
    await processor.run_anonymization_pipeline(tracker)
    await processor.save_tracker(tracker)


def _collected(message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
    """What Rasa's `handle_message` returns: the collected messages for a collecting channel."""
    if isinstance(message.output_channel, CollectingOutputChannel):
        return message.output_channel.messages
    return None


_RASA_HANDLE_MESSAGE = MessageProcessor.handle_message


def install() -> None:
    """Make Rasa's message processor skip messages it has handled before (idempotent)."""
    MessageProcessor.handle_message = handle_message  # type: ignore[method-assign]
