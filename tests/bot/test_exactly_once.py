"""Finding an earlier handling of a message in its conversation's events (bot/exactly_once.py)."""

from __future__ import annotations

from collections import deque
from typing import List

from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered

from bot.exactly_once import bot_message, prior_turn

ANSWER = {"kind": "answer", "topic": "mediator_role", "detail": "short", "sources": [], "follow_ups": []}


def turn(message_id: str, *replies: str, listen: bool = True) -> List[Event]:
    """A user message, its slot extraction, one action per reply, then listening (unless not)."""
    events: List[Event] = [UserUttered("hello", {"name": "greet"}, message_id=message_id), SlotSet("topic", "x")]
    for reply in replies:
        events += [ActionExecuted("action_explain_topic"), BotUttered(reply, {"custom": dict(ANSWER), "buttons": None})]
    if listen:
        events.append(ActionExecuted("action_listen"))
    return events


START: List[Event] = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]


def test_a_message_never_stored_has_no_prior_turn() -> None:
    """An id that no stored user event carries means: process the message."""
    assert prior_turn(START + turn("a", "one"), "b") is None
    assert prior_turn([], "a") is None


def test_a_finished_turn_gives_back_its_replies_in_order() -> None:
    """The replies of the turn the id started, as Rasa handed them to the channel (empty parts left out)."""
    prior = prior_turn(deque(START + turn("a", "one", "two") + turn("b", "three")), "a")  # as a tracker holds them
    assert prior is not None and prior.finished
    assert prior.replies == [{"text": "one", "custom": ANSWER}, {"text": "two", "custom": ANSWER}]
    latest = prior_turn(START + turn("a", "one") + turn("b", "three"), "b")
    assert latest is not None and latest.finished and [r["text"] for r in latest.replies] == ["three"]


def test_a_turn_followed_by_another_message_counts_as_finished() -> None:
    """Without a stored action_listen, a later user message still ends the turn."""
    prior = prior_turn(START + turn("a", "one", listen=False) + turn("b", "two"), "a")
    assert prior is not None and prior.finished and [r["text"] for r in prior.replies] == ["one"]


def test_a_user_event_stored_without_its_turn_is_unfinished() -> None:
    """Stored user event, nothing after it: finish the turn, slot extraction included."""
    prior = prior_turn(START + turn("a", "one") + turn("b", listen=False)[:1], "b")
    assert prior is not None and not prior.finished and prior.replies == [] and not prior.slots_extracted


def test_a_turn_stored_part_way_is_unfinished_with_its_replies_so_far() -> None:
    """Slots extracted and one reply stored, no return to listening: finish it without extracting again."""
    prior = prior_turn(START + turn("b", "one", listen=False), "b")
    assert prior is not None and not prior.finished and prior.slots_extracted
    assert [r["text"] for r in prior.replies] == ["one"]


def test_bot_message_rebuilds_what_the_channel_was_given() -> None:
    """Text plus the stored data, without the parts Rasa stores as null."""
    event = BotUttered("hi", {"elements": None, "quick_replies": None, "buttons": [{"title": "Yes", "payload": "/affirm"}], "custom": ANSWER})
    assert bot_message(event) == {"text": "hi", "buttons": [{"title": "Yes", "payload": "/affirm"}], "custom": ANSWER}
