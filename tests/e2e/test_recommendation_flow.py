"""End to end over REST: recommendations and the hand-over, read back from the database."""

from __future__ import annotations

import uuid
from typing import Dict, List

import pytest

from bot.handover.requests import Contact, ConsultationStore
from bot.db import session_factory
from tests.e2e.conftest import Servers

pytestmark = pytest.mark.e2e


class Conversation:
    """One user's conversation with the running assistant."""

    def __init__(self, servers: Servers) -> None:
        self.servers = servers
        self.sender = f"e2e-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> List[dict]:
        """Send `text`; every reply."""
        return self.servers.say(self.sender, text)

    def last_payload(self, text: str) -> dict:
        """Send `text`; the payload of the last reply."""
        replies = self.say(text)
        assert replies, f"no reply to {text!r}"
        return replies[-1]["custom"]

    def click(self, payload: dict, title: str) -> dict:
        """Click the option or follow-up called `title` in `payload`; the last reply's payload."""
        buttons = payload.get("options") or payload.get("follow_ups") or []
        [button] = [b for b in buttons if b["title"] == title]
        return self.last_payload(button["payload"])


def test_customer_example_recommends_mediation_asking_only_what_is_missing(servers: Servers) -> None:
    """Two facts come from the first message; the rest is asked in policy order, typed answers work."""
    talk = Conversation(servers)
    question = talk.last_payload(
        "My business partner and I stopped talking months ago and he wants me to sign by Friday. What should I do?"
    )
    assert question["kind"] == "question" and question["fact"] == "safety"
    assert [o["value"] for o in question["options"]] == [True, False, None]
    assert talk.last_payload("no")["fact"] == "other_side_willing"
    assert talk.last_payload("yes")["fact"] == "wants_decision"
    result = talk.last_payload("not really")
    assert result["kind"] == "recommendation" and result["process"] == "mediation"
    assert {r["fact"] for r in result["reasons"]} >= {"communication", "pressure"}
    assert all(r["paragraph"] in {"P2", "P3", "P4", "P5"} and r["topic"] for r in result["reasons"])
    assert {a["process"] for a in result["alternatives"]} == {"negotiation", "arbitration", "court"}


@pytest.mark.parametrize(
    "clicks, process",
    [
        (["No", "No"], "court"),
        (["No", "Yes", "Yes"], "arbitration"),
        (["No", "Yes", "No", "Yes", "No", "No", "Yes"], "negotiation"),
        (["No", "Yes", "No", "Yes", "No", "No", "No"], "mediation"),
    ],
)
def test_each_outcome_by_clicking_options(servers: Servers, clicks: List[str], process: str) -> None:
    """Clicking the offered options reaches each of the four processes."""
    talk = Conversation(servers)
    payload = talk.last_payload("which process should I use?")
    for title in clicks:
        assert payload["kind"] == "question"
        payload = talk.click(payload, title)
    assert payload["kind"] == "recommendation" and payload["process"] == process


def test_unsure_answer_is_assumed_and_mentioned(servers: Servers) -> None:
    """"I'm not sure" gets the documented default, and the recommendation says what was assumed."""
    talk = Conversation(servers)
    talk.say("help me choose a process")
    talk.say("no")
    talk.say("yes")
    talk.say("no")
    talk.say("yes we can talk")
    talk.say("no")
    talk.say("no")
    replies = talk.say("I'm not sure")
    assert replies[-1]["custom"]["process"] == "mediation"
    assert replies[-1]["custom"]["assumed"] == ["face_to_face"]
    assert "You weren't sure about meeting face to face" in replies[-1]["text"]


def test_knowledge_question_in_the_middle_then_continue(servers: Servers) -> None:
    """A question mid-way is answered, and the same question is asked again."""
    talk = Conversation(servers)
    talk.say("what do you recommend?")
    assert talk.last_payload("no")["fact"] == "other_side_willing"
    replies = talk.say("what does a mediator do?")
    assert replies[0]["custom"]["kind"] == "answer" and replies[0]["custom"]["topic"] == "mediator_role"
    assert replies[-1]["custom"]["kind"] == "question" and replies[-1]["custom"]["fact"] == "other_side_willing"
    assert talk.last_payload("yes")["fact"] == "wants_decision"


