"""End to end over Slack: signed Events API and button clicks in, chat.postMessage to a fake Slack out."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import uuid
from typing import Any, Dict, Iterator, List, Mapping, Optional
from urllib.parse import urlencode

import pytest
import requests
from aiohttp import web

from tests.e2e.conftest import Servers, free_port, start_servers

pytestmark = pytest.mark.e2e

TOKEN = "xoxb-e2e-token"
SECRET = "e2e-signing-secret"
BOT_USER = "UCOMMONGROUND"
REPLY_TIMEOUT_S = 60
SETTLE_S = 2.0
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
QUESTION_PAYLOADS = ["/affirm", "/deny", "/unsure"]


class FakeSlackApi:
    """A local stand-in for Slack's Web API, on its own thread, recording chat.postMessage calls."""

    def __init__(self) -> None:
        self.port = free_port()
        self.posts: List[Dict[str, Any]] = []
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.runner: Optional[web.AppRunner] = None
        self.thread = threading.Thread(target=self._serve, name="fake-slack", daemon=True)
        self.ready = threading.Event()

    @property
    def api_url(self) -> str:
        """The base URL to give the Slack client."""
        return f"http://127.0.0.1:{self.port}/api/"

    async def _post_message(self, request: web.Request) -> web.Response:
        body = dict(await request.json()) if request.content_type == JSON else dict(await request.post())
        if isinstance(body.get("blocks"), str):
            body["blocks"] = json.loads(body["blocks"])
        ts = f"{time.time():.6f}"
        with self.lock:
            self.posts.append({**body, "ts": ts, "authorization": request.headers.get("Authorization")})
        return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts})

    async def _unknown(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/chat.postMessage", self._post_message)
        app.router.add_route("*", "/api/{method}", self._unknown)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())  # type: ignore[union-attr]
        self.loop.close()

    def start(self) -> None:
        """Serve until `stop`."""
        self.thread.start()
        assert self.ready.wait(10), "the fake Slack API did not start"

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def posts_to(self, channel: str) -> List[Dict[str, Any]]:
        """The messages posted to `channel` so far."""
        with self.lock:
            return [post for post in self.posts if post.get("channel") == channel]

    def wait_for_posts(self, channel: str, count: int) -> List[Dict[str, Any]]:
        """The messages posted to `channel` once there are at least `count` of them."""
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        while len(self.posts_to(channel)) < count:
            assert time.monotonic() < deadline, f"{count} posts to {channel} expected, got {self.posts_to(channel)}"
            time.sleep(0.2)
        return self.posts_to(channel)

    def settled_posts(self, channel: str, count: int) -> List[Dict[str, Any]]:
        """Exactly `count` posts to `channel`, still so a moment later (nothing else on its way)."""
        self.wait_for_posts(channel, count)
        time.sleep(SETTLE_S)
        posts = self.posts_to(channel)
        assert len(posts) == count, posts
        return posts


