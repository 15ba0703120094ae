"""Slack channel: Block Kit rendering, request interpretation, deduplication and signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Mapping, Optional
from urllib.parse import urlencode

import pytest
import yaml
from rasa.shared.exceptions import InvalidConfigException
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.channels.credentials import enabled_channels
from bot.channels.slack import (
    Answer,
    CommonGroundSlackBot,
    CommonGroundSlackInput,
    Incoming,
    RecentKeys,
    blocks_for,
    escaped_pieces,
    interpret_request,
    is_person_message,
    notification_text,
    unescape_slack,
)
from bot.config import PROJECT_ROOT

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER = "UBOT"
SLACK_SECTION = "bot.channels.slack.CommonGroundSlackInput"


def section(text: str) -> Dict[str, Any]:
    """An expected mrkdwn section block."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def actions(*choices: tuple) -> Dict[str, Any]:
    """An expected actions block with one button per (title, payload)."""
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": title, "emoji": True},
                "value": payload,
                "action_id": f"commonground_choice_{index}",
            }
            for index, (title, payload) in enumerate(choices)
        ],
    }


def context(*lines: str) -> Dict[str, Any]:
    """An expected context block with one mrkdwn element per line."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": line} for line in lines]}


@pytest.mark.parametrize(
    "reply, blocks",
    [
        pytest.param(
            {
                "text": "A mediator helps you talk.\n(Source: P2 of the firm's guide.)",
                "custom": {
                    "kind": "answer",
                    "topic": "mediator_role",
                    "sources": [{"paragraph": "P2", "quote": "The mediator does not decide."}],
                    "follow_ups": [{"title": "Tell me more", "payload": "/ask_more"},
                                   {"title": "Talk to a person", "payload": "/request_consultation"}],
                },
            },
            [
                section("A mediator helps you talk.\n(Source: P2 of the firm's guide.)"),
                context("P2: “The mediator does not decide.”"),
                actions(("Tell me more", "/ask_more"), ("Talk to a person", "/request_consultation")),
            ],
            id="answer-with-sources",
        ),
        pytest.param(
            {
                "text": "Has the other side threatened or harmed you?",
                "custom": {
                    "kind": "question",
                    "fact": "safety",
                    "options": [{"title": "Yes", "payload": "/affirm", "value": True},
                                {"title": "No", "payload": "/deny", "value": False},
                                {"title": "I'm not sure", "payload": "/unsure", "value": None}],
                },
            },
            [
                section("Has the other side threatened or harmed you?"),
                actions(("Yes", "/affirm"), ("No", "/deny"), ("I'm not sure", "/unsure")),
            ],
            id="question-options",
        ),
        pytest.param(
            {
                "text": "Did you mean one of these?",
                "custom": {
                    "kind": "fallback",
                    "suggestions": [{"topic": "impasse", "title": "Being stuck", "payload": "/impasse"},
                                    {"topic": "mediator_role", "title": "What a mediator does", "payload": "/mediator_role"}],
                    "follow_ups": [{"title": "Talk to a person", "payload": "/request_consultation"}],
                },
            },
            [
                section("Did you mean one of these?"),
                actions(("Being stuck", "/impasse"), ("What a mediator does", "/mediator_role"),
                        ("Talk to a person", "/request_consultation")),
            ],
            id="fallback-suggestions-then-follow-ups",
        ),
        pytest.param(
            {
                "text": "The firm's guide doesn't cover that.",
                "custom": {
                    "kind": "not_covered",
                    "follow_ups": [{"title": "Talk to a person", "payload": "/request_consultation"}],
                    "related": [{"topic": "what_is_mediation", "title": "What mediation is", "payload": "/what_is_mediation"}],
                },
            },
            [
                section("The firm's guide doesn't cover that."),
                actions(("Talk to a person", "/request_consultation"), ("What mediation is", "/what_is_mediation")),
            ],
            id="not-covered-person-then-related-topics",
        ),
        pytest.param(
            {"text": "You said <img src=x onerror=alert(1)> & <!channel>", "custom": {"kind": "info", "follow_ups": []}},
            [section("You said &lt;img src=x onerror=alert(1)&gt; &amp; &lt;!channel&gt;")],
            id="text-is-escaped",
        ),
        pytest.param(
            {
                "text": "Answer",
                "custom": {"kind": "answer", "sources": [{"paragraph": "P1", "quote": "<!here> & <b>"}], "follow_ups": []},
            },
            [section("Answer"), context("P1: “&lt;!here&gt; &amp; &lt;b&gt;”")],
            id="sources-are-escaped",
        ),
        pytest.param(
            {
                "text": "Court may suit you better. <@U123>",
                "custom": {"kind": "recommendation", "process": "court", "reasons": [{"fact": "safety"}],
                           "follow_ups": [{"title": "<Talk> & more", "payload": "/request_consultation"}]},
            },
            [section("Court may suit you better. &lt;@U123&gt;"), actions(("<Talk> & more", "/request_consultation"))],
            id="recommendation-keeps-text-plain-text-titles-unescaped",
        ),
        pytest.param(
            {"text": "If you are in immediate danger, call 112.", "custom": {"kind": "safety", "follow_ups": [
                {"title": "Talk to a person", "payload": "/request_consultation"}]}},
            [section("If you are in immediate danger, call 112."), actions(("Talk to a person", "/request_consultation"))],
            id="safety-keeps-text",
        ),
        pytest.param(
            {
                "text": "Pick one",
                "custom": {"kind": "question", "options": [{"title": "Yes", "payload": "/affirm"}, None,
                                                           {"title": "", "payload": "/x"}, {"title": "Again", "payload": "/affirm"},
                                                           {"title": "Long", "payload": "/" + "x" * 2000}],
                           "follow_ups": "not a list"},
                "buttons": [{"title": "Rasa button", "payload": "/deny"}],
            },
            [section("Pick one"), actions(("Yes", "/affirm"), ("Rasa button", "/deny"))],
            id="malformed-duplicate-and-oversized-buttons-skipped",
        ),
    ],
)
def test_blocks_for_each_reply_kind(reply: Dict[str, Any], blocks: List[Dict[str, Any]]) -> None:
    """Each reply becomes its escaped text, an answer's sources and one button per offered payload."""
    assert blocks_for(reply) == blocks


