"""End to end over Telegram: the real servers, webhook updates posted as Telegram does, a local fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import subprocess
import sys
import threading
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests
from aiohttp import web

from bot.channels.telegram import EDIT_NOTICE, SECRET_HEADER, TEXT_ONLY_NOTICE
from bot.config import PROJECT_ROOT
from tests.e2e.conftest import Servers, free_port, start_servers

pytestmark = pytest.mark.e2e

TOKEN = "123456:E2E-fake_token"
SECRET = "e2e-secret-token-0123456789"
BLOCKED_CHAT = 403403
REPLY_TIMEOUT_S = 60
_update_ids = itertools.count(random.randint(1, 10**6))


class FakeTelegram:
    """A local Bot API on 127.0.0.1 in its own thread: records each call, answers `{"ok": true, ...}`.

    sendMessage to BLOCKED_CHAT fails the way Telegram does when a user has blocked the bot.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.calls: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: Optional[web.AppRunner] = None

    @property
    def url(self) -> str:
        """The base URL to give as TELEGRAM_API_URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve in a background thread."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._answer)
        self._runner = web.AppRunner(app)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)

    def stop(self) -> None:
        """Stop serving and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def calls_to(self, method: str, chat_id: Optional[int] = None) -> List[Dict[str, Any]]:
        """The parameters of every call to `method` (for one chat, when given)."""
        with self._lock:
            return [call["params"] for call in self.calls if call["method"] == method
                    and (chat_id is None or call["params"].get("chat_id") == str(chat_id))]

    async def _serve(self) -> None:
        assert self._runner is not None
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _answer(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method, params = request.match_info["method"], await request.json()
        with self._lock:
            self.calls.append({"method": method, "params": params})
        if method == "sendMessage" and params.get("chat_id") == str(BLOCKED_CHAT):
            return web.json_response({"ok": False, "error_code": 403,
                                      "description": "Forbidden: bot was blocked by the user"}, status=403)
        result: Any = {"message_id": len(self.calls), **params} if method == "sendMessage" else True
        return web.json_response({"ok": True, "result": result})


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegram]:
    """The fake Bot API, running for this module."""
    fake = FakeTelegram()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def telegram_servers(tmp_path_factory: pytest.TempPathFactory, fake_telegram: FakeTelegram) -> Iterator[Servers]:
    """Both servers with the Telegram channel enabled and pointed at the fake Bot API (as the `servers` fixture)."""
    running = start_servers(tmp_path_factory.mktemp("e2e-telegram"), {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_SECRET_TOKEN": SECRET,
        "TELEGRAM_API_URL": fake_telegram.url,
    })
    yield running
    running.stop()


def new_chat() -> int:
    """A fresh private chat id (the conversation id)."""
    return random.randint(10**8, 10**9)


def message_update(chat_id: int, **content: Any) -> Dict[str, Any]:
    """A `message` update from a private chat with the given content (`text=...`, `sticker=...`)."""
    return {"update_id": next(_update_ids),
            "message": {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "private"},
                        "from": {"id": chat_id, "is_bot": False, "first_name": "E2E"}, **content}}


def post(servers: Servers, body: Any, secret: Optional[str] = SECRET) -> requests.Response:
    """POST a webhook request the way Telegram does (JSON body, secret token header)."""
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    url = f"http://localhost:{servers.env['RASA_PORT']}/webhooks/telegram/webhook"
    if isinstance(body, str):
        return requests.post(url, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=REPLY_TIMEOUT_S)
    return requests.post(url, json=body, headers=headers, timeout=REPLY_TIMEOUT_S)