@pytest.fixture(scope="module")
def fake_slack() -> Iterator[FakeSlackApi]:
    """A fake Slack Web API on a free loopback port."""
    api = FakeSlackApi()
    api.start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def slack_servers(tmp_path_factory: pytest.TempPathFactory, fake_slack: FakeSlackApi) -> Iterator[Servers]:
    """Both servers with the Slack channel enabled and pointed at the fake Slack API."""
    slack_env = {"SLACK_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake_slack.api_url}
    running = start_servers(tmp_path_factory.mktemp("e2e-slack"), slack_env)
    yield running
    running.stop()


def slack_webhook(servers: Servers) -> str:
    """The Slack channel's webhook URL."""
    return f"http://localhost:{servers.env['RASA_PORT']}/webhooks/slack/webhook"


def post_signed(
    servers: Servers,
    body: bytes,
    content_type: str = JSON,
    timestamp: Optional[int] = None,
    secret: str = SECRET,
    headers: Optional[Mapping[str, str]] = None,
) -> requests.Response:
    """POST `body` to the Slack webhook, signed as Slack signs it."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    signed = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    return requests.post(slack_webhook(servers), data=body, headers={**signed, **(headers or {})}, timeout=30)


def new_conversation() -> tuple:
    """A fresh (user id, DM channel id)."""
    suffix = uuid.uuid4().hex[:10].upper()
    return f"U{suffix}", f"D{suffix}"


def message_event(user: str, channel: str, text: str, **extra: Any) -> Dict[str, Any]:
    """An Events API `message.im` envelope, as Slack sends it."""
    return {
        "type": "event_callback",
        "team_id": "T0E2E",
        "api_app_id": "A0E2E",
        "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0E2E", "user_id": BOT_USER, "is_bot": True}],
        "event": {"type": "message", "channel_type": "im", "channel": channel, "user": user, "text": text,
                  "ts": f"{time.time():.6f}", **extra},
    }


def as_json(body: Any) -> bytes:
    """A JSON request body."""
    return json.dumps(body).encode()


def buttons(post: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """The buttons in a posted message's blocks."""
    return [element for block in post.get("blocks") or [] if block["type"] == "actions" for element in block["elements"]]


def section_text(post: Mapping[str, Any]) -> str:
    """The text of a posted message's sections."""
    return "\n".join(block["text"]["text"] for block in post.get("blocks") or [] if block["type"] == "section")


def ask_which_process(servers: Servers, fake_slack: FakeSlackApi, user: str, channel: str) -> Dict[str, Any]:
    """Send "which process should I use?" in a fresh DM; the one question posted back."""
    event = message_event(user, channel, "which process should I use?")
    assert post_signed(servers, as_json(event)).status_code == 200
    [question] = fake_slack.wait_for_posts(channel, 1)
    return question


def test_message_gets_one_reply_with_buttons(slack_servers: Servers, fake_slack: FakeSlackApi) -> None:
    """A direct message gets exactly one chat.postMessage: the question, its options as buttons."""
    user, channel = new_conversation()
    ask_which_process(slack_servers, fake_slack, user, channel)
    [post] = fake_slack.settled_posts(channel, 1)
    assert post["authorization"] == f"Bearer {TOKEN}"
    assert section_text(post) and post["text"]
    assert [b["value"] for b in buttons(post)] == QUESTION_PAYLOADS
    assert len({b["action_id"] for b in buttons(post)}) == len(QUESTION_PAYLOADS)


@pytest.mark.parametrize(
    "signing",
    [
        pytest.param({"secret": "not-the-signing-secret"}, id="bad-signature"),
        pytest.param({"timestamp": int(time.time()) - 10 * 60}, id="stale-timestamp"),
    ],
)
def test_unauthentic_requests_are_rejected(slack_servers: Servers, fake_slack: FakeSlackApi, signing: Dict[str, Any]) -> None:
    """A wrongly signed or replayed event gets a 4xx and no reply; a genuine one after it is answered."""
    user, channel = new_conversation()
    rejected = post_signed(slack_servers, as_json(message_event(user, channel, "hello")), **signing)
    assert 400 <= rejected.status_code < 500
    assert post_signed(slack_servers, as_json(message_event(user, channel, "which process should I use?"))).status_code == 200
    [post] = fake_slack.settled_posts(channel, 1)
    assert [b["value"] for b in buttons(post)] == QUESTION_PAYLOADS


def test_retries_and_redeliveries_get_no_second_reply(slack_servers: Servers, fake_slack: FakeSlackApi) -> None:
    """The same event again, retried for any reason or redelivered, is acknowledged and not answered."""
    user, channel = new_conversation()
    event = message_event(user, channel, "which process should I use?")
    assert post_signed(slack_servers, as_json(event)).status_code == 200
    fake_slack.wait_for_posts(channel, 1)
    for number, reason in [("1", "http_timeout"), ("2", "http_error"), ("3", "connection_failed")]:
        retry = post_signed(slack_servers, as_json(event),
                            headers={"X-Slack-Retry-Num": number, "X-Slack-Retry-Reason": reason})
        assert retry.status_code == 200 and retry.headers.get("X-Slack-No-Retry") == "1"
    assert post_signed(slack_servers, as_json(event)).status_code == 200
    fake_slack.settled_posts(channel, 1)


def test_bot_messages_get_no_reply(slack_servers: Servers, fake_slack: FakeSlackApi) -> None:
    """Messages from bots, this one included, are acknowledged and not answered."""
    user, channel = new_conversation()
    for extra in [{"bot_id": "B0OTHER"}, {"subtype": "bot_message", "bot_id": "B0OTHER"}, {"user": BOT_USER}]:
        event = message_event(user, channel, "which process should I use?")
        event["event"].update(extra)
        assert post_signed(slack_servers, as_json(event)).status_code == 200
    ask_which_process(slack_servers, fake_slack, user, channel)
    fake_slack.settled_posts(channel, 1)


def test_button_click_continues_the_conversation(slack_servers: Servers, fake_slack: FakeSlackApi) -> None:
    """Clicking "No" on the safety question posts the next question; the same click again does nothing."""
    user, channel = new_conversation()
    question = ask_which_process(slack_servers, fake_slack, user, channel)
    [deny] = [b for b in buttons(question) if b["value"] == "/deny"]
    click = {
        "type": "block_actions",
        "trigger_id": f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex[:8]}",
        "user": {"id": user, "team_id": "T0E2E"},
        "team": {"id": "T0E2E"},
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": question["ts"], "channel_id": channel},
        "message": {"ts": question["ts"], "type": "message"},
        "actions": [{**deny, "block_id": "b1", "action_ts": f"{time.time():.6f}"}],
    }
    body = urlencode({"payload": json.dumps(click)}).encode()
    assert post_signed(slack_servers, body, content_type=FORM).status_code == 200
    assert post_signed(slack_servers, body, content_type=FORM).status_code == 200
    first, following = fake_slack.settled_posts(channel, 2)
    assert [b["value"] for b in buttons(following)] == QUESTION_PAYLOADS
    assert section_text(following) != section_text(first)


