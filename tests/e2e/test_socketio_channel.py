"""End to end over socket.io, as the website widget talks to the assistant."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, List

import pytest
import socketio

from tests.e2e.conftest import Servers

pytestmark = pytest.mark.e2e

REPLY_TIMEOUT_S = 60


class WidgetClient:
    """A socket.io client that collects `bot_uttered` and `error_message` events."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = socketio.AsyncClient()
        self.replies: "asyncio.Queue[dict]" = asyncio.Queue()
        self.errors: "asyncio.Queue[dict]" = asyncio.Queue()
        self.confirmed: "asyncio.Queue[str]" = asyncio.Queue()
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("error_message", self.errors.put)
        self.client.on("session_confirm", self.confirmed.put)

    async def open(self, session_id: str) -> str:
        """Connect and ask for a session; the confirmed session id."""
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["websocket"])
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmed.get(), REPLY_TIMEOUT_S)

    async def say(self, session_id: str, text: str) -> dict:
        """Send `text` in the session and wait for the first reply."""
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id})
        return await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT_S)


def widget_client(servers: Servers) -> WidgetClient:
    """A client for the running servers, not yet connected."""
    return WidgetClient(f"http://localhost:{servers.env['RASA_PORT']}")


async def test_widget_conversation_gets_whole_replies(servers: Servers) -> None:
    """A question over socket.io gets one event with text and the `answer` payload."""
    client = widget_client(servers)
    session_id = uuid.uuid4().hex
    try:
        assert await client.open(session_id) == session_id
        reply = await client.say(session_id, "communication broke down")
        assert reply["custom"]["kind"] == "answer"
        assert reply["custom"]["topic"] == "communication_breakdown"
        assert "P2" in reply["text"]
    finally:
        await client.client.disconnect()


@pytest.mark.parametrize(
    "data, error",
    [
        ({"message": "   ", "session_id": "s"}, "'message' is empty"),
        ({"session_id": "s"}, "'message' must be a string"),
        ({"message": ["hi"], "session_id": "s"}, "'message' must be a string"),
        ("just a string", "the event data must be an object"),
        ({"message": "hi", "session_id": "s", "message_id": "not an id!"}, "'message_id' must be 1 to 128 letters, digits or - _ . :"),
    ],
)
async def test_malformed_events_get_an_error_event(servers: Servers, data: Any, error: str) -> None:
    """Malformed `user_uttered` events are answered with an `error_message` naming the problem."""
    client = widget_client(servers)
    try:
        await client.open(uuid.uuid4().hex)
        await client.client.emit("user_uttered", data)
        assert (await asyncio.wait_for(client.errors.get(), REPLY_TIMEOUT_S)) == {"error": error}
    finally:
        await client.client.disconnect()


async def test_typed_command_is_read_as_text_over_socketio(servers: Servers) -> None:
    """An unoffered `/intent` typed in the widget gets the same reply as its plain words."""
    replies: List[dict] = []
    for text in ("/safety", "safety"):
        client = widget_client(servers)
        session_id = uuid.uuid4().hex
        try:
            await client.open(session_id)
            replies.append(await client.say(session_id, text))
        finally:
            await client.client.disconnect()
    assert replies[0]["custom"] == replies[1]["custom"]


async def test_a_message_sent_again_with_its_message_id_gets_the_same_reply_and_is_stored_once(servers: Servers) -> None:
    """A widget that re-sends a message with its `message_id` (e.g. after reconnecting) gets the stored reply again."""
    from tests.e2e.test_rest_contract import stored_user_events

    client = widget_client(servers)
    session_id, message_id = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        await client.open(session_id)
        sent = {"message": "which process should I use?", "session_id": session_id, "message_id": message_id}
        await client.client.emit("user_uttered", sent)
        first = await asyncio.wait_for(client.replies.get(), REPLY_TIMEOUT_S)
        await client.client.emit("user_uttered", sent)
        again = await asyncio.wait_for(client.replies.get(), REPLY_TIMEOUT_S)
    finally:
        await client.client.disconnect()
    assert first["custom"]["fact"] == "safety" and again == first
    assert [e["message_id"] for e in stored_user_events(servers, session_id)] == [message_id]
