"""Telegram channel: an authenticated webhook in, one message with an inline keyboard per reply out.

Telegram POSTs each update to /webhooks/telegram/webhook with the secret given to `setWebhook` in
the `X-Telegram-Bot-Api-Secret-Token` header. Without that secret the request is refused (403) and
nothing is processed. Every authenticated update is answered 200, even when handling it failed
(the failure is logged), so Telegram never redelivers it in a loop; an update id seen before is
skipped. Updates are handled before the response is sent, so a chat's replies go out in order.

What the conversation gets:
- a text message: its text (the chat id is the conversation id, so a group shares one);
  Telegram's `/start` (sent when a user opens the bot) becomes the greeting "hello"; other typed
  `/commands` go through the `/intent` guard like on every channel and so are read as plain text;
- a button press (`callback_query`): the button's payload, screened by the same guard, after
  `answerCallbackQuery` has stopped the button's spinner;
- an edited message: nothing; in a private chat the user is told to send the correction as a new
  message (answering an edit as a new turn would answer a question twice or out of order);
- any other message (sticker, photo, voice...): in a private chat a short "text only" notice,
  in groups nothing; other update types (`my_chat_member`, `channel_post`...) are ignored.

Each reply is one `sendMessage` in plain text (no `parse_mode`, so no text can inject markup) with
the payload's options, suggestions and follow-ups as inline keyboard buttons.

`python -m bot.channels.telegram set-webhook` registers the webhook with Telegram (see `main`).
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import os
import re
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Text, Tuple

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inbound import SenderRateLimiter, handle_text
from bot.channels.limits import SizeLimitedBlueprint
from bot.channels.replies import whole_reply
from bot.shared_state import SharedState, shared_state

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/webhooks/telegram/webhook"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
KEYBOARD_LISTS = ("options", "suggestions", "follow_ups", "related")
MAX_CALLBACK_DATA_BYTES = 64
MAX_MESSAGE_CHARS = 4096
API_TIMEOUT_S = 30
# Telegram retries an undelivered update for up to a day.
DEDUPE_TTL_S = 24 * 60 * 60
DEDUPE_MAX_IDS = 10_000

START_COMMAND = "/start"
START_TEXT = "hello"

# The only wording the channel sends itself; everything else comes from the bot's replies.
TEXT_ONLY_NOTICE = "Sorry, I can only read text messages for now. Please type your question."
EDIT_NOTICE = "I can't see edits to earlier messages. Please send the corrected text as a new message."
CHOOSE_PROMPT = "Please choose:"

_TOKEN = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_CREDENTIAL_ENV = {
    "access_token": "TELEGRAM_TOKEN",
    "secret_token": "TELEGRAM_SECRET_TOKEN",
    "api_url": "TELEGRAM_API_URL",
    "webhook_url": "TELEGRAM_WEBHOOK_URL",
}
_PROBLEMS = {
    "access_token": "must be the bot token from @BotFather (digits, a colon, letters)",
    "secret_token": "must be 16-256 characters of A-Z, a-z, 0-9, _ and - (e.g. `openssl rand -hex 32`)",
    "api_url": "must start with http:// or https://",
    "webhook_url": "must be the public https:// URL of " + WEBHOOK_PATH,
}


class TelegramConfigError(RasaException):
    """The Telegram settings are missing or malformed."""


class TelegramApiError(Exception):
    """A Bot API call failed (network error or `"ok": false`); the message never contains the token."""


@dataclass(frozen=True)
class TelegramConfig:
    """Bot token, webhook secret, Bot API base URL and (for `set-webhook`) the public webhook URL."""

    access_token: str
    secret_token: str
    api_url: str = DEFAULT_API_URL
    webhook_url: str = ""

    @classmethod
    def from_credentials(cls, credentials: Optional[Mapping[str, Any]]) -> "TelegramConfig":
        """Settings from the channel's credentials.yml section; errors name the keys and their variables."""
        values = credentials or {}
        return cls._build({key: values.get(key) for key in _CREDENTIAL_ENV},
                          {key: f"{key} ({env})" for key, env in _CREDENTIAL_ENV.items()}, required=("access_token", "secret_token"))

    @classmethod
    def from_env(cls, env: Mapping[str, str], required: Sequence[str] = ("access_token",)) -> "TelegramConfig":
        """Settings from TELEGRAM_* variables; errors name the variables."""
        return cls._build({key: env.get(var) for key, var in _CREDENTIAL_ENV.items()}, _CREDENTIAL_ENV, required)

    @classmethod
    def _build(cls, raw: Mapping[str, Any], labels: Mapping[str, str], required: Sequence[str]) -> "TelegramConfig":
        values = {key: "" if value is None else str(value).strip() for key, value in raw.items()}
        values["api_url"] = (values["api_url"] or DEFAULT_API_URL).rstrip("/")
        missing = [labels[key] for key in required if not values[key]]
        if missing:
            raise TelegramConfigError("Telegram channel: missing " + ", ".join(missing))
        malformed = [f"{labels[key]} {_PROBLEMS[key]}" for key in _CREDENTIAL_ENV if values[key] and not _valid(key, values[key])]
        if malformed:
            raise TelegramConfigError("Telegram channel: " + "; ".join(malformed))
        return cls(**values)


