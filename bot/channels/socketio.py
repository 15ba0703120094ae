"""socket.io channel for the website widget: screened input, one event per whole reply."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.inbound import SenderRateLimiter, handle_text, prepare_text
from bot.channels.limits import SizeLimitedSocketBlueprint
from bot.channels.replies import whole_reply
from bot.exactly_once import message_id_problem
from bot.channels.rest import MAX_SENDER_ID_CHARS
from bot.config import get_settings

logger = logging.getLogger(__name__)


class WholeReplyOutput(OutputChannel):
    """Emits each bot reply as one `bot_uttered` event with its text and payload together."""

    @classmethod
    def name(cls) -> Text:
        """Name of the output channel."""
        return "socketio"

    def __init__(self, sio: AsyncServer, bot_message_evt: Text, room: Text) -> None:
        self.sio = sio
        self.bot_message_evt = bot_message_evt
        self.room = room
        self.replies_sent = 0

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Emit the whole reply to the conversation's room."""
        reply = whole_reply(message)
        if reply:
            self.replies_sent += 1
            await self.sio.emit(self.bot_message_evt, reply, room=self.room)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Emit a plain text reply."""
        await self.send_response(recipient_id, {"text": text})


class CommonGroundSocketIOInput(InputChannel):
    """socket.io input: `session_request` → `session_confirm`; `user_uttered` → `bot_uttered`."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name."""
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Build the channel from its `credentials.yml` section."""
        credentials = credentials or {}
        origins = credentials.get("cors_allowed_origins") or "*"
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            session_persistence=bool(credentials.get("session_persistence", True)),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            cors_allowed_origins=parse_origins(origins),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        session_persistence: bool = True,
        socketio_path: Text = "/socket.io",
        cors_allowed_origins: Union[str, List[str]] = "*",
    ) -> None:
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.session_persistence = session_persistence
        self.socketio_path = socketio_path
        self.cors_allowed_origins = cors_allowed_origins
        self.sio: Optional[AsyncServer] = None
        self.rate_limiter = SenderRateLimiter()

    def get_output_channel(self) -> Optional[OutputChannel]:
        """No output channel for externally triggered messages (they need a known room)."""
        return None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SizeLimitedSocketBlueprint:
        """The socket.io server and its event handlers, mounted on the Rasa app."""
        # CORS headers come from Rasa's --cors (sanic-cors) alone: two layers would send
        # Access-Control-Allow-Origin twice and browsers reject long-polling. Origins are checked
        # at connect time instead, which also covers WebSocket connections.
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=[], max_http_buffer_size=get_settings().max_request_bytes
        )
        self.sio = sio
        blueprint = SizeLimitedSocketBlueprint(sio, self.socketio_path, "commonground_socketio", __name__)
        app_holder: Dict[str, Any] = {}

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            app_holder["app"] = app

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict[str, Any], auth: Optional[Dict] = None) -> bool:
            return origin_allowed(environ.get("HTTP_ORIGIN"), self.cors_allowed_origins)

        @sio.on("session_request")
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            session_id = valid_session_id(data) or uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: Text, data: Any) -> None:
            problem = validate_socket_message(data)
            if problem:
                await sio.emit("error_message", {"error": problem}, room=sid)
                return
            session_id = valid_session_id(data) if self.session_persistence else None
            sender_id = session_id or sid
            room = session_id or sid
            agent = app_holder["app"].ctx.agent if "app" in app_holder else None
            metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else None

            async def reply(message: Dict[str, Any]) -> None:
                await sio.emit(self.bot_message_evt, message, room=room)

            async def dispatch(text: str) -> int:
                output = WholeReplyOutput(sio, self.bot_message_evt, room)
                await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata,
                                                 message_id=data.get("message_id")))
                return output.replies_sent

            await handle_text(data["message"], sender_id, agent, self.rate_limiter, reply, dispatch)

        return blueprint


def parse_origins(origins: Union[str, List[str]]) -> Union[str, List[str]]:
    """"*" or a list of origins, from a list or a comma-separated string."""
    if isinstance(origins, list):
        return [str(origin).strip() for origin in origins if str(origin).strip()]
    values = [origin.strip() for origin in str(origins).split(",") if origin.strip()]
    return "*" if values in ([], ["*"]) else values


def origin_allowed(origin: Optional[str], allowed: Union[str, List[str]]) -> bool:
    """Whether a browser page from `origin` may connect (clients without an Origin header may)."""
    return origin is None or allowed == "*" or origin in allowed


def valid_session_id(data: Any) -> Optional[str]:
    """The client's session id when it is a sensible string, else None."""
    session_id = data.get("session_id") if isinstance(data, dict) else None
    if isinstance(session_id, str) and 0 < len(session_id.strip()) <= MAX_SENDER_ID_CHARS:
        return session_id.strip()
    return None


def validate_socket_message(data: Any) -> Optional[str]:
    """Why a `user_uttered` event is unacceptable, or None when it is fine."""
    if not isinstance(data, dict):
        return "the event data must be an object"
    message = data.get("message")
    if not isinstance(message, str):
        return "'message' must be a string"
    if not prepare_text(message).text:
        return "'message' is empty"
    return message_id_problem(data.get("message_id"))