def keyboard_payloads(message: Dict[str, Any]) -> List[str]:
    """The callback data of every button in a sent message's inline keyboard."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


def test_text_message_gets_one_message_with_the_options_keyboard(telegram_servers: Servers, fake_telegram: FakeTelegram) -> None:
    """A question gets one plain-text sendMessage to the chat with Yes/No buttons carrying their payloads."""
    chat = new_chat()
    assert post(telegram_servers, message_update(chat, text="which process should I use?")).status_code == 200
    sent = fake_telegram.calls_to("sendMessage", chat)
    assert len(sent) == 1
    assert sent[0]["text"].strip() and "parse_mode" not in sent[0]
    rows = sent[0]["reply_markup"]["inline_keyboard"]
    assert {"text": "Yes", "callback_data": "/affirm"} in [button for row in rows for button in row]
    assert {"/affirm", "/deny"} <= set(keyboard_payloads(sent[0]))


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-token-000000", SECRET + "x"])
def test_requests_without_the_secret_token_are_refused(telegram_servers: Servers, fake_telegram: FakeTelegram,
                                                       secret: Optional[str]) -> None:
    """A missing or wrong secret token gets 403 and the update is not processed."""
    chat = new_chat()
    answer = post(telegram_servers, message_update(chat, text="hello"), secret=secret)
    assert answer.status_code == 403
    assert fake_telegram.calls_to("sendMessage", chat) == []


def test_redelivered_update_is_handled_once(telegram_servers: Servers, fake_telegram: FakeTelegram) -> None:
    """The same update_id twice gets 200 both times but only one round of replies."""
    chat = new_chat()
    update = message_update(chat, text="hello")
    assert post(telegram_servers, update).status_code == 200
    replies = len(fake_telegram.calls_to("sendMessage", chat))
    assert replies >= 1
    assert post(telegram_servers, update).status_code == 200
    assert len(fake_telegram.calls_to("sendMessage", chat)) == replies


def test_button_press_continues_the_conversation(telegram_servers: Servers, fake_telegram: FakeTelegram) -> None:
    """Pressing "No" answers the callback (spinner stops) and the next question arrives."""
    chat = new_chat()
    post(telegram_servers, message_update(chat, text="which process should I use?"))
    [question] = fake_telegram.calls_to("sendMessage", chat)
    press = {"update_id": next(_update_ids),
             "callback_query": {"id": f"cb-{chat}", "data": "/deny", "chat_instance": "1",
                                "from": {"id": chat, "is_bot": False, "first_name": "E2E"},
                                "message": {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}}}}
    assert post(telegram_servers, press).status_code == 200
    assert {"callback_query_id": f"cb-{chat}"} in fake_telegram.calls_to("answerCallbackQuery")
    sent = fake_telegram.calls_to("sendMessage", chat)
    assert len(sent) >= 2
    next_question = sent[1]
    assert next_question["text"] != question["text"]
    assert keyboard_payloads(next_question), "the next question offers its options as buttons"


def test_start_command_greets(telegram_servers: Servers, fake_telegram: FakeTelegram) -> None:
    """Telegram's /start gets the same reply as "hello"."""
    texts = []
    for text in ("/start", "hello"):
        chat = new_chat()
        post(telegram_servers, message_update(chat, text=text))
        texts.append([message["text"] for message in fake_telegram.calls_to("sendMessage", chat)])
    assert texts[0] and texts[0] == texts[1]


@pytest.mark.parametrize(
    "update_key, content, notice",
    [
        ("message", {"sticker": {"file_id": "x", "width": 1, "height": 1, "is_animated": False}}, TEXT_ONLY_NOTICE),
        ("message", {"photo": [{"file_id": "x", "width": 1, "height": 1}], "caption": "hello"}, TEXT_ONLY_NOTICE),
        ("edited_message", {"text": "which process should I use??", "edit_date": 1}, EDIT_NOTICE),
    ],
)
def test_non_text_updates_get_a_polite_notice(telegram_servers: Servers, fake_telegram: FakeTelegram,
                                              update_key: str, content: Dict[str, Any], notice: str) -> None:
    """Stickers, photos and edits in a private chat get 200 and one short notice, and the chat goes on."""
    chat = new_chat()
    update = message_update(chat, **content)
    update[update_key] = update.pop("message")
    assert post(telegram_servers, update).status_code == 200
    assert [message["text"] for message in fake_telegram.calls_to("sendMessage", chat)] == [notice]
    assert post(telegram_servers, message_update(chat, text="hello")).status_code == 200
    assert len(fake_telegram.calls_to("sendMessage", chat)) >= 2


def test_other_update_types_are_accepted_and_ignored(telegram_servers: Servers, fake_telegram: FakeTelegram) -> None:
    """An update the bot does not handle (the user blocked it) gets 200 and no message."""
    chat = new_chat()
    update = {"update_id": next(_update_ids),
              "my_chat_member": {"chat": {"id": chat, "type": "private"}, "date": 0,
                                 "new_chat_member": {"status": "kicked"}, "old_chat_member": {"status": "member"}}}
    assert post(telegram_servers, update).status_code == 200
    assert fake_telegram.calls_to("sendMessage", chat) == []


def test_failed_send_still_answers_200(telegram_servers: Servers, fake_telegram: FakeTelegram) -> None:
    """When Telegram refuses the reply (bot blocked), the update is still acknowledged with 200."""
    assert post(telegram_servers, message_update(BLOCKED_CHAT, text="hello")).status_code == 200
    assert fake_telegram.calls_to("sendMessage", BLOCKED_CHAT)


@pytest.mark.parametrize("body", ['{"update_id": 1, "message": ', "[1, 2]", '"text"', "{}", '{"update_id": "7"}'])
def test_malformed_bodies_with_the_right_secret_get_400(telegram_servers: Servers, body: str) -> None:
    """Authenticated requests that are not JSON update objects get 400."""
    assert post(telegram_servers, body).status_code == 400


def test_set_webhook_command_registers_the_secret(fake_telegram: FakeTelegram) -> None:
    """`python -m bot.channels.telegram set-webhook` calls setWebhook with the URL, secret token and update types."""
    url = "https://bot.example.org/webhooks/telegram/webhook"
    env = {**os.environ, "TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET,
           "TELEGRAM_WEBHOOK_URL": url, "TELEGRAM_API_URL": fake_telegram.url}
    done = subprocess.run([sys.executable, "-m", "bot.channels.telegram", "set-webhook"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"result": true' in done.stdout and TOKEN not in done.stdout + done.stderr
    assert fake_telegram.calls_to("setWebhook")[-1] == {
        "url": url, "secret_token": SECRET, "allowed_updates": ["message", "edited_message", "callback_query"],
        "drop_pending_updates": False,
    }
