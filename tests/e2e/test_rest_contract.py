"""End to end over REST: the reply contract, on the real servers started as `make run` does."""

from __future__ import annotations

import time
import uuid
from typing import List, Optional

import pytest
import requests

from tests.e2e.conftest import Servers

pytestmark = pytest.mark.e2e


def new_sender() -> str:
    """A fresh conversation id."""
    return f"e2e-{uuid.uuid4().hex[:12]}"


def single_reply(replies: List[dict]) -> dict:
    """The one reply a message got, checked against the contract's common shape."""
    assert len(replies) == 1, replies
    return first_reply(replies)


def first_reply(replies: List[dict]) -> dict:
    """The first of a message's replies; every reply is text plus one payload with a kind."""
    assert replies
    for reply in replies:
        assert reply["text"].strip()
        assert isinstance(reply["custom"], dict) and reply["custom"]["kind"]
    return replies[0]


@pytest.mark.parametrize(
    "text, kind, topic",
    [
        ("what's the difference between mediation and negotiation?", "answer", "mediation_vs_negotiation"),
        ("communication broke down", "answer", "communication_breakdown"),
        ("I feel pressured to sign", "answer", "pressure_to_sign"),
        ("does the mediator decide?", "answer", "mediator_decision_power"),
        ("what does a mediator do?", "answer", "mediator_role"),
        ("what does an arbitrator do?", "answer", "arbitration_and_court"),
        ("will I win if we go to court?", "answer", "legal_advice_boundary"),
        ("my ex threatened to hurt me, should we try mediation?", "safety", None),
        ("what's the weather like tomorrow?", "out_of_scope", None),
        ("I want to talk to a real person", "handoff", None),
        ("does mediation cost a lot", "not_covered", None),
        ("are mediation talks private", "not_covered", None),
        ("is my car safe to drive with the check engine light on", "out_of_scope", None),
        ("which mortgage rate is best", "out_of_scope", None),
        ("what process would you recommend", "question", None),
    ],
)
def test_messages_get_the_contracted_reply(servers: Servers, text: str, kind: str, topic: Optional[str]) -> None:
    """Each sample message's first reply is text plus one payload of the expected kind (and topic)."""
    reply = first_reply(servers.say(new_sender(), text))
    assert reply["custom"]["kind"] == kind
    if topic:
        assert reply["custom"]["topic"] == topic
        sources = reply["custom"]["sources"]
        assert sources and all(s["paragraph"] in {"P1", "P2", "P3", "P4", "P5"} and s["quote"] for s in sources)
        assert reply["custom"]["follow_ups"]


def test_greeting_says_information_not_legal_advice(servers: Servers) -> None:
    """The greeting carries the one-line note that the assistant gives information, not legal advice."""
    reply = single_reply(servers.say(new_sender(), "hello"))
    assert "not legal advice" in reply["text"]


def test_safety_reply_comes_first_and_names_emergency_help(servers: Servers) -> None:
    """A danger message gets emergency guidance and the warning that meeting may not be safe."""
    reply = single_reply(servers.say(new_sender(), "I'm scared of my ex, he hit me last week"))
    assert reply["custom"]["kind"] == "safety"
    assert "immediate danger" in reply["text"] and "may not be safe" in reply["text"]
    assert "{" not in reply["text"], "every template placeholder is filled"


def test_follow_up_buttons_continue_the_conversation(servers: Servers) -> None:
    """Clicking "Tell me more" and then a related topic works through their payloads."""
    sender = new_sender()
    first = single_reply(servers.say(sender, "is mediation voluntary?"))
    assert first["custom"]["topic"] == "voluntary_nature"
    payloads = {item["title"]: item["payload"] for item in first["custom"]["follow_ups"]}
    more = single_reply(servers.say(sender, payloads["Tell me more"]))
    assert more["custom"]["topic"] == "voluntary_nature" and more["custom"]["detail"] == "more"
    related = more["custom"]["follow_ups"][0]
    followed = single_reply(servers.say(sender, related["payload"]))
    assert followed["custom"]["kind"] == "answer"
    assert followed["custom"]["title"] == related["title"]


@pytest.mark.parametrize("command", ["/safety", "/handoff", '/mediator_role{"process": "court"}'])
def test_typed_commands_are_read_as_text(servers: Servers, command: str) -> None:
    """A typed `/intent{...}` the bot never offered gets the same reply as the same words without the slash."""
    typed = single_reply(servers.say(new_sender(), command))
    plain = single_reply(servers.say(new_sender(), command.lstrip("/")))
    assert typed["custom"] == plain["custom"]