@pytest.mark.parametrize(
    "body, content_type, status, answer",
    [
        (as_json({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}), JSON, 200,
         {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}),
        (b"{not json", JSON, 400, {"error": "the body is not valid JSON"}),
        (as_json({"type": "event_callback", "event": {"type": "message"}}), JSON, 400, {"error": "'event_id' must be a non-empty string"}),
        (b"text=hello", FORM, 400, {"error": "the form has no 'payload' field"}),
        (urlencode({"payload": "{broken"}).encode(), FORM, 400, {"error": "'payload' is not valid JSON"}),
        (urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})}).encode(), FORM, 400,
         {"error": "'payload.user.id' must be a non-empty string"}),
        (b"hello", "text/plain", 415, {"error": "expected application/json or application/x-www-form-urlencoded"}),
    ],
)
def test_bad_requests_get_4xx_and_the_url_check_its_challenge(
    slack_servers: Servers, body: bytes, content_type: str, status: int, answer: Dict[str, Any]
) -> None:
    """Signed but malformed requests get a 4xx naming the problem (never 5xx); the URL check gets its challenge."""
    reply = post_signed(slack_servers, body, content_type=content_type)
    assert (reply.status_code, reply.json()) == (status, answer)


def test_unsigned_url_check_is_rejected(slack_servers: Servers) -> None:
    """Even the URL check must be signed."""
    body = as_json({"type": "url_verification", "challenge": "c"})
    reply = requests.post(slack_webhook(slack_servers), data=body, headers={"Content-Type": JSON}, timeout=30)
    assert reply.status_code == 401
