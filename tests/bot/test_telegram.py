"""Telegram channel helpers: settings, update parsing, keyboard rendering, dedupe, Bot API errors."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.telegram import (
    CHOOSE_PROMPT,
    EDIT_NOTICE,
    START_TEXT,
    TEXT_ONLY_NOTICE,
    CommonGroundTelegramInput,
    ParsedUpdate,
    RecentUpdateIds,
    TelegramApi,
    TelegramApiError,
    TelegramConfig,
    TelegramConfigError,
    inline_keyboard,
    main,
    parse_update,
    send_message_requests,
    split_text,
    update_problem,
    webhook_request,
)

TOKEN = "123456:ABC-def_ghi"
SECRET = "s3cret-token_0123456789"
CREDENTIALS = {"access_token": TOKEN, "secret_token": SECRET, "api_url": "http://127.0.0.1:9/", "webhook_url": ""}

PRIVATE = {"id": 42, "type": "private"}
GROUP = {"id": -100123, "type": "supergroup"}


def button(title: str, payload: str) -> List[Dict[str, str]]:
    """One keyboard row holding one button."""
    return [{"text": title, "callback_data": payload}]


# --- Settings ---------------------------------------------------------------------------------


def test_credentials_give_the_settings() -> None:
    """The section's values are used; the API URL loses its trailing slash."""
    config = TelegramConfig.from_credentials(CREDENTIALS)
    assert config == TelegramConfig(TOKEN, SECRET, "http://127.0.0.1:9", "")


def test_api_url_defaults_to_telegram() -> None:
    """An empty api_url means the real Bot API."""
    assert TelegramConfig.from_credentials({**CREDENTIALS, "api_url": ""}).api_url == "https://api.telegram.org"


@pytest.mark.parametrize(
    "credentials, message",
    [
        (None, r"missing access_token \(TELEGRAM_TOKEN\), secret_token \(TELEGRAM_SECRET_TOKEN\)"),
        ({**CREDENTIALS, "access_token": " "}, r"missing access_token \(TELEGRAM_TOKEN\)$"),
        ({**CREDENTIALS, "secret_token": None}, r"missing secret_token \(TELEGRAM_SECRET_TOKEN\)$"),
        ({**CREDENTIALS, "secret_token": "short"}, "secret_token .* must be 16-256 characters"),
        ({**CREDENTIALS, "secret_token": "has spaces in it, quite long"}, "secret_token .* must be 16-256"),
        ({**CREDENTIALS, "access_token": "not-a-token"}, "access_token .* must be the bot token"),
        ({**CREDENTIALS, "api_url": "ftp://x"}, "api_url .* must start with http"),
        ({**CREDENTIALS, "webhook_url": "http://insecure.example/"}, "webhook_url .* must be the public https"),
    ],
)
def test_bad_credentials_fail_loudly_naming_the_field(credentials: Optional[Dict[str, Any]], message: str) -> None:
    """A missing or malformed token or secret stops start-up with the field's name, never its value."""
    with pytest.raises(TelegramConfigError, match=message) as raised:
        CommonGroundTelegramInput.from_credentials(credentials)
    assert TOKEN not in str(raised.value)


def test_environment_errors_name_the_variables() -> None:
    """The command's settings come from TELEGRAM_* variables and errors name every missing one."""
    with pytest.raises(TelegramConfigError, match="missing TELEGRAM_TOKEN, TELEGRAM_WEBHOOK_URL"):
        TelegramConfig.from_env({"TELEGRAM_SECRET_TOKEN": SECRET}, ("access_token", "secret_token", "webhook_url"))


@pytest.mark.parametrize(
    "header, accepted",
    [(SECRET, True), (None, False), ("", False), (SECRET + "x", False), (SECRET.upper(), False), ("ünïcode", False)],
)
def test_only_the_exact_secret_token_authenticates(header: Optional[str], accepted: bool) -> None:
    """The webhook secret must match exactly; a missing header is refused."""
    channel = CommonGroundTelegramInput(TelegramConfig.from_credentials(CREDENTIALS))
    assert channel.authentic(header) is accepted


