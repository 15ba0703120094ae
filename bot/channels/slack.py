"""Slack channel: signed Events API and interactivity requests in, one Block Kit message per reply out.

Built on Rasa's `SlackInput` / `SlackBot` (signature check, mention clean-up, conversation ids). Added
here: each reply rendered whole as blocks, deliveries deduplicated, Slack's retries acknowledged
without processing, bot messages ignored, 4xx (never 5xx) for bad requests, and the input handling
every channel shares (bot/channels/inbound.py: rate limit, cleaning, the `/intent` guard, apology).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Collection, Coroutine, Dict, List, Mapping, Optional, Text, Tuple, Union
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from rasa.shared.exceptions import InvalidConfigException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.inbound import SenderRateLimiter, handle_text, prepare_text
from bot.channels.limits import SizeLimitedBlueprint
from bot.channels.replies import whole_reply
from bot.shared_state import SharedState, shared_state

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
RETRY_NUM_HEADER = "X-Slack-Retry-Num"
RETRY_REASON_HEADER = "X-Slack-Retry-Reason"

# Block Kit limits (https://api.slack.com/reference/block-kit).
SECTION_TEXT_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
MAX_BUTTONS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BLOCKS = 50

# Payload lists rendered as buttons, in display order; Rasa's own `buttons` come last.
BUTTON_LISTS = ("options", "suggestions", "follow_ups", "related")
SOURCE_LINE = "{paragraph}: “{quote}”"
ACTION_ID = "commonground_choice_{index}"
ELLIPSIS = "…"

# Message events that are a person's new message although they carry a subtype.
PERSON_MESSAGE_SUBTYPES = frozenset({"file_share", "thread_broadcast"})
MESSAGE_EVENT_TYPES = frozenset({"message", "app_mention"})
INTERACTION_TYPES = frozenset({"block_actions", "interactive_message"})

Block = Dict[str, Any]


# --- Rendering: pure functions from a whole reply (bot/channels/replies.py) to Block Kit ---------


def escape_mrkdwn(text: str) -> str:
    """`text` with &, < and > escaped, so Slack shows it literally (no mentions, links or tags)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_slack(text: str) -> str:
    """A user's text as typed: Slack sends &, < and > escaped."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _fitting_length(text: str, limit: int) -> int:
    """The length of the longest prefix of `text` whose escaped form has at most `limit` characters."""
    used = 0
    for index, char in enumerate(text):
        used += len(escape_mrkdwn(char))
        if used > limit:
            return index
    return len(text)


def _break_before(text: str, cut: int) -> int:
    """`cut` moved back to just after the last line break (else space) in its second half, if any."""
    for separator in ("\n", " "):
        position = text.rfind(separator, cut // 2, cut)
        if position > 0:
            return position + 1
    return cut


def escaped_pieces(text: str, limit: int) -> List[str]:
    """`text` escaped for mrkdwn, in pieces of at most `limit` characters, split at line breaks or spaces."""
    pieces: List[str] = []
    rest = text.strip()
    while rest:
        cut = max(1, _fitting_length(rest, limit))
        if cut < len(rest):
            cut = _break_before(rest, cut)
        pieces.append(escape_mrkdwn(rest[:cut].rstrip()))
        rest = rest[cut:].lstrip()
    return pieces


def escaped_clip(text: str, limit: int) -> str:
    """`text` escaped for mrkdwn and cut to at most `limit` characters, with an ellipsis when cut."""
    pieces = escaped_pieces(text, limit - len(ELLIPSIS))
    if not pieces:
        return ""
    return pieces[0] + ELLIPSIS if len(pieces) > 1 else pieces[0]


def _clip(text: str, limit: int) -> str:
    """Plain `text` cut to at most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def _custom(reply: Mapping[str, Any]) -> Mapping[str, Any]:
    """The reply's `custom` payload, or an empty one."""
    custom = reply.get("custom")
    return custom if isinstance(custom, Mapping) else {}


