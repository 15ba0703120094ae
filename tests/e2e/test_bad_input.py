"""Bad input on the REST and socket.io entry points: a clear reply or a 4xx, never a 5xx, nothing lost."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any, Dict, List, Optional

import pytest
import requests
import socketio
from sqlalchemy import select

from bot.db import session_factory
from bot.knowledge.models import CitationRow, SourceParagraph, TopicRelation, TopicRow
from tests.e2e.conftest import Servers

pytestmark = pytest.mark.e2e

LONG = "My landlord keeps my deposit. " * 60
SQL = "'; DROP TABLE kb_topics; --"

# (name, raw request body, expected status, kind of the first reply (None: any), text in the first reply)
REST_CASES: List[tuple] = [
    ("malformed json", "{not json", 400, None, None),
    ("truncated json", '{"sender": "x", "message": "hi"', 400, None, None),
    ("json array", '["hi"]', 400, None, None),
    ("json string", '"hi"', 400, None, None),
    ("json null", "null", 400, None, None),
    ("empty body", "", 400, None, None),
    ("missing sender", {"message": "hi"}, 400, None, None),
    ("missing message", {"sender": "S"}, 400, None, None),
    ("sender is a number", {"sender": 7, "message": "hi"}, 400, None, None),
    ("message is a number", {"sender": "S", "message": 7}, 400, None, None),
    ("message is a list", {"sender": "S", "message": ["hi"]}, 400, None, None),
    ("message is an object", {"sender": "S", "message": {"text": "hi"}}, 400, None, None),
    ("message is null", {"sender": "S", "message": None}, 400, None, None),
    ("empty message", {"sender": "S", "message": ""}, 400, None, None),
    ("whitespace only", {"sender": "S", "message": " \n\t  "}, 400, None, None),
    ("control characters only", {"sender": "S", "message": "\x00\x01\x1b"}, 400, None, None),
    ("metadata not an object", {"sender": "S", "message": "hi", "metadata": "x"}, 400, None, None),
    ("sender too long", {"sender": "s" * 500, "message": "hi"}, 400, None, None),
    ("control characters inside", {"sender": "S", "message": "what is medi\x00ation?\x07"}, 200, "answer", None),
    ("very long message", {"sender": "S", "message": LONG}, 200, "info", "first 1,000 characters"),
    ("emoji only", {"sender": "S", "message": "🙂🙂🙂"}, 200, None, None),
    ("emoji in a question", {"sender": "S", "message": "what does a mediator do? 🤔"}, 200, "answer", None),
    ("spanish", {"sender": "S", "message": "¿cuál es la diferencia entre mediación y negociación?"}, 200, "info", "only understand English"),
    ("chinese", {"sender": "S", "message": "调解和谈判有什么区别？"}, 200, "info", "only understand English"),
    ("arabic", {"sender": "S", "message": "ما الفرق بين الوساطة والتفاوض"}, 200, "info", "only understand English"),
    # danger in a language without safety patterns (the learned classifier reads it) gets the safety reply in that language
    ("danger in turkish", {"sender": "S", "message": "kocam beni öldürmekle tehdit etti"}, 200, "safety", "numarasını arayın"),
    ("sql injection", {"sender": "S", "message": SQL}, 200, None, None),
    ("sql injection in sender", {"sender": "x'; DELETE FROM events; --", "message": "hello"}, 200, "info", None),
    ("template injection", {"sender": "S", "message": "{{7*7}} ${7*7} {firm_contact} %s %(x)s"}, 200, None, None),
    ("html injection", {"sender": "S", "message": "<img src=x onerror=alert(1)>"}, 200, None, None),
    ("typed intent", {"sender": "S", "message": "/request_consultation"}, 200, None, None),
    ("typed intent with entities", {"sender": "S", "message": '/mediator_role{"process": "court"}'}, 200, None, None),
    ("typed slot injection", {"sender": "S", "message": '/affirm{"consent": true}'}, 200, None, None),
    ("only a slash", {"sender": "S", "message": "/"}, 200, None, None),
    ("unicode direction override", {"sender": "S", "message": "\u202ewhat is mediation?"}, 200, "answer", None),
    ("null bytes in sender", {"sender": "a\x00b", "message": "hello"}, 200, "info", None),
]


def kb_fingerprint(database_url: str) -> str:
    """A hash of every knowledge-base row, to show bad input changed nothing."""
    with session_factory(database_url)() as session:
        rows = [
            [tuple(row) for row in session.execute(select(*model.__table__.columns)).all()]
            for model in (SourceParagraph, TopicRow, CitationRow, TopicRelation)
        ]
    return hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("name, body, status, kind, text", REST_CASES, ids=[case[0] for case in REST_CASES])
def test_rest_bad_input(servers: Servers, name: str, body: Any, status: int, kind: Optional[str], text: Optional[str]) -> None:
    """Each bad input gets a 4xx with a reason, or replies of the contract; never a 5xx or silence."""
    before = kb_fingerprint(servers.env["DATABASE_URL"])
    if isinstance(body, dict) and body.get("sender") == "S":
        body = {**body, "sender": f"bad-{uuid.uuid4().hex[:8]}"}
    data = body if isinstance(body, str) else json.dumps(body)
    reply = requests.post(servers.webhook, data=data.encode(), headers={"Content-Type": "application/json"}, timeout=60)
    assert reply.status_code == status, reply.text
    if status == 400:
        assert reply.json()["error"]
    else:
        replies = reply.json()
        assert replies, "never silence"
        assert all(r["text"].strip() and r["custom"]["kind"] for r in replies)
        if kind:
            assert replies[0]["custom"]["kind"] == kind
        if text:
            assert text in replies[0]["text"]
    assert kb_fingerprint(servers.env["DATABASE_URL"]) == before


def test_flood_gets_a_polite_answer_instead_of_a_queue(servers: Servers) -> None:
    """Past the per-sender limit (15 messages in 10 s), messages are answered with a note, not processed."""
    sender = f"flood-{uuid.uuid4().hex[:8]}"
    first_texts = [servers.say(sender, "hello")[0]["text"] for _ in range(18)]
    limited = [text for text in first_texts if "faster than I can answer" in text]
    assert len(limited) >= 3
    assert "faster than I can answer" not in first_texts[0]


SOCKET_CASES: List[tuple] = [
    ("string instead of object", "hello", "the event data must be an object"),
    ("list instead of object", ["hello"], "the event data must be an object"),
    ("missing message", {"session_id": "S"}, "'message' must be a string"),
    ("number message", {"session_id": "S", "message": 3}, "'message' must be a string"),
    ("whitespace message", {"session_id": "S", "message": "   "}, "'message' is empty"),
    ("control characters only", {"session_id": "S", "message": "\x00\x07"}, "'message' is empty"),
]


@pytest.mark.parametrize("name, data, error", SOCKET_CASES, ids=[case[0] for case in SOCKET_CASES])
async def test_socketio_bad_input(servers: Servers, name: str, data: Any, error: str) -> None:
    """Malformed socket.io events get an `error_message` naming the problem."""
    client = socketio.AsyncClient()
    errors: "asyncio.Queue[Dict[str, str]]" = asyncio.Queue()
    client.on("error_message", errors.put)
    await client.connect(f"http://localhost:{servers.env['RASA_PORT']}", transports=["websocket"])
    try:
        await client.emit("user_uttered", data)
        assert await asyncio.wait_for(errors.get(), 30) == {"error": error}
    finally:
        await client.disconnect()