def _valid(key: str, value: str) -> bool:
    if key == "access_token":
        return bool(_TOKEN.match(value))
    if key == "secret_token":
        return bool(_SECRET.match(value))
    if key == "api_url":
        return value.startswith(("http://", "https://"))
    return value.startswith("https://")


# --- Parsing updates (pure) -------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedUpdate:
    """What one update asks of the bot: a conversation turn, a fixed notice, a callback to answer."""

    chat_id: Optional[str]
    text: Optional[str] = None
    notice: Optional[str] = None
    callback_query_id: Optional[str] = None
    metadata: Dict[str, Any] = field(default_factory=dict)


def update_problem(body: Any) -> Optional[str]:
    """Why a webhook body is not a Telegram update, or None when it is one."""
    if not isinstance(body, dict):
        return "the request body must be a JSON object"
    update_id = body.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return "'update_id' must be an integer"
    return None


def parse_update(update: Mapping[str, Any]) -> Optional[ParsedUpdate]:
    """What to do with an update, or None when it needs nothing from the bot."""
    message, edited, query = update.get("message"), update.get("edited_message"), update.get("callback_query")
    if isinstance(message, Mapping):
        return _from_message(message, update.get("update_id"))
    if isinstance(edited, Mapping):
        return _notice_in_private_chat(edited, EDIT_NOTICE)
    if isinstance(query, Mapping):
        return _from_callback_query(query, update.get("update_id"))
    return None


def conversation_text(text: str) -> str:
    """The text Rasa gets for a typed message: `/start` (also `/start@bot arg`) becomes the greeting."""
    words = text.split(maxsplit=1)
    if words and words[0].split("@", 1)[0] == START_COMMAND:
        return START_TEXT
    return text


