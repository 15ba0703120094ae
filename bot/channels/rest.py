"""REST channel: validates requests, accepts only offered button payloads, one message per reply."""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inbound import SenderRateLimiter, handle_text, prepare_text
from bot.channels.limits import SizeLimitedBlueprint
from bot.channels.replies import whole_reply
from bot.exactly_once import message_id_problem

logger = logging.getLogger(__name__)

MAX_SENDER_ID_CHARS = 128


class ReplyCollector(CollectingOutputChannel):
    """Collects each bot reply as one message holding its text and its `custom` payload together."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Store the reply whole instead of splitting text and payload into two messages."""
        reply = whole_reply(message)
        if reply:
            self.messages.append({"recipient_id": recipient_id, **reply})


def _bad_request(reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=400)


class CommonGroundRestInput(InputChannel):
    """POST /webhooks/rest/webhook with {"sender": str, "message": str, "message_id"?: str, "metadata"?: object}.

    A request sent again with the same `message_id` (after a lost response) is answered from what was
    stored for it, not processed twice (bot/exactly_once.py).
    """

    def __init__(self) -> None:
        self.rate_limiter = SenderRateLimiter()

    @classmethod
    def name(cls) -> Text:
        """The channel's name and URL prefix."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook."""
        webhook = SizeLimitedBlueprint("commonground_rest", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = request.json
            except InvalidUsage:
                return _bad_request("the request body must be a JSON object")
            problem = validate_request(body)
            if problem:
                return _bad_request(problem)
            sender_id = body["sender"].strip()
            replies = []

            async def reply(message: Dict[str, Any]) -> None:
                replies.append({"recipient_id": sender_id, **message})

            async def dispatch(text: str) -> int:
                collector = ReplyCollector()
                collector.messages = replies  # replies sent before a time-out are answered too
                before = len(replies)
                await on_new_message(
                    UserMessage(text, collector, sender_id, input_channel=self.name(), metadata=body.get("metadata"),
                                message_id=body.get("message_id"))
                )
                return len(replies) - before

            await handle_text(body["message"], sender_id, request.app.ctx.agent, self.rate_limiter, reply, dispatch)
            return response.json(replies)

        return webhook


def validate_request(body: Any) -> Optional[str]:
    """Why a webhook body is unacceptable, or None when it is fine."""
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not sender.strip():
        return "'sender' must be a non-empty string"
    if len(sender) > MAX_SENDER_ID_CHARS:
        return f"'sender' must be at most {MAX_SENDER_ID_CHARS} characters"
    if not isinstance(message, str):
        return "'message' must be a string"
    if not prepare_text(message).text:
        return "'message' is empty"
    if metadata is not None and not isinstance(metadata, dict):
        return "'metadata' must be an object"
    return message_id_problem(body.get("message_id"))