def test_button_titles_are_clipped_and_action_ids_unique() -> None:
    """Button text stays within Slack's 75 characters and every action_id differs."""
    reply = {"text": "t", "custom": {"follow_ups": [{"title": "x" * 100, "payload": f"/p{i}"} for i in range(30)]}}
    buttons = blocks_for(reply)[-1]["elements"]
    assert len(buttons) == 25
    assert all(len(b["text"]["text"]) <= 75 for b in buttons)
    assert len({b["action_id"] for b in buttons}) == len(buttons)


def test_long_text_is_split_into_sections_without_breaking_entities() -> None:
    """Text over 3000 characters (after escaping) is split into sections, at spaces, entities whole."""
    text = " ".join(["a&b<c>"] * 1500)
    pieces = escaped_pieces(text, 3000)
    assert len(pieces) > 1 and all(len(piece) <= 3000 for piece in pieces)
    assert " ".join(unescape_slack(piece) for piece in pieces) == text
    assert [block["text"]["text"] for block in blocks_for({"text": text})] == pieces


def test_notification_text_is_escaped() -> None:
    """The top-level fallback text is escaped like the blocks."""
    assert notification_text({"text": "<!channel> hi"}) == "&lt;!channel&gt; hi"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The current fake time."""
        return self.now


def test_recent_keys_tell_repeats_until_they_expire() -> None:
    """A key is new once, a repeat within the TTL, and new again after it."""
    clock = FakeClock()
    seen = RecentKeys(ttl_s=60, clock=clock)
    assert seen.first_time("event:Ev1") is True
    assert seen.first_time("event:Ev1") is False
    assert seen.first_time("event:Ev2") is True
    clock.now += 61
    assert seen.first_time("event:Ev1") is True
    assert len(seen) == 1


def test_recent_keys_are_bounded() -> None:
    """Beyond `max_keys` the oldest keys are forgotten first."""
    seen = RecentKeys(ttl_s=60, max_keys=3, clock=FakeClock())
    for key in "abcd":
        assert seen.first_time(key)
    assert len(seen) == 3
    assert seen.first_time("a") is True
    assert seen.first_time("d") is False


@pytest.mark.parametrize(
    "event, is_person",
    [
        ({"type": "message", "channel_type": "im", "user": "U1", "text": "hi"}, True),
        ({"type": "app_mention", "user": "U1", "text": "<@UBOT> hi"}, True),
        ({"type": "message", "subtype": "file_share", "user": "U1", "text": "see file"}, True),
        ({"type": "message", "user": "U1", "text": "hi", "bot_id": "B1"}, False),
        ({"type": "message", "subtype": "bot_message", "bot_id": "B1", "text": "hi"}, False),
        ({"type": "message", "user": "U2", "text": "hi", "bot_profile": {"id": "B2"}}, False),
        ({"type": "message", "subtype": "message_changed", "message": {"user": "U1", "text": "hi"}}, False),
        ({"type": "message", "subtype": "message_deleted", "previous_message": {"text": "hi"}}, False),
        ({"type": "message", "subtype": "channel_join", "user": "U1", "text": "<@U1> has joined"}, False),
        ({"type": "message", "user": BOT_USER, "text": "our own reply"}, False),
        ({"type": "message", "text": "no user"}, False),
        ({"type": "message", "user": "U1"}, False),
        ({"type": "reaction_added", "user": "U1", "text": "x"}, False),
    ],
)
def test_only_people_s_new_messages_are_handled(event: Dict[str, Any], is_person: bool) -> None:
    """Bots (this one included), edits, deletions and joins are not messages to answer."""
    assert is_person_message(event, (BOT_USER,)) is is_person


def envelope(event: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    """An Events API envelope around `event`."""
    return {"type": "event_callback", "event_id": "Ev1", "event": event,
            "authorizations": [{"user_id": BOT_USER, "is_bot": True}], **extra}


def as_json(body: Any) -> bytes:
    """A JSON request body."""
    return json.dumps(body).encode()


def as_form(payload: Any) -> bytes:
    """An interactivity request body: the payload as the form field `payload`."""
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


JSON, FORM = "application/json", "application/x-www-form-urlencoded"
DM = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1", "ts": "1.000100"}
CLICK = {"type": "block_actions", "trigger_id": "T.1", "user": {"id": "U1"}, "channel": {"id": "D1"},
         "message": {"ts": "2.0"}, "actions": [{"type": "button", "value": "/deny", "action_ts": "3.0"}]}


@pytest.mark.parametrize(
    "content_type, body, expected",
    [
        (JSON, as_json({"type": "url_verification", "challenge": "c1"}), Answer(200, {"challenge": "c1"})),
        (JSON, as_json({"type": "url_verification"}), Answer(400, {"error": "'challenge' must be a non-empty string"})),
        (JSON, b"{not json", Answer(400, {"error": "the body is not valid JSON"})),
        (JSON, b"\xff\xfe", Answer(400, {"error": "the body is not valid JSON"})),
        (JSON, as_json(["a"]), Answer(400, {"error": "the body must be a JSON object"})),
        (JSON, as_json({"event": {}}), Answer(400, {"error": "'type' must be a non-empty string"})),
        (JSON, as_json({"type": "app_rate_limited"}), Answer(200, {"ok": True, "ignored": "not an event callback"})),
        (JSON, as_json({"type": "event_callback", "event_id": "Ev1", "event": "x"}), Answer(400, {"error": "'event' must be an object"})),
        (JSON, as_json({"type": "event_callback", "event": DM}), Answer(400, {"error": "'event_id' must be a non-empty string"})),
        (JSON, as_json(envelope({**DM, "text": "hi", "bot_id": "B1"})), Answer(200, {"ok": True, "ignored": "not a person's new message"})),
        (JSON, as_json(envelope({**DM, "text": "<@UBOT>"})), Answer(200, {"ok": True, "ignored": "the message is empty"})),
        (JSON, as_json(envelope({**DM, "text": "\u200b \n"})), Answer(200, {"ok": True, "ignored": "the message is empty"})),
        ("application/json; charset=utf-8", as_json(envelope({**DM, "text": "a &lt; b &amp;&gt; c"})),
         Incoming(text="a < b &> c", user="U1", channel="D1", thread_ts="1.000100", addressed=True,
                  keys=("event:Ev1", "message:D1:1.000100"), users=(BOT_USER,))),
        (JSON, as_json(envelope({"type": "app_mention", "channel": "C1", "user": "U1", "text": "<@UBOT> which process?",
                                 "ts": "5.0", "thread_ts": "4.0"})),
         Incoming(text="which process?", user="U1", channel="C1", thread_ts="4.0", addressed=True,
                  keys=("event:Ev1", "message:C1:5.0"), users=(BOT_USER,))),
        (JSON, as_json(envelope({"type": "message", "channel_type": "channel", "channel": "C1", "user": "U1", "text": "hi", "ts": "5.0"})),
         Incoming(text="hi", user="U1", channel="C1", thread_ts="5.0", addressed=False,
                  keys=("event:Ev1", "message:C1:5.0"), users=(BOT_USER,))),
        (FORM, as_form(CLICK), Incoming(text="/deny", user="U1", channel="D1", thread_ts="2.0", addressed=True,
                                        keys=("interaction:T.1",), users=("U1",))),
        (FORM, as_form({**CLICK, "trigger_id": None}), Incoming(text="/deny", user="U1", channel="D1", thread_ts="2.0",
                                                                addressed=True, keys=("interaction:U1:3.0",), users=("U1",))),
        (FORM, as_form({**CLICK, "actions": [{"type": "button", "url": "https://x"}]}),
         Answer(200, {"ok": True, "ignored": "not a button with a value"})),
        (FORM, as_form({**CLICK, "type": "view_submission"}), Answer(200, {"ok": True, "ignored": "not a block action"})),
        (FORM, as_form({**CLICK, "user": {}}), Answer(400, {"error": "'payload.user.id' must be a non-empty string"})),
        (FORM, as_form({**CLICK, "actions": []}), Answer(400, {"error": "'payload.actions' must be a non-empty list of objects"})),
        (FORM, as_form({"user": {"id": "U1"}}), Answer(400, {"error": "'payload.type' must be a non-empty string"})),
        (FORM, as_form("{broken"), Answer(400, {"error": "'payload' is not valid JSON"})),
        (FORM, as_form([1]), Answer(400, {"error": "'payload' must be a JSON object"})),
        (FORM, b"text=hello", Answer(400, {"error": "the form has no 'payload' field"})),
        ("text/plain", b"hello", Answer(415, {"error": "expected application/json or application/x-www-form-urlencoded"})),
        ("", b"", Answer(415, {"error": "expected application/json or application/x-www-form-urlencoded"})),
    ],
)
def test_requests_are_interpreted(content_type: str, body: bytes, expected: Any) -> None:
    """Valid messages and clicks pass on; URL checks are answered; bad input gets a 4xx naming why."""
    assert interpret_request(content_type, body) == expected


def signed_request(body: bytes, timestamp: Optional[int] = None, secret: str = SECRET, signature: Optional[str] = None) -> Any:
    """A stand-in request with Slack's signature headers."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature or f"v0={digest}"}
    return SimpleNamespace(headers=headers, body=body)