def _chat(message: Mapping[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    chat = message.get("chat")
    if not isinstance(chat, Mapping):
        return None, None
    chat_id = chat.get("id")
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        return None, None
    chat_type = chat.get("type")
    return str(chat_id), chat_type if isinstance(chat_type, str) else None


def _from_message(message: Mapping[str, Any], update_id: Any) -> Optional[ParsedUpdate]:
    chat_id, chat_type = _chat(message)
    text = message.get("text")
    if chat_id is None:
        return None
    if isinstance(text, str) and text.strip():
        return ParsedUpdate(chat_id, text=conversation_text(text), metadata={"update_id": update_id, "chat_type": chat_type})
    return _notice_in_private_chat(message, TEXT_ONLY_NOTICE)


def _notice_in_private_chat(message: Mapping[str, Any], notice: str) -> Optional[ParsedUpdate]:
    chat_id, chat_type = _chat(message)
    if chat_id is None or chat_type != "private":
        return None
    return ParsedUpdate(chat_id, notice=notice)


def _from_callback_query(query: Mapping[str, Any], update_id: Any) -> Optional[ParsedUpdate]:
    query_id = query.get("id")
    if not isinstance(query_id, str) or not query_id:
        return None
    message = query.get("message")
    chat_id, chat_type = _chat(message) if isinstance(message, Mapping) else (None, None)
    data = query.get("data")
    text = data if chat_id is not None and isinstance(data, str) and data.strip() else None
    metadata = {"update_id": update_id, "chat_type": chat_type} if text else {}
    return ParsedUpdate(chat_id, text=text, callback_query_id=query_id, metadata=metadata)


# --- Rendering replies (pure) -----------------------------------------------------------------


def keyboard_button(item: Any) -> Optional[Dict[str, str]]:
    """One inline button from a `{title, payload}` item, or None if it lacks them or the payload is too long."""
    if not isinstance(item, Mapping):
        return None
    title, payload = item.get("title"), item.get("payload")
    if not isinstance(title, str) or not title.strip() or not isinstance(payload, str) or not payload.strip():
        return None
    size = len(payload.encode("utf-8"))
    if size > MAX_CALLBACK_DATA_BYTES:
        # A cut payload would name another intent or broken entities: leave the button out.
        logger.warning("Telegram: left out button %r, its payload is %d bytes (at most %d fit)",
                       title, size, MAX_CALLBACK_DATA_BYTES)
        return None
    return {"text": title.strip(), "callback_data": payload}


def inline_keyboard(custom: Any, buttons: Any = None) -> List[List[Dict[str, str]]]:
    """One row per button: the payload's options, suggestions and follow-ups, then Rasa buttons; no repeats."""
    items: List[Any] = []
    if isinstance(custom, Mapping):
        for key in KEYBOARD_LISTS:
            listed = custom.get(key)
            items += listed if isinstance(listed, list) else []
    items += buttons if isinstance(buttons, list) else []
    rows: List[List[Dict[str, str]]] = []
    seen = set()
    for button in map(keyboard_button, items):
        if button and button["callback_data"] not in seen:
            seen.add(button["callback_data"])
            rows.append([button])
    return rows


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> List[str]:
    """`text` in pieces of at most `limit` characters, cut at a line break or space where possible."""
    pieces: List[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit + 1), rest.rfind(" ", 0, limit + 1))
        cut = cut if cut > 0 else limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return pieces + ([rest] if rest else [])


def send_message_requests(chat_id: str, reply: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The `sendMessage` parameters for one bot reply: plain text, the keyboard on the last piece."""
    keyboard = inline_keyboard(reply.get("custom"), reply.get("buttons"))
    text = reply.get("text") if isinstance(reply.get("text"), str) else ""
    pieces = split_text(text) or ([CHOOSE_PROMPT] if keyboard else [])
    requests: List[Dict[str, Any]] = [{"chat_id": chat_id, "text": piece} for piece in pieces]
    if keyboard:
        requests[-1]["reply_markup"] = {"inline_keyboard": keyboard}
    return requests


# --- Remembering update ids -------------------------------------------------------------------


class UpdateDeduplicator(Protocol):
    """Says whether an update id arrives for the first time, remembering it in the same step."""

    async def first_time(self, update_id: int) -> bool:
        """True the first time `update_id` is seen, False for a redelivery."""


class RecentUpdateIds:
    """Update ids seen in this process during the last `ttl_s` seconds, at most `max_ids` of them.

    In memory and per process: enough for one Rasa server. With several server processes behind
    one webhook, put the same `first_time` over a shared store instead, e.g. Redis
    `SET telegram:update:<id> 1 NX EX <ttl>` (true when the key was set), which checks and
    remembers in one atomic step as this class does within its event loop.
    """

    def __init__(self, ttl_s: float = DEDUPE_TTL_S, max_ids: int = DEDUPE_MAX_IDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_ids = max_ids
        self.clock = clock
        self._seen: "OrderedDict[int, float]" = OrderedDict()

    async def first_time(self, update_id: int) -> bool:
        """True the first time `update_id` is seen (within the TTL and size bound), False afterwards."""
        now = self.clock()
        while self._seen and (next(iter(self._seen.values())) <= now - self.ttl_s or len(self._seen) >= self.max_ids):
            self._seen.popitem(last=False)
        if update_id in self._seen:
            return False
        self._seen[update_id] = now
        return True


class SharedUpdateIds:
    """Update ids remembered in Redis (`SET NX EX`, shared by every replica) when it is configured,
    else, or while Redis is away, in this process (`RecentUpdateIds`)."""

    def __init__(self, shared: Optional[SharedState] = None, local: Optional[RecentUpdateIds] = None,
                 ttl_s: float = DEDUPE_TTL_S) -> None:
        self.shared = shared_state() if shared is None else shared
        self.local = local or RecentUpdateIds(ttl_s=ttl_s)
        self.ttl_s = ttl_s

    async def first_time(self, update_id: int) -> bool:
        """True the first time any replica sees `update_id`, False for a redelivery."""
        remembered_locally = await self.local.first_time(update_id)
        return await self.shared.first_time(f"telegram:update:{update_id}", self.ttl_s, lambda: remembered_locally)


# --- Bot API client ---------------------------------------------------------------------------


class TelegramApi:
    """Calls `{api_url}/bot{token}/{method}`; one HTTP session, opened on first use."""

    def __init__(self, access_token: str, api_url: str = DEFAULT_API_URL, timeout_s: float = API_TIMEOUT_S) -> None:
        self._token = access_token
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._session: Optional[aiohttp.ClientSession] = None

    async def call(self, method: str, params: Mapping[str, Any]) -> Any:
        """The `result` of a Bot API method; TelegramApiError when the call fails."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        try:
            async with self._session.post(f"{self.api_url}/bot{self._token}/{method}", json=dict(params)) as answer:
                status, body = answer.status, await answer.text()
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            # `from None`: the original exception may carry the URL, and with it the token.
            raise TelegramApiError(f"{method}: {self._redact(f'{type(error).__name__}: {error}')}") from None
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("ok") is not True:
            description = data.get("description") if isinstance(data, dict) else None
            raise TelegramApiError(f"{method}: HTTP {status}: {self._redact(str(description or body[:200]))}")
        return data.get("result")

    async def close(self) -> None:
        """Close the HTTP session, if one was opened."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<token>")


class TelegramOutput(OutputChannel):
    """Sends each bot reply as one `sendMessage` (more only past 4096 characters) with inline buttons."""

    @classmethod
    def name(cls) -> Text:
        """Name of the output channel."""
        return "telegram"

    def __init__(self, api: TelegramApi) -> None:
        self.api = api
        self.replies_sent = 0

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Send the whole reply; a failed call is logged so the conversation goes on."""
        self.replies_sent += 1
        for params in send_message_requests(recipient_id, whole_reply(message)):
            try:
                await self.api.call("sendMessage", params)
            except TelegramApiError as error:
                logger.error("Telegram: could not send a reply to chat %s: %s", recipient_id, error)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Send a plain text reply."""
        await self.send_response(recipient_id, {"text": text})


# --- The input channel ------------------------------------------------------------------------


class CommonGroundTelegramInput(InputChannel):
    """POST /webhooks/telegram/webhook: Telegram updates, authenticated by the webhook's secret token."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name and URL prefix."""
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Build the channel from its credentials.yml section; a missing token or secret stops start-up."""
        return cls(TelegramConfig.from_credentials(credentials))

    def __init__(self, config: TelegramConfig, seen: Optional[UpdateDeduplicator] = None) -> None:
        self.config = config
        self.api = TelegramApi(config.access_token, config.api_url)
        self.seen: UpdateDeduplicator = seen or SharedUpdateIds()
        self.rate_limiter = SenderRateLimiter()

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Replies to externally triggered messages go to the conversation's chat (its sender id)."""
        return TelegramOutput(self.api)

    def authentic(self, secret: Optional[str]) -> bool:
        """Whether the request carries the webhook's secret token (constant-time comparison)."""
        return hmac.compare_digest((secret or "").encode("utf-8"), self.config.secret_token.encode("utf-8"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook."""
        webhook = SizeLimitedBlueprint("commonground_telegram", __name__)

        @webhook.listener("after_server_stop")
        async def close_api(_app: Any, _loop: Any) -> None:
            await self.api.close()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.authentic(request.headers.get(SECRET_HEADER)):
                return response.json({"error": "forbidden"}, status=403)
            try:
                body = request.json
            except InvalidUsage:
                body = None
            problem = update_problem(body)
            if problem:
                return response.json({"error": problem}, status=400)
            if not await self.seen.first_time(body["update_id"]):
                logger.info("Telegram: skipped update %s, it was delivered before", body["update_id"])
                return _accepted()
            update = parse_update(body)
            if update is None:
                return _accepted()
            try:
                await self.handle(update, request.app.ctx.agent, on_new_message)
            except Exception:  # any failure is logged: Telegram must still get its 200
                logger.exception("Telegram: handling update %s failed", body["update_id"])
            return _accepted()

        return webhook

    async def handle(self, update: ParsedUpdate, agent: Any, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Stop a pressed button's spinner, then send the notice or run the conversation turn."""
        if update.callback_query_id:
            try:
                await self.api.call("answerCallbackQuery", {"callback_query_id": update.callback_query_id})
            except TelegramApiError as error:
                logger.warning("Telegram: could not answer a button press: %s", error)
        if update.chat_id is None:
            return
        output = TelegramOutput(self.api)
        if update.notice:
            await output.send_text_message(update.chat_id, update.notice)
        if update.text:
            chat_id = update.chat_id

            async def reply(message: Dict[str, Any]) -> None:
                await output.send_response(chat_id, message)

            async def dispatch(text: str) -> int:
                turn = TelegramOutput(self.api)
                await on_new_message(UserMessage(text, turn, chat_id, input_channel=self.name(), metadata=update.metadata))
                return turn.replies_sent

            await handle_text(update.text, chat_id, agent, self.rate_limiter, reply, dispatch)


def _accepted() -> HTTPResponse:
    # The body must not name a `method`: Telegram would run it as a Bot API call.
    return response.json({"ok": True})


# --- Webhook registration command -------------------------------------------------------------


def webhook_request(command: str, config: TelegramConfig, drop_pending_updates: bool = False) -> Tuple[str, Dict[str, Any]]:
    """The Bot API method and parameters for `set-webhook`, `delete-webhook` or `info`."""
    if command == "set-webhook":
        return "setWebhook", {"url": config.webhook_url, "secret_token": config.secret_token,
                              "allowed_updates": list(ALLOWED_UPDATES), "drop_pending_updates": drop_pending_updates}
    if command == "delete-webhook":
        return "deleteWebhook", {"drop_pending_updates": drop_pending_updates}
    return "getWebhookInfo", {}


REQUIRED_FOR = {
    "set-webhook": ("access_token", "secret_token", "webhook_url"),
    "delete-webhook": ("access_token",),
    "info": ("access_token",),
}


async def _call_once(config: TelegramConfig, method: str, params: Mapping[str, Any]) -> Any:
    api = TelegramApi(config.access_token, config.api_url)
    try:
        return await api.call(method, params)
    finally:
        await api.close()


def main(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """`set-webhook`, `delete-webhook` or `info` with the TELEGRAM_* variables; prints Telegram's answer."""
    parser = argparse.ArgumentParser(
        prog="python -m bot.channels.telegram",
        description="Register the Telegram webhook. Reads TELEGRAM_TOKEN, TELEGRAM_SECRET_TOKEN, "
                    "TELEGRAM_WEBHOOK_URL (https://<public host>" + WEBHOOK_PATH + ") and TELEGRAM_API_URL.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for command, help_text in (("set-webhook", "point Telegram at TELEGRAM_WEBHOOK_URL with the secret token"),
                               ("delete-webhook", "stop Telegram sending updates"),
                               ("info", "show Telegram's view of the webhook (getWebhookInfo)")):
        sub = commands.add_parser(command, help=help_text)
        if command != "info":
            sub.add_argument("--drop-pending-updates", action="store_true", help="discard updates Telegram has queued")
    args = parser.parse_args(argv)
    try:
        config = TelegramConfig.from_env(env, REQUIRED_FOR[args.command])
    except TelegramConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.command == "set-webhook" and not config.webhook_url.rstrip("/").endswith(WEBHOOK_PATH):
        print(f"warning: TELEGRAM_WEBHOOK_URL does not end in {WEBHOOK_PATH}; "
              "fine only if a proxy forwards it there", file=sys.stderr)
    method, params = webhook_request(args.command, config, getattr(args, "drop_pending_updates", False))
    try:
        result = asyncio.run(_call_once(config, method, params))
    except TelegramApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"method": method, "result": result}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
