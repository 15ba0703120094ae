"""Two replicas sharing Redis (REDIS_URL): a delivery reaching both is answered once; the rate limit holds across them.

Each replica is a real action server and Rasa server (scripts/run.sh) with Slack and Telegram enabled
against the fakes of test_slack_channel.py and test_telegram_channel.py.
"""

from __future__ import annotations

import os
import uuid
from typing import Iterator, Tuple

import pytest
import redis
import requests

from bot.messages import message
from tests.e2e.conftest import Servers, start_servers
from tests.e2e.test_slack_channel import SECRET as SLACK_SECRET
from tests.e2e.test_slack_channel import TOKEN as SLACK_TOKEN
from tests.e2e.test_slack_channel import FakeSlackApi, as_json, message_event, new_conversation, post_signed
from tests.e2e.test_telegram_channel import SECRET as TELEGRAM_SECRET
from tests.e2e.test_telegram_channel import TOKEN as TELEGRAM_TOKEN
from tests.e2e.test_telegram_channel import FakeTelegram, message_update, new_chat, post

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/9"
RATE_LIMIT = 3


@pytest.fixture(scope="module")
def fakes() -> Iterator[Tuple[FakeSlackApi, FakeTelegram]]:
    """The fake Slack Web API and Telegram Bot API."""
    slack, telegram = FakeSlackApi(), FakeTelegram()
    slack.start()
    telegram.start()
    yield slack, telegram
    slack.stop()
    telegram.stop()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, fakes: Tuple[FakeSlackApi, FakeTelegram]) -> Iterator[Tuple[Servers, Servers]]:
    """Two independent server pairs sharing one Redis database (emptied first) for their shared state."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379 (required under CI=true)")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    slack, telegram = fakes
    env = {
        "REDIS_URL": REDIS_URL,
        "RATE_LIMIT_MESSAGES": str(RATE_LIMIT),
        "RATE_LIMIT_WINDOW_SECONDS": "60",
        "SLACK_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_API_URL": slack.api_url,
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET, "TELEGRAM_API_URL": telegram.url,
    }
    first = start_servers(tmp_path_factory.mktemp("replica-a"), env)
    try:
        second = start_servers(tmp_path_factory.mktemp("replica-b"), env)
    except BaseException:
        first.stop()
        raise
    yield first, second
    second.stop()
    first.stop()


@pytest.mark.parametrize("retry", [False, True])
def test_slack_event_delivered_to_both_replicas_is_answered_once(
    replicas: Tuple[Servers, Servers], fakes: Tuple[FakeSlackApi, FakeTelegram], retry: bool
) -> None:
    """The same event on replica A, then (as a redelivery or Slack's retry) on replica B: one reply."""
    slack, _ = fakes
    user, channel = new_conversation()
    event = as_json(message_event(user, channel, "which process should I use?"))
    assert post_signed(replicas[0], event).status_code == 200
    slack.wait_for_posts(channel, 1)
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
    again = post_signed(replicas[1], event, headers=headers)
    assert again.status_code == 200 and again.headers.get("X-Slack-No-Retry") == "1"
    slack.settled_posts(channel, 1)


def test_slack_retry_of_a_delivery_no_replica_received_is_answered(
    replicas: Tuple[Servers, Servers], fakes: Tuple[FakeSlackApi, FakeTelegram]
) -> None:
    """A retry whose first attempt never arrived (its replica was down) is handled, once."""
    slack, _ = fakes
    user, channel = new_conversation()
    event = as_json(message_event(user, channel, "which process should I use?"))
    headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    assert post_signed(replicas[1], event, headers=headers).status_code == 200
    slack.settled_posts(channel, 1)


def test_telegram_update_delivered_to_both_replicas_is_answered_once(
    replicas: Tuple[Servers, Servers], fakes: Tuple[FakeSlackApi, FakeTelegram]
) -> None:
    """One update_id posted to each replica: both acknowledged with 200, one round of replies."""
    _, telegram = fakes
    chat = new_chat()
    update = message_update(chat, text="which process should I use?")
    assert post(replicas[0], update).status_code == 200
    assert len(telegram.calls_to("sendMessage", chat)) == 1
    assert post(replicas[1], update).status_code == 200
    assert len(telegram.calls_to("sendMessage", chat)) == 1


def test_rate_limit_holds_across_replicas(replicas: Tuple[Servers, Servers]) -> None:
    """Messages of one sender alternating between the replicas: the one over the limit is refused politely."""
    sender = uuid.uuid4().hex
    kinds = []
    for number in range(RATE_LIMIT + 1):
        answer = requests.post(replicas[number % 2].webhook, json={"sender": sender, "message": "hello"}, timeout=60)
        assert answer.status_code == 200
        kinds.append(answer.json()[0]["text"] == message("rate_limited"))
    assert kinds == [False] * RATE_LIMIT + [True]