def _objects(value: Any) -> List[Mapping[str, Any]]:
    """The objects in `value` when it is a list; nothing otherwise."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def choices(reply: Mapping[str, Any]) -> List[Tuple[str, str]]:
    """(title, payload) of each button a reply offers, in display order, each payload once."""
    custom = _custom(reply)
    items = [item for key in BUTTON_LISTS for item in _objects(custom.get(key))] + _objects(reply.get("buttons"))
    found: Dict[str, str] = {}
    for item in items:
        title, payload = item.get("title"), item.get("payload")
        if not (isinstance(title, str) and title.strip() and isinstance(payload, str) and payload.strip()):
            continue
        if len(payload) <= BUTTON_VALUE_LIMIT and payload not in found:
            found[payload] = title.strip()
    return [(title, payload) for payload, title in found.items()][:MAX_BUTTONS]


def button(title: str, payload: str, index: int) -> Block:
    """A button that sends `payload` back when clicked; `index` makes its action_id unique."""
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": _clip(title, BUTTON_TEXT_LIMIT), "emoji": True},
        "value": payload,
        "action_id": ACTION_ID.format(index=index),
    }


def source_lines(custom: Mapping[str, Any]) -> List[str]:
    """An answer's sources as escaped mrkdwn lines ("P2: “quote”")."""
    lines = []
    for source in _objects(custom.get("sources")):
        paragraph, quote = source.get("paragraph"), source.get("quote")
        if isinstance(paragraph, str) and isinstance(quote, str) and quote.strip():
            line = SOURCE_LINE.format(paragraph=paragraph.strip(), quote=quote.strip())
            lines.append(escaped_clip(line, SECTION_TEXT_LIMIT))
    return lines[:MAX_CONTEXT_ELEMENTS]


def blocks_for(reply: Mapping[str, Any]) -> List[Block]:
    """The blocks of one whole reply: its text, an answer's sources, then its buttons."""
    text = reply.get("text") if isinstance(reply.get("text"), str) else ""
    blocks: List[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece}}
        for piece in escaped_pieces(text, SECTION_TEXT_LIMIT)[: MAX_BLOCKS - 2]
    ]
    custom = _custom(reply)
    if custom.get("kind") == "answer":
        lines = source_lines(custom)
        if lines:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": line} for line in lines]})
    buttons = [button(title, payload, index) for index, (title, payload) in enumerate(choices(reply))]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def notification_text(reply: Mapping[str, Any]) -> str:
    """The message's top-level `text`: what notifications and screen readers show."""
    text = reply.get("text")
    return escaped_clip(text, SECTION_TEXT_LIMIT) if isinstance(text, str) else ""


# --- Deduplication ------------------------------------------------------------------------------


