"""MAX_REQUEST_BYTES: bodies over the limit get 413 before they are read, socket.io packets over it are
refused, and neither an oversized nor a slowly trickling request delays anyone else by over 100 ms."""

from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time
from typing import List

import pytest
import requests
import socketio

from bot.config import get_settings
from tests.e2e.conftest import Servers

pytestmark = pytest.mark.e2e

LIMIT = get_settings().max_request_bytes
ALLOWED_DELAY_S = 0.100  # the bound on how much one request may delay others


def raw_request(port: int, head: str, body_chunks: List[bytes], pause_s: float = 0.0) -> bytes:
    """Send a request by hand (headers, then the body in chunks); whatever the server answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode("ascii"))
        try:
            for chunk in body_chunks:
                connection.sendall(chunk)
                if pause_s:
                    time.sleep(pause_s)
        except OSError:  # the server refused and closed before the whole body was sent
            pass
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


def post_head(path: str, length: int) -> str:
    """Request line and headers of a JSON POST announcing `length` bytes."""
    return f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/socket.io/?EIO=4&transport=polling"])
def test_an_oversized_body_is_refused_before_it_is_read(servers: Servers, path: str) -> None:
    """A body announced over the limit gets 413 after the headers alone; its bytes are never needed."""
    port = int(servers.env["RASA_PORT"])
    answer = raw_request(port, post_head(path, 20 * 1024 * 1024), [])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_chunked_body_is_cut_off_at_the_limit(servers: Servers) -> None:
    """A chunked body without a length is refused with 413 once it grows past the limit."""
    port = int(servers.env["RASA_PORT"])
    head = "POST /webhooks/rest/webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"x" * 16384
    chunks = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"] * (4 * LIMIT // len(chunk)) + [b"0\r\n\r\n"]
    assert raw_request(port, head, chunks).startswith(b"HTTP/1.1 413")


def test_a_body_under_the_limit_is_still_served(servers: Servers) -> None:
    """A long message under the limit is accepted (and cut to 1,000 characters with a note)."""
    reply = requests.post(servers.webhook, json={"sender": "size-ok", "message": "mediation " * 2000}, timeout=60)
    assert reply.status_code == 200
    assert "first 1,000 characters" in reply.json()[0]["text"]


async def test_an_oversized_socketio_message_is_refused(servers: Servers) -> None:
    """A `user_uttered` over the limit closes that socket; nothing is processed; a normal one works after."""
    url = f"http://localhost:{servers.env['RASA_PORT']}"
    oversized = socketio.AsyncClient(reconnection=False)
    replies: "asyncio.Queue[dict]" = asyncio.Queue()
    oversized.on("bot_uttered", replies.put)
    await oversized.connect(url, transports=["websocket"])
    await oversized.emit("user_uttered", {"message": "x" * (2 * LIMIT), "session_id": "size-ws"})
    deadline = time.monotonic() + 10
    while oversized.connected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert not oversized.connected, "the server kept a socket that sent an oversized packet"
    assert replies.empty()
    normal = socketio.AsyncClient(reconnection=False)
    normal.on("bot_uttered", replies.put)
    await normal.connect(url, transports=["websocket"])
    try:
        await normal.emit("session_request", {"session_id": "size-ws-2"})
        await asyncio.sleep(0.2)
        await normal.emit("user_uttered", {"message": "hello", "session_id": "size-ws-2"})
        assert (await asyncio.wait_for(replies.get(), 60))["text"]
    finally:
        await normal.disconnect()


def health_latency(url: str, samples: int = 15) -> float:
    """Median time of a small request (the REST channel's health check), in seconds."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        requests.get(url, timeout=30).raise_for_status()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def test_big_and_slow_requests_do_not_delay_others(servers: Servers) -> None:
    """A small request's latency while oversized and slowly trickling requests are refused rises < 100 ms."""
    port = int(servers.env["RASA_PORT"])
    health = f"http://localhost:{port}/webhooks/rest/"
    baseline = health_latency(health)
    stop = threading.Event()

    def oversized() -> None:
        while not stop.is_set():
            raw_request(port, post_head("/webhooks/rest/webhook", 20 * 1024 * 1024), [b"{" + b"x" * (1024 * 1024)] * 20)

    def trickling() -> None:
        while not stop.is_set():
            raw_request(port, post_head("/webhooks/rest/webhook", 2 * LIMIT), [b"x" * 64] * 40, pause_s=0.05)

    attackers = [threading.Thread(target=target, daemon=True) for target in (oversized, oversized, trickling, trickling)]
    for attacker in attackers:
        attacker.start()
    try:
        time.sleep(0.5)
        under_load = health_latency(health)
    finally:
        stop.set()
        for attacker in attackers:
            attacker.join(timeout=60)
    print(f"small request median latency: {baseline * 1000:.1f} ms alone, {under_load * 1000:.1f} ms during the attack")
    assert under_load - baseline < ALLOWED_DELAY_S