# --- Parsing updates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "update, expected",
    [
        ({"update_id": 1, "message": {"chat": PRIVATE, "text": "which process should I use?"}},
         ParsedUpdate("42", text="which process should I use?", metadata={"update_id": 1, "chat_type": "private"})),
        ({"update_id": 2, "message": {"chat": GROUP, "text": "hi all"}},
         ParsedUpdate("-100123", text="hi all", metadata={"update_id": 2, "chat_type": "supergroup"})),
        ({"update_id": 3, "message": {"chat": PRIVATE, "text": "/start"}},
         ParsedUpdate("42", text=START_TEXT, metadata={"update_id": 3, "chat_type": "private"})),
        ({"update_id": 4, "message": {"chat": GROUP, "text": "/start@CommonGroundBot deep-link"}},
         ParsedUpdate("-100123", text=START_TEXT, metadata={"update_id": 4, "chat_type": "supergroup"})),
        ({"update_id": 5, "message": {"chat": PRIVATE, "text": "/affirm"}},
         ParsedUpdate("42", text="/affirm", metadata={"update_id": 5, "chat_type": "private"})),
        ({"update_id": 6, "callback_query": {"id": "cb1", "data": "/deny", "message": {"chat": PRIVATE}}},
         ParsedUpdate("42", text="/deny", callback_query_id="cb1", metadata={"update_id": 6, "chat_type": "private"})),
        ({"update_id": 7, "callback_query": {"id": "cb2", "data": "/deny", "inline_message_id": "x"}},
         ParsedUpdate(None, callback_query_id="cb2")),
        ({"update_id": 8, "callback_query": {"id": "cb3", "game_short_name": "g", "message": {"chat": PRIVATE}}},
         ParsedUpdate("42", callback_query_id="cb3")),
        ({"update_id": 9, "edited_message": {"chat": PRIVATE, "text": "which process should I use??"}},
         ParsedUpdate("42", notice=EDIT_NOTICE)),
        ({"update_id": 10, "edited_message": {"chat": GROUP, "text": "typo fixed"}}, None),
        ({"update_id": 11, "message": {"chat": PRIVATE, "sticker": {"file_id": "x"}}},
         ParsedUpdate("42", notice=TEXT_ONLY_NOTICE)),
        ({"update_id": 12, "message": {"chat": PRIVATE, "photo": [{}], "caption": "look"}},
         ParsedUpdate("42", notice=TEXT_ONLY_NOTICE)),
        ({"update_id": 13, "message": {"chat": PRIVATE, "text": "   "}}, ParsedUpdate("42", notice=TEXT_ONLY_NOTICE)),
        ({"update_id": 14, "message": {"chat": GROUP, "new_chat_members": [{}]}}, None),
        ({"update_id": 15, "my_chat_member": {"chat": PRIVATE}}, None),
        ({"update_id": 16, "channel_post": {"chat": {"id": -1, "type": "channel"}, "text": "news"}}, None),
        ({"update_id": 17, "some_future_update": {}}, None),
        ({"update_id": 18, "message": {"text": "no chat"}}, None),
        ({"update_id": 19, "message": {"chat": {"id": "42", "type": "private"}, "text": "string id"}}, None),
        ({"update_id": 20, "message": "not an object"}, None),
        ({"update_id": 21, "callback_query": {"data": "/deny", "message": {"chat": PRIVATE}}}, None),
    ],
)
def test_updates_are_parsed_into_what_the_bot_must_do(update: Dict[str, Any], expected: Optional[ParsedUpdate]) -> None:
    """Text and button presses become turns; edits and non-text messages a notice in private chats; the rest nothing."""
    assert parse_update(update) == expected


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"update_id": 1}, None),
        ({"update_id": 1, "message": {}}, None),
        ([], "the request body must be a JSON object"),
        (None, "the request body must be a JSON object"),
        ("text", "the request body must be a JSON object"),
        ({}, "'update_id' must be an integer"),
        ({"update_id": "1"}, "'update_id' must be an integer"),
        ({"update_id": True}, "'update_id' must be an integer"),
    ],
)
def test_webhook_bodies_must_be_updates(body: Any, problem: Optional[str]) -> None:
    """Only a JSON object with an integer update_id counts as an update."""
    assert update_problem(body) == problem


# --- Rendering replies ------------------------------------------------------------------------

YES, NO, UNSURE = ({"title": "Yes", "payload": "/affirm", "value": True},
                   {"title": "No", "payload": "/deny", "value": False},
                   {"title": "I'm not sure", "payload": "/unsure", "value": None})
