"""Input screening shared by the channels: request validation and the `/intent` guard."""

from __future__ import annotations

from typing import Any, Optional

import pytest

from bot.channels.guard import offered_payloads, screen_user_text
from bot.channels.rest import validate_request
from bot.channels.socketio import origin_allowed

OFFERED = offered_payloads(
    [
        {"text": "hi", "custom": {"kind": "answer", "follow_ups": [{"title": "More", "payload": "/ask_more"}]}},
        {"text": "?", "custom": {"kind": "fallback", "suggestions": [{"topic": "impasse", "title": "t", "payload": "/impasse"}]}},
        {"text": "choose", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
        {"text": "odd", "custom": {"follow_ups": "not a list", "options": [None, {"payload": 3}]}},
    ]
)


def test_offered_payloads_are_collected_from_buttons_and_payloads() -> None:
    """Follow-ups, suggestions and Rasa buttons all count as offered; malformed items are skipped."""
    assert OFFERED == {"/ask_more", "/impasse", "/affirm"}


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("/ask_more", "/ask_more"),
        ("  /impasse ", "  /impasse "),
        ("/greet", "greet"),
        ('/request_consultation{"name": "x"}', 'request_consultation{"name": "x"}'),
        ('/impasse{"process": "court"}', 'impasse{"process": "court"}'),
        ("//restart", "restart"),
        ("/", "/"),
        ("what is mediation?", "what is mediation?"),
        ("mediation/negotiation?", "mediation/negotiation?"),
    ],
)
def test_only_offered_payloads_pass_as_commands(typed: str, expected: str) -> None:
    """A typed command that the bot never offered is passed on as plain text."""
    assert screen_user_text(typed, OFFERED) == expected


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"sender": "a", "message": "hello"}, None),
        ({"sender": "a", "message": "hello", "metadata": {"page": "/"}}, None),
        ([], "the request body must be a JSON object"),
        ("text", "the request body must be a JSON object"),
        (None, "the request body must be a JSON object"),
        ({"message": "hi"}, "'sender' must be a non-empty string"),
        ({"sender": "  ", "message": "hi"}, "'sender' must be a non-empty string"),
        ({"sender": 42, "message": "hi"}, "'sender' must be a non-empty string"),
        ({"sender": "x" * 129, "message": "hi"}, "'sender' must be at most 128 characters"),
        ({"sender": "a"}, "'message' must be a string"),
        ({"sender": "a", "message": ["hi"]}, "'message' must be a string"),
        ({"sender": "a", "message": " \n\t "}, "'message' is empty"),
        ({"sender": "a", "message": "hi", "metadata": "x"}, "'metadata' must be an object"),
        ({"sender": "a", "message": "hi", "message_id": "9f1c2d3e-01:a_b.c"}, None),
        ({"sender": "a", "message": "hi", "message_id": ""}, "'message_id' must be 1 to 128 letters, digits or - _ . :"),
        ({"sender": "a", "message": "hi", "message_id": 42}, "'message_id' must be 1 to 128 letters, digits or - _ . :"),
        ({"sender": "a", "message": "hi", "message_id": "x" * 129}, "'message_id' must be 1 to 128 letters, digits or - _ . :"),
        ({"sender": "a", "message": "hi", "message_id": "two words"}, "'message_id' must be 1 to 128 letters, digits or - _ . :"),
    ],
)
def test_request_validation(body: Any, problem: Optional[str]) -> None:
    """Each malformed webhook body is named precisely; valid ones pass."""
    assert validate_request(body) == problem


@pytest.mark.parametrize(
    "origin, allowed, expected",
    [
        (None, ["https://firm.example"], True),
        ("https://firm.example", ["https://firm.example"], True),
        ("https://evil.example", ["https://firm.example"], False),
        ("https://evil.example", "*", True),
    ],
)
def test_socketio_origin_check(origin: Optional[str], allowed: Any, expected: bool) -> None:
    """Only configured origins may open a socket.io connection from a browser."""
    assert origin_allowed(origin, allowed) is expected
