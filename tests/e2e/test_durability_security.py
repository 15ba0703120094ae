"""Conversations survive a SIGKILL of the Rasa server; the HTTP API needs a token; origins are checked."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator, List

import pytest
import requests
import socketio

from tests.e2e.conftest import START_TIMEOUT_S, Servers, start_servers

pytestmark = pytest.mark.e2e

API_TOKEN = "test-api-token"


@pytest.fixture(scope="module")
def api_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Both servers with Rasa's HTTP API enabled behind a token."""
    running = start_servers(tmp_path_factory.mktemp("api"), {"RASA_API_TOKEN": API_TOKEN})
    yield running
    running.stop()


def tracker_events(servers: Servers, sender: str) -> List[dict]:
    """Every event of the conversation, read through Rasa's HTTP API."""
    url = f"http://localhost:{servers.env['RASA_PORT']}/conversations/{sender}/tracker"
    reply = requests.get(url, params={"token": API_TOKEN, "include_events": "ALL"}, timeout=30)
    reply.raise_for_status()
    return reply.json()["events"]


def rasa_server_pid(servers: Servers) -> int:
    """The process id of the `rasa run` server itself, not of scripts/supervise.py, whose command line holds it too."""
    pattern = rf"^\S+ \S+/bin/rasa run --model .* --port {servers.env['RASA_PORT']} "
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=True)
    [pid] = found.stdout.split()
    return int(pid)


def wait_for_restarted_rasa_server(servers: Servers, killed: int) -> None:
    """Wait until a Rasa server other than `killed` (the supervisor's restart) answers on the same port."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            pid = rasa_server_pid(servers)
            if pid != killed and requests.get(f"http://localhost:{servers.env['RASA_PORT']}/", timeout=5).ok:
                return
        except (subprocess.CalledProcessError, ValueError, requests.RequestException):
            pass
        time.sleep(0.5)
    raise AssertionError(f"no Rasa server answered within {START_TIMEOUT_S:g} s of killing {killed}")


def test_conversation_continues_after_sigkill(api_servers: Servers) -> None:
    """Killed mid-recommendation (SIGKILL) and restarted by its supervisor, the conversation goes on with no event lost or repeated."""
    sender = f"kill-{uuid.uuid4().hex[:8]}"
    assert api_servers.say(sender, "which process should I use?")[-1]["custom"]["fact"] == "safety"
    assert api_servers.say(sender, "no")[-1]["custom"]["fact"] == "other_side_willing"
    before = tracker_events(api_servers, sender)

    killed = rasa_server_pid(api_servers)
    os.kill(killed, signal.SIGKILL)
    wait_for_restarted_rasa_server(api_servers, killed)  # scripts/supervise.py restarts it
    with pytest.raises(ProcessLookupError):  # the killed server is gone, not just replaced on the port
        os.kill(killed, 0)

    assert api_servers.say(sender, "yes")[-1]["custom"]["fact"] == "wants_decision"
    after = tracker_events(api_servers, sender)
    assert after[: len(before)] == before
    user_texts = [event["text"] for event in after if event["event"] == "user"]
    assert user_texts == ["which process should I use?", "no", "yes"]
    keys = [(e["event"], e.get("timestamp"), e.get("name"), e.get("text"), e.get("value")) for e in after]
    assert len(keys) == len(set(keys)), "no event is stored twice"
    assert [e["timestamp"] for e in after] == sorted(e["timestamp"] for e in after)


@pytest.mark.parametrize("params, status", [({}, 401), ({"token": "wrong"}, 401), ({"token": API_TOKEN}, 200)])
def test_http_api_requires_the_token(api_servers: Servers, params: dict, status: int) -> None:
    """With the API enabled, every call needs the configured token."""
    url = f"http://localhost:{api_servers.env['RASA_PORT']}/conversations/anyone/tracker"
    assert requests.get(url, params=params, timeout=30).status_code == status


def test_http_api_is_off_by_default(servers: Servers) -> None:
    """Without RASA_API_TOKEN or RASA_JWT_SECRET the conversation API does not exist."""
    url = f"http://localhost:{servers.env['RASA_PORT']}/conversations/anyone/tracker"
    assert requests.get(url, timeout=30).status_code == 404


@pytest.mark.parametrize("origin, allowed", [("http://evil.example", False), ("http://localhost:{WEB_PORT}", True)])
async def test_socketio_accepts_only_configured_origins(servers: Servers, origin: str, allowed: bool) -> None:
    """A browser page from another origin cannot open a socket.io connection; the demo page's can."""
    origin = origin.format(WEB_PORT=servers.env["WEB_PORT"])
    client = socketio.AsyncClient(reconnection=False)
    url = f"http://localhost:{servers.env['RASA_PORT']}"
    try:
        await client.connect(url, headers={"Origin": origin}, transports=["websocket"], wait_timeout=10)
        connected = client.connected
    except socketio.exceptions.ConnectionError:
        connected = False
    finally:
        await client.disconnect()
    assert connected is allowed