def test_cancel_and_start_over(servers: Servers) -> None:
    """"cancel" stops the questions; "start over" forgets the situation."""
    talk = Conversation(servers)
    talk.say("I feel pressured to sign")
    talk.say("which process should I use?")
    cancelled = talk.last_payload("cancel")
    assert cancelled["kind"] == "info"
    assert talk.last_payload("what is negotiation?")["kind"] == "answer"
    talk.say("what should I do?")
    restarted = talk.say("start over")
    assert "start over" in restarted[-1]["text"].lower()


def test_safety_and_recommendation_in_the_same_turn(servers: Servers) -> None:
    """A situation that reveals danger gets safety guidance and the court recommendation at once."""
    replies = Conversation(servers).say("my ex threatened to hurt me and wants me to sign, what should I do?")
    assert [r["custom"]["kind"] for r in replies] == ["safety", "recommendation"]
    assert replies[1]["custom"]["process"] == "court"


def test_offer_after_situation_answer(servers: Servers) -> None:
    """After a situation topic, "yes" starts the recommendation with that fact already known."""
    talk = Conversation(servers)
    answer = talk.say("communication broke down")[-1]
    assert "suggest a process" in answer["text"]
    assert talk.last_payload("yes please")["fact"] == "safety"


def handover(talk: Conversation, consent: str, start: str = "I'd like to talk to a real person") -> Dict[str, List[dict]]:
    """Go through the hand-over form, including one invalid contact; the replies by step."""
    steps = {"start": talk.say(start)}
    steps["name"] = talk.say("Ana Lopez")
    steps["bad_contact"] = talk.say("call me tomorrow")
    steps["contact"] = talk.say("ana.lopez@example.com")
    steps["description"] = talk.say("My landlord is keeping my deposit")
    steps["other_party"] = talk.say("skip")
    steps["consent"] = talk.say(consent)
    return steps


def test_handover_with_consent_is_stored(servers: Servers) -> None:
    """With consent, the request is in the database with the conversation id and the recommendation."""
    talk = Conversation(servers)
    assert talk.last_payload("my landlord refuses to negotiate, what are my options?")["fact"] == "safety"
    assert talk.last_payload("no")["process"] == "court"
    steps = handover(talk, "yes", start="yes please")
    assert steps["start"][0]["custom"]["kind"] == "handoff"
    assert steps["start"][-1]["custom"]["fact"] == "contact_name"
    assert "couldn't read that" in steps["bad_contact"][0]["text"]
    assert steps["description"][-1]["custom"]["fact"] == "other_party"
    assert steps["other_party"][-1]["custom"]["fact"] == "consent"
    assert steps["consent"][-1]["custom"]["status"] == "stored"
    store = ConsultationStore(session_factory(servers.env["DATABASE_URL"]))
    [stored] = store.for_conversation(talk.sender)
    assert stored.name == "Ana Lopez"
    assert stored.contact == Contact("email", "ana.lopez@example.com")
    assert stored.description == "My landlord is keeping my deposit"
    assert stored.other_party == ""
    assert stored.recommendation["process"] == "court"
    assert stored.consented_at is not None


def test_handover_without_consent_stores_nothing(servers: Servers) -> None:
    """Without consent nothing is kept, and the user is told so."""
    talk = Conversation(servers)
    steps = handover(talk, "no")
    assert steps["consent"][-1]["custom"]["status"] == "not_stored"
    assert ConsultationStore(session_factory(servers.env["DATABASE_URL"])).for_conversation(talk.sender) == []


def test_handover_can_be_cancelled(servers: Servers) -> None:
    """"cancel" during the hand-over stops it and nothing is stored."""
    talk = Conversation(servers)
    talk.say("book a consultation")
    talk.say("Ana")
    assert talk.last_payload("cancel")["kind"] == "info"
    assert ConsultationStore(session_factory(servers.env["DATABASE_URL"])).for_conversation(talk.sender) == []