def slack_input(**credentials: Any) -> CommonGroundSlackInput:
    """The channel built from a credentials section."""
    return CommonGroundSlackInput.from_credentials({"slack_token": "xoxb-1", "slack_signing_secret": SECRET, **credentials})


@pytest.mark.parametrize(
    "make_request, authentic",
    [
        (lambda: signed_request(b"{}"), True),
        (lambda: signed_request(b"{}", secret="not-the-secret"), False),
        (lambda: signed_request(b"{}", signature="v0=00"), False),
        (lambda: signed_request(b"{}", timestamp=int(time.time()) - 6 * 60), False),
        (lambda: signed_request(b"{}", timestamp=int(time.time()) + 6 * 60), False),
        (lambda: SimpleNamespace(headers={}, body=b"{}"), False),
    ],
    ids=["signed now", "wrong secret", "wrong signature", "6 min old", "6 min ahead", "unsigned"],
)
def test_signatures_and_timestamps_are_checked(make_request: Callable[[], Any], authentic: bool) -> None:
    """Only bodies signed with the signing secret within five minutes count as Slack's (stamped when the test runs)."""
    assert slack_input().is_request_from_slack_authentic(make_request()) is authentic


def test_malformed_timestamp_is_not_authentic(caplog: pytest.LogCaptureFixture) -> None:
    """A timestamp that is not a number fails the check instead of raising."""
    request_ = SimpleNamespace(headers={"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=1"}, body=b"{}")
    with caplog.at_level(logging.CRITICAL):
        assert slack_input().is_request_from_slack_authentic(request_) is False