class RecentKeys:
    """Keys seen in the last `ttl_s` seconds (at most `max_keys`), kept in this process's memory.

    Slack may deliver one event more than once. `first_time` is a single atomic check-and-remember;
    `SharedKeys` asks Redis the same question when it is configured and falls back to this.
    """

    def __init__(self, ttl_s: float = 3600.0, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self.clock = clock
        self._expiries: "OrderedDict[str, float]" = OrderedDict()

    def __len__(self) -> int:
        """How many keys are remembered now (expired ones may still count until the next call)."""
        return len(self._expiries)

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen within the TTL (and remember it); False for a repeat."""
        now = self.clock()
        while self._expiries and next(iter(self._expiries.values())) <= now:
            self._expiries.popitem(last=False)
        if key in self._expiries:
            return False
        self._expiries[key] = now + self.ttl_s
        while len(self._expiries) > self.max_keys:
            self._expiries.popitem(last=False)
        return True


class SharedKeys:
    """Delivery keys remembered in Redis (`SET NX EX`, shared by every replica) when it is
    configured, else, or while Redis is away, in this process (`RecentKeys`)."""

    def __init__(self, shared: Optional[SharedState] = None, local: Optional[RecentKeys] = None) -> None:
        self.shared = shared_state() if shared is None else shared
        self.local = local if local is not None else RecentKeys()

    async def first_time(self, key: str) -> bool:
        """True the first time any replica sees `key` within the TTL, False for a repeat."""
        remembered_locally = self.local.first_time(key)
        return await self.shared.first_time(f"slack:{key}", self.local.ttl_s, lambda: remembered_locally)


# --- Request interpretation: pure functions from a verified request body to a decision ---------


@dataclass(frozen=True)
class Answer:
    """An HTTP answer given without passing anything to the assistant."""

    status: int
    body: Mapping[str, Any]

    def response(self) -> HTTPResponse:
        """The answer as a JSON response."""
        return response.json(dict(self.body), status=self.status)


@dataclass(frozen=True)
class Incoming:
    """A person's message or button click, ready for the assistant."""

    text: str
    user: str
    channel: Optional[str]
    thread_ts: Optional[str]
    addressed: bool  # a direct message, a mention or a button click, rather than channel chatter
    keys: Tuple[str, ...] = ()  # delivery ids to deduplicate on
    users: Tuple[str, ...] = ()  # user ids whose mentions were removed from the text


def bad_request(reason: str) -> Answer:
    """A 400 answer naming what is wrong."""
    return Answer(400, {"error": reason})


def ignored(reason: str) -> Answer:
    """A 200 answer for a valid request that needs no reply."""
    return Answer(200, {"ok": True, "ignored": reason})


def _string(value: Any) -> Optional[str]:
    """`value` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None


def bot_user_ids(envelope: Mapping[str, Any]) -> Tuple[str, ...]:
    """This app's bot user ids, from an event envelope's `authorizations`."""
    ids = (item.get("user_id") for item in _objects(envelope.get("authorizations")) if item.get("is_bot"))
    return tuple(user_id for user_id in ids if _string(user_id))


def is_person_message(event: Mapping[str, Any], bot_ids: Collection[str] = ()) -> bool:
    """Whether an event is a new message written by a person: not a bot's (ours included), edit or deletion."""
    subtype = event.get("subtype")
    user = _string(event.get("user"))
    return (
        event.get("type") in MESSAGE_EVENT_TYPES
        and not event.get("bot_id")
        and not event.get("bot_profile")
        and (subtype is None or subtype in PERSON_MESSAGE_SUBTYPES)
        and user is not None
        and user not in bot_ids
        and isinstance(event.get("text"), str)
    )


def interpret_event(envelope: Any) -> Union[Answer, Incoming]:
    """What to do with an Events API body: answer the URL check, ignore it, or pass a message on."""
    if not isinstance(envelope, Mapping):
        return bad_request("the body must be a JSON object")
    kind = envelope.get("type")
    if kind == "url_verification":
        challenge = _string(envelope.get("challenge"))
        return Answer(200, {"challenge": challenge}) if challenge else bad_request("'challenge' must be a non-empty string")
    if not _string(kind):
        return bad_request("'type' must be a non-empty string")
    if kind != "event_callback":
        return ignored("not an event callback")
    event, event_id = envelope.get("event"), _string(envelope.get("event_id"))
    if not isinstance(event, Mapping):
        return bad_request("'event' must be an object")
    if event_id is None:
        return bad_request("'event_id' must be a non-empty string")
    bots = bot_user_ids(envelope)
    if not is_person_message(event, bots):
        return ignored("not a person's new message")
    authed = tuple(user for user in envelope.get("authed_users") or () if _string(user))
    mentions = tuple(dict.fromkeys(bots + authed))
    text = unescape_slack(SlackInput._sanitize_user_message(event["text"], list(mentions)))
    if not prepare_text(text).text:
        return ignored("the message is empty")
    channel, ts = _string(event.get("channel")), _string(event.get("ts"))
    keys = (f"event:{event_id}",) + ((f"message:{channel}:{ts}",) if channel and ts else ())
    return Incoming(
        text=text,
        user=event["user"],
        channel=channel,
        thread_ts=_string(event.get("thread_ts")) or ts,
        addressed=event.get("type") == "app_mention" or event.get("channel_type") == "im",
        keys=keys,
        users=mentions,
    )


def interpret_interaction(payload: Any) -> Union[Answer, Incoming]:
    """What to do with an interactivity payload: a button click continues the conversation."""
    if not isinstance(payload, Mapping):
        return bad_request("'payload' must be a JSON object")
    kind = _string(payload.get("type"))
    if kind is None:
        return bad_request("'payload.type' must be a non-empty string")
    if kind not in INTERACTION_TYPES:
        return ignored("not a block action")
    user = payload.get("user")
    user_id = _string(user.get("id")) if isinstance(user, Mapping) else None
    if user_id is None:
        return bad_request("'payload.user.id' must be a non-empty string")
    actions = _objects(payload.get("actions"))
    if not actions:
        return bad_request("'payload.actions' must be a non-empty list of objects")
    action = actions[0]
    value = _string(action.get("value"))
    if action.get("type") != "button" or value is None:
        return ignored("not a button with a value")
    channel = payload.get("channel")
    message = payload.get("message") if isinstance(payload.get("message"), Mapping) else {}
    container = payload.get("container") if isinstance(payload.get("container"), Mapping) else {}
    trigger_id, action_ts = _string(payload.get("trigger_id")), _string(action.get("action_ts"))
    key = f"interaction:{trigger_id}" if trigger_id else (f"interaction:{user_id}:{action_ts}" if action_ts else None)
    return Incoming(
        text=value,
        user=user_id,
        channel=_string(channel.get("id")) if isinstance(channel, Mapping) else None,
        thread_ts=_string(message.get("thread_ts")) or _string(message.get("ts")) or _string(container.get("thread_ts")),
        addressed=True,
        keys=(key,) if key else (),
        users=(user_id,),
    )


def interpret_request(content_type: str, body: bytes) -> Union[Answer, Incoming]:
    """What to do with a verified webhook request: Events API JSON or an interactivity form."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        try:
            envelope = json.loads(body)
        except (ValueError, RecursionError):
            return bad_request("the body is not valid JSON")
        return interpret_event(envelope)
    if media_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return bad_request("the body is not a valid form")
        if not form.get("payload"):
            return bad_request("the form has no 'payload' field")
        try:
            payload = json.loads(form["payload"][0])
        except (ValueError, RecursionError):
            return bad_request("'payload' is not valid JSON")
        return interpret_interaction(payload)
    return Answer(415, {"error": "expected application/json or application/x-www-form-urlencoded"})


# --- Rasa channel classes -----------------------------------------------------------------------


class CommonGroundSlackBot(SlackBot):
    """Posts each bot reply as one Slack message: its text, sources and buttons as blocks."""

    def __init__(
        self,
        token: Text,
        slack_channel: Optional[Text] = None,
        thread_id: Optional[Text] = None,
        proxy: Optional[Text] = None,
        api_url: Text = DEFAULT_API_URL,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, base_url=api_url, proxy=proxy)
        self.replies_sent = 0

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Post the whole reply; a failed post is logged so the conversation itself carries on."""
        reply = whole_reply(message)
        blocks = blocks_for(reply)
        if not blocks:
            logger.warning("a reply without text or buttons was not posted to Slack: %s", sorted(reply))
            return
        channel = self.slack_channel or recipient_id
        self.replies_sent += 1
        try:
            await self._post_message(
                channel=channel, text=notification_text(reply), blocks=blocks, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as error:
            logger.error("Slack refused a reply for %s: %s", channel, error.response.get("error"))
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.error("could not reach Slack to post a reply for %s: %r", channel, error)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Post a plain text reply the same way."""
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Post a text reply with Rasa buttons the same way."""
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})