MORE = {"title": "Tell me more", "payload": "/ask_more"}


@pytest.mark.parametrize(
    "custom, buttons, keyboard",
    [
        (None, None, []),
        ({"kind": "info"}, None, []),
        ({"kind": "question", "fact": "safety", "options": [YES, NO, UNSURE]}, None,
         [button("Yes", "/affirm"), button("No", "/deny"), button("I'm not sure", "/unsure")]),
        ({"kind": "fallback", "suggestions": [{"topic": "impasse", "title": "Impasse", "payload": "/impasse"}],
          "follow_ups": [MORE]}, None,
         [button("Impasse", "/impasse"), button("Tell me more", "/ask_more")]),
        ({"kind": "not_covered", "follow_ups": [MORE], "related": [{"topic": "impasse", "title": "Impasse", "payload": "/impasse"}]}, None,
         [button("Tell me more", "/ask_more"), button("Impasse", "/impasse")]),
        ({"kind": "answer", "follow_ups": [MORE, MORE]}, [{"title": "More", "payload": "/ask_more"}],
         [button("Tell me more", "/ask_more")]),
        ({"kind": "answer"}, [{"title": " Hi ", "payload": "/greet"}], [button("Hi", "/greet")]),
        ({"follow_ups": [{"title": "", "payload": "/x"}, {"title": "t"}, {"payload": "/y"}, None, "str",
                         {"title": "t", "payload": 3}]}, None, []),
        ({"follow_ups": "not a list", "options": {"title": "t", "payload": "/x"}}, "nor this", []),
        ({"follow_ups": [{"title": "Fits", "payload": "/" + "a" * 63}]}, None, [button("Fits", "/" + "a" * 63)]),
        ({"follow_ups": [{"title": "Too long", "payload": "/" + "a" * 64}, MORE]}, None, [button("Tell me more", "/ask_more")]),
        ({"follow_ups": [{"title": "Multibyte", "payload": "/" + "é" * 32}]}, None, []),
    ],
)
def test_inline_keyboard_rendering(custom: Any, buttons: Any, keyboard: List[List[Dict[str, str]]]) -> None:
    """Options, suggestions, follow-ups and Rasa buttons become one-button rows; bad or too-long items are left out."""
    assert inline_keyboard(custom, buttons) == keyboard