def test_output_channel_uses_the_configured_api_url() -> None:
    """`api_url` points the Web API client at another server (the tests' fake Slack)."""
    output = slack_input(api_url="http://127.0.0.1:9/api/").get_output_channel("D1", None)
    assert isinstance(output, CommonGroundSlackBot)
    assert output.client.base_url == "http://127.0.0.1:9/api/"
    assert output.slack_channel == "D1"


@pytest.mark.parametrize(
    "credentials, missing",
    [({"slack_token": "", "slack_signing_secret": SECRET}, "slack_token"),
     ({"slack_token": "xoxb-1", "slack_signing_secret": ""}, "signing secret")],
)
def test_missing_secrets_stop_start_up(credentials: Dict[str, str], missing: str) -> None:
    """A channel without its token or signing secret refuses to start."""
    with pytest.raises(InvalidConfigException, match=missing):
        CommonGroundSlackInput.from_credentials(credentials)


@pytest.mark.parametrize(
    "env, section",
    [
        ({}, None),
        ({"SLACK_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
         {"slack_token": "${SLACK_TOKEN}", "slack_signing_secret": "${SLACK_SIGNING_SECRET}", "api_url": "https://slack.com/api/"}),
        ({"SLACK_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:9/api/"},
         {"slack_token": "${SLACK_TOKEN}", "slack_signing_secret": "${SLACK_SIGNING_SECRET}", "api_url": "http://127.0.0.1:9/api/"}),
    ],
)
def test_credentials_enable_slack_only_with_its_secrets(env: Mapping[str, str], section: Optional[dict]) -> None:
    """credentials.yml's Slack section runs only when SLACK_TOKEN and SLACK_SIGNING_SECRET are set."""
    channels = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8"))
    assert enabled_channels(channels, env).get(SLACK_SECTION) == section


class RecordingClient:
    """Stands in for the Web API client: records posts, or fails as Slack does."""

    def __init__(self, error: Optional[str] = None) -> None:
        self.posts: List[Dict[str, Any]] = []
        self.error = error

    async def chat_postMessage(self, **kwargs: Any) -> None:
        """Record the post, or raise Slack's error."""
        if self.error:
            response = AsyncSlackResponse(client=None, http_verb="POST", api_url="x", req_args={},
                                          data={"ok": False, "error": self.error}, headers={}, status_code=200)
            raise SlackApiError(self.error, response)
        self.posts.append(kwargs)


async def test_reply_is_posted_as_one_message_of_blocks() -> None:
    """A reply's text and payload go out together in one chat.postMessage, counted as one reply."""
    output = slack_input().get_output_channel("D1", None)
    output.client = RecordingClient()  # type: ignore[assignment]
    reply = {"text": "Pick", "custom": {"kind": "question", "options": [{"title": "Yes", "payload": "/affirm"}]}}
    await output.send_response("U1", reply)
    assert output.client.posts == [{"channel": "D1", "text": "Pick", "blocks": blocks_for(reply),  # type: ignore[attr-defined]
                                    "unfurl_links": False, "unfurl_media": False}]
    assert output.replies_sent == 1


async def test_refused_post_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    """When Slack refuses a post, the error is logged and the conversation carries on."""
    output = slack_input().get_output_channel("D1", None)
    output.client = RecordingClient(error="channel_not_found")  # type: ignore[assignment]
    await output.send_response("U1", {"text": "hi"})
    assert "channel_not_found" in caplog.text


class RecordingSlackInput(CommonGroundSlackInput):
    """The channel with every output channel posting to one RecordingClient."""

    def __init__(self) -> None:
        super().__init__("xoxb-1", slack_signing_secret=SECRET)
        self.client = RecordingClient()

    def get_output_channel(self, channel: Optional[str] = None, thread_id: Optional[str] = None) -> CommonGroundSlackBot:
        """An output channel that records instead of posting."""
        output = super().get_output_channel(channel, thread_id)
        output.client = self.client  # type: ignore[assignment]
        return output


CLICKED_DENY = Incoming(text="/deny", user="U1", channel="D1", thread_ts="2.0", addressed=True)


async def test_handled_text_is_screened_and_answered_in_its_channel() -> None:
    """An unoffered `/deny` reaches Rasa as plain text from the user's conversation; its reply goes to the DM."""
    channel = RecordingSlackInput()
    received: List[Any] = []

    async def on_new_message(message: Any) -> None:
        received.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "Next question"})

    await channel._handle(CLICKED_DENY, on_new_message, agent=None)
    assert [(m.text, m.sender_id, m.input_channel) for m in received] == [("deny", "U1", "slack")]
    assert [(post["channel"], post["text"]) for post in channel.client.posts] == [("D1", "Next question")]


async def test_silence_gets_the_apology() -> None:
    """When the assistant sends nothing, the user gets the shared apology instead of silence."""
    channel = RecordingSlackInput()

    async def on_new_message(message: Any) -> None:
        return None

    await channel._handle(CLICKED_DENY, on_new_message, agent=None)
    [post] = channel.client.posts
    assert post["channel"] == "D1" and post["text"]