class CommonGroundSlackInput(SlackInput):
    """POST /webhooks/slack/webhook: Slack's Events API (JSON) and interactivity (form `payload`)."""

    @classmethod
    def name(cls) -> Text:
        """The channel's name and URL prefix."""
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "CommonGroundSlackInput":
        """Build the channel from its `credentials.yml` section."""
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            slack_token=credentials.get("slack_token") or "",
            slack_channel=credentials.get("slack_channel"),
            proxy=credentials.get("proxy"),
            use_threads=bool(credentials.get("use_threads", False)),
            slack_signing_secret=credentials.get("slack_signing_secret") or "",
            conversation_granularity=credentials.get("conversation_granularity", "sender"),
            api_url=credentials.get("api_url") or DEFAULT_API_URL,
        )

    def __init__(
        self,
        slack_token: Text,
        slack_channel: Optional[Text] = None,
        proxy: Optional[Text] = None,
        use_threads: bool = False,
        slack_signing_secret: Text = "",
        conversation_granularity: Text = "sender",
        api_url: Text = DEFAULT_API_URL,
        seen: Optional[SharedKeys] = None,
    ) -> None:
        super().__init__(
            slack_token,
            slack_channel=slack_channel,
            proxy=proxy,
            slack_retry_reason_header=RETRY_REASON_HEADER,
            slack_retry_number_header=RETRY_NUM_HEADER,
            use_threads=use_threads,
            slack_signing_secret=slack_signing_secret,
            conversation_granularity=conversation_granularity,
        )
        if not slack_token:
            raise InvalidConfigException("the Slack channel needs `slack_token` (set SLACK_TOKEN)")
        self.api_url = api_url
        self.seen = seen if seen is not None else SharedKeys()
        self.rate_limiter = SenderRateLimiter()

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> CommonGroundSlackBot:
        """The output channel that posts to `channel` (else the configured one, else the user's DM)."""
        return CommonGroundSlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy, self.api_url)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook (events and button clicks)."""
        webhook = SizeLimitedBlueprint("commonground_slack", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_request_from_slack_authentic(request):
                return Answer(401, {"error": "missing or invalid X-Slack-Signature, or a timestamp more than 5 minutes off"}).response()
            retry = request.headers.get(self.retry_num_header)
            outcome = interpret_request(request.headers.get("content-type", ""), request.body)
            if isinstance(outcome, Answer):
                return outcome.response()
            if not (outcome.addressed or (outcome.channel and outcome.channel == self.slack_channel)):
                return ignored("not a direct message, a mention or the configured channel").response()
            # A retry is handled like any delivery: processed unless some replica already received it
            # (the first attempt may have reached a replica that died before answering).
            if not all([await self.seen.first_time(key) for key in outcome.keys]):
                if retry:
                    logger.info("Slack retry #%s (%s) of a delivery already received: acknowledged",
                                retry, request.headers.get(self.retry_reason_header))
                return response.json({"ok": True, "ignored": "already received"}, headers={"X-Slack-No-Retry": "1"})
            self._start(self._handle(outcome, on_new_message, request.app.ctx.agent))
            return response.json({"ok": True})

        return webhook

    def _start(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the request is acknowledged (Slack wants an answer within 3 s)."""
        task = asyncio.create_task(work)
        self._background_tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: "asyncio.Task[None]") -> None:
        """Forget a finished task, logging its failure."""
        self._background_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("handling a Slack message failed", exc_info=task.exception())

    async def _handle(
        self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]], agent: Optional[Any]
    ) -> None:
        """Pass the text on as every channel does; replies go to the channel (or thread) it came from."""
        sender_id = self._get_conversation_id(incoming.user, incoming.channel, incoming.thread_ts) or incoming.user
        metadata = {"out_channel": incoming.channel, "thread_id": incoming.thread_ts, "users": list(incoming.users)}
        thread_id = incoming.thread_ts if self.use_threads else None

        async def reply(message: Dict[str, Any]) -> None:
            await self.get_output_channel(incoming.channel, thread_id).send_response(sender_id, message)

        async def dispatch(text: str) -> int:
            output = self.get_output_channel(incoming.channel, thread_id)
            await on_new_message(UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata))
            return output.replies_sent

        await handle_text(incoming.text, sender_id, agent, self.rate_limiter, reply, dispatch)