def test_too_long_payload_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A button whose payload exceeds 64 bytes is left out with a warning naming it."""
    with caplog.at_level(logging.WARNING, logger="bot.channels.telegram"):
        inline_keyboard({"follow_ups": [{"title": "Too long", "payload": "/" + "a" * 64}]})
    assert "Too long" in caplog.text and "65 bytes" in caplog.text


@pytest.mark.parametrize(
    "reply, requests",
    [
        ({"text": "Hello <b>there</b>", "custom": {"kind": "info"}}, [{"chat_id": "42", "text": "Hello <b>there</b>"}]),
        ({"text": "Is everyone safe?", "custom": {"kind": "question", "options": [YES]}},
         [{"chat_id": "42", "text": "Is everyone safe?", "reply_markup": {"inline_keyboard": [button("Yes", "/affirm")]}}]),
        ({"custom": {"kind": "question", "options": [YES]}},
         [{"chat_id": "42", "text": CHOOSE_PROMPT, "reply_markup": {"inline_keyboard": [button("Yes", "/affirm")]}}]),
        ({"image": "https://example.org/x.png"}, []),
        ({"text": "a" * 4096 + "\n" + "b" * 10, "custom": {"follow_ups": [MORE]}},
         [{"chat_id": "42", "text": "a" * 4096},
          {"chat_id": "42", "text": "b" * 10, "reply_markup": {"inline_keyboard": [button("Tell me more", "/ask_more")]}}]),
    ],
)
def test_each_reply_is_plain_text_with_its_keyboard(reply: Dict[str, Any], requests: List[Dict[str, Any]]) -> None:
    """One sendMessage per reply, no parse_mode; a reply too long for one message carries its keyboard last."""
    assert send_message_requests("42", reply) == requests


@pytest.mark.parametrize(
    "text, limit, pieces",
    [
        ("", 10, []),
        ("  short  ", 10, ["short"]),
        ("one two three", 7, ["one two", "three"]),
        ("one two three", 6, ["one", "two", "three"]),
        ("line one\nline two", 12, ["line one", "line two"]),
        ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
    ],
)
def test_long_text_is_split_at_breaks(text: str, limit: int, pieces: List[str]) -> None:
    """Text is cut at line breaks or spaces, hard only when a word is longer than the limit."""
    assert split_text(text, limit) == pieces


# --- Dedupe -----------------------------------------------------------------------------------


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


async def test_repeated_update_ids_are_recognised() -> None:
    """The first delivery of an id counts; redeliveries do not."""
    seen = RecentUpdateIds()
    assert [await seen.first_time(i) for i in (1, 2, 1, 2, 3)] == [True, True, False, False, True]


async def test_update_ids_are_forgotten_after_the_ttl() -> None:
    """An id older than the TTL counts as new again."""
    clock = FakeClock()
    seen = RecentUpdateIds(ttl_s=60, clock=clock)
    assert await seen.first_time(1)
    clock.now += 59
    assert not await seen.first_time(1)
    clock.now += 2
    assert await seen.first_time(1)


async def test_remembered_ids_are_bounded() -> None:
    """Past `max_ids`, the oldest ids are forgotten first."""
    seen = RecentUpdateIds(max_ids=3, clock=FakeClock())
    for update_id in (1, 2, 3, 4):
        assert await seen.first_time(update_id)
    assert len(seen._seen) == 3
    assert await seen.first_time(1)
    assert not await seen.first_time(4)


# --- Bot API client and webhook command -------------------------------------------------------


async def test_api_errors_never_contain_the_token() -> None:
    """An `"ok": false` answer becomes TelegramApiError with Telegram's description, token redacted."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 403, "description": f"Forbidden: {request.path}"}, status=403)

    app = web.Application()
    app.router.add_post("/{path:.*}", refuse)
    async with TestServer(app, host="127.0.0.1") as server:
        api = TelegramApi(TOKEN, str(server.make_url("")))
        try:
            with pytest.raises(TelegramApiError, match="sendMessage: HTTP 403: Forbidden") as raised:
                await api.call("sendMessage", {"chat_id": "1", "text": "hi"})
        finally:
            await api.close()
    assert TOKEN not in str(raised.value) and "<token>" in str(raised.value)


async def test_unreachable_api_is_an_api_error() -> None:
    """A connection failure is a TelegramApiError too, not a crash."""
    api = TelegramApi(TOKEN, "http://127.0.0.1:9", timeout_s=5)
    try:
        with pytest.raises(TelegramApiError, match="getMe: ClientConnectorError"):
            await api.call("getMe", {})
    finally:
        await api.close()


@pytest.mark.parametrize(
    "command, method, params",
    [
        ("set-webhook", "setWebhook", {"url": "https://bot.example/webhooks/telegram/webhook", "secret_token": SECRET,
                                       "allowed_updates": ["message", "edited_message", "callback_query"],
                                       "drop_pending_updates": False}),
        ("delete-webhook", "deleteWebhook", {"drop_pending_updates": False}),
        ("info", "getWebhookInfo", {}),
    ],
)
def test_webhook_commands_call_the_right_method(command: str, method: str, params: Dict[str, Any]) -> None:
    """set-webhook sends the URL, the secret token and the update types the channel handles."""
    config = TelegramConfig(TOKEN, SECRET, webhook_url="https://bot.example/webhooks/telegram/webhook")
    assert webhook_request(command, config) == (method, params)


@pytest.mark.parametrize(
    "argv, env, missing",
    [
        (["set-webhook"], {}, "missing TELEGRAM_TOKEN, TELEGRAM_SECRET_TOKEN, TELEGRAM_WEBHOOK_URL"),
        (["set-webhook"], {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET}, "missing TELEGRAM_WEBHOOK_URL"),
        (["info"], {}, "missing TELEGRAM_TOKEN"),
        (["delete-webhook"], {"TELEGRAM_SECRET_TOKEN": SECRET}, "missing TELEGRAM_TOKEN"),
    ],
)
def test_webhook_command_names_missing_variables(argv: List[str], env: Dict[str, str], missing: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Without its variables the command exits 2 and says which to set, before any network call."""
    assert main(argv, env) == 2
    assert missing in capsys.readouterr().err