@pytest.mark.parametrize(
    "body, status",
    [
        ("not json", 400),
        ('{"sender": "x"}', 400),
        ('{"sender": "x", "message": 5}', 400),
        ('{"sender": "x", "message": "   "}', 400),
        ('["sender", "message"]', 400),
    ],
)
def test_malformed_requests_get_a_400(servers: Servers, body: str, status: int) -> None:
    """Malformed webhook bodies are refused with a 4xx and a reason, never a 5xx."""
    reply = requests.post(servers.webhook, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == status
    assert reply.json()["error"]


def test_server_restart_keeps_answering(servers: Servers) -> None:
    """After both servers are stopped and started again, the assistant answers as before."""
    before = single_reply(servers.say(new_sender(), "do we have to meet in person?"))
    servers.stop()
    servers.start()
    after = single_reply(servers.say(new_sender(), "do we have to meet in person?"))
    assert after["custom"] == before["custom"]


@pytest.mark.parametrize(
    "question, topic, leads_with",
    [
        ("am I obliged to attend mediation", "voluntary_nature", "Mediation is voluntary"),
        ("is mediation voluntary?", "voluntary_nature", "Mediation is voluntary"),
        ("can they force me into mediation?", "voluntary_nature", "Mediation is voluntary"),
        ("so the mediator will tell us who's right?", "mediator_decision_power", "A mediator has no decision-making power"),
        ("the mediator doesn't decide, right?", "mediator_decision_power", "A mediator has no decision-making power"),
    ],
)
def test_yes_no_questions_get_the_fact_whichever_way_they_are_put(servers: Servers, question: str, topic: str, leads_with: str) -> None:
    """Both polarities of a question get the same fact first, never a bare "Yes."/"No." that fits only one of them."""
    reply = first_reply(servers.say(new_sender(), question))
    assert reply["custom"]["kind"] == "answer" and reply["custom"]["topic"] == topic
    assert reply["text"].startswith(leads_with)


def test_not_covered_reply_offers_a_person_and_covered_topics(servers: Servers) -> None:
    """The not-covered reply has no sources, offers a person first, then topics whose buttons answer."""
    sender = new_sender()
    reply = single_reply(servers.say(sender, "how long does mediation usually take?"))
    custom = reply["custom"]
    assert custom["kind"] == "not_covered" and "sources" not in custom
    assert custom["follow_ups"][0]["payload"] == "/request_consultation"
    assert 1 <= len(custom["related"]) <= 3
    answer = first_reply(servers.say(sender, custom["related"][0]["payload"]))
    assert answer["custom"]["kind"] == "answer" and answer["custom"]["topic"] == custom["related"][0]["topic"]


def test_recommendation_request_with_a_situation_uses_its_facts(servers: Servers) -> None:
    """A request for a recommendation that also states facts starts the recommendation and does not ask them again."""
    replies = servers.say(new_sender(), "we can't talk without shouting and he wants me to sign by friday, which approach should I take?")
    reply = first_reply(replies)
    assert reply["custom"]["kind"] == "question"
    assert reply["custom"]["fact"] not in {"communication", "pressure"}


def stored_user_events(servers: Servers, sender: str) -> List[dict]:
    """The conversation's stored user events (their data), in stored order."""
    import json

    from sqlalchemy import create_engine, text

    engine = create_engine(servers.env["TRACKER_STORE_URL"], future=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT data FROM events WHERE sender_id = :sender AND type_name = 'user' ORDER BY id"), {"sender": sender}
            ).scalars().all()
    finally:
        engine.dispose()
    return [json.loads(row) for row in rows]


def post(servers: Servers, sender: str, message: str, message_id: str) -> List[dict]:
    """Send one message with the client's message id; the replies."""
    reply = requests.post(servers.webhook, json={"sender": sender, "message": message, "message_id": message_id}, timeout=60)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_a_message_sent_again_with_its_message_id_is_answered_from_storage_not_processed_again(servers: Servers) -> None:
    """The same `message_id` twice: the same replies, one stored user event, and the conversation does not move on."""
    sender = new_sender()
    ids = [uuid.uuid4().hex for _ in range(3)]
    assert post(servers, sender, "which process should I use?", ids[0])[-1]["custom"]["fact"] == "safety"
    first = post(servers, sender, "no", ids[1])
    assert first[-1]["custom"]["fact"] == "other_side_willing"
    again = post(servers, sender, "no", ids[1])  # processed again, "no" would answer the next question
    assert again == first
    assert post(servers, sender, "yes", ids[2])[-1]["custom"]["fact"] == "wants_decision"
    assert [(e["text"], e["message_id"]) for e in stored_user_events(servers, sender)] == list(zip(["which process should I use?", "no", "yes"], ids))


def test_a_message_stored_without_its_replies_is_answered_once(servers: Servers) -> None:
    """A user event stored without the rest of its turn (a crash between the two): the message sent
    again finishes that turn, answering once, and is not stored a second time."""
    import json

    from sqlalchemy import create_engine, text

    question = "what does a mediator do?"
    donor, sender, message_id = new_sender(), new_sender(), uuid.uuid4().hex
    post(servers, donor, question, uuid.uuid4().hex)
    [understood] = stored_user_events(servers, donor)
    assert single_reply(post(servers, sender, "hello", uuid.uuid4().hex))["custom"]["kind"] == "info"
    engine = create_engine(servers.env["TRACKER_STORE_URL"], future=True)
    try:
        with engine.begin() as connection:  # what a crash right after storing the user event leaves behind
            event = {**understood, "message_id": message_id, "timestamp": time.time()}
            connection.execute(
                text("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                     "VALUES (:sender, 'user', :timestamp, :intent, NULL, :data)"),
                {"sender": sender, "timestamp": event["timestamp"], "intent": event["parse_data"]["intent"]["name"], "data": json.dumps(event)},
            )
        replies = post(servers, sender, question, message_id)
        assert first_reply(replies)["custom"]["topic"] == "mediator_role"
        assert post(servers, sender, question, message_id) == replies  # and now it is finished
        assert [e["message_id"] for e in stored_user_events(servers, sender)][1:] == [message_id]
        with engine.connect() as connection:
            after = connection.execute(
                text("SELECT type_name, action_name FROM events WHERE sender_id = :sender AND id > "
                     "(SELECT MAX(id) FROM events WHERE sender_id = :sender AND type_name = 'user') ORDER BY id"),
                {"sender": sender},
            ).all()
    finally:
        engine.dispose()
    assert ("bot", None) in after and after[-1] == ("action", "action_listen"), after
