"""A consented hand-over in the running assistant reaches a real SMTP server, and survives the server being down.

`make run`'s processes (scripts/run.sh: action server, Rasa server, delivery worker, console) on free
ports, with an aiosmtpd server on this machine as the firm's mail server. Prints the measured figures.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import requests

from bot.db import session_factory
from bot.handover.outbox import Outbox
from bot.handover.requests import ConsultationStore
from tests.console.conftest import create_staff_account
from tests.e2e.conftest import Servers, free_port, start_servers
from tests.handover.fakes import Inbox, smtp_server

pytestmark = pytest.mark.e2e
HOSTILE = "My landlord <script>alert(1)</script> keeps the deposit"
EMAIL_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def mail_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Servers, int, Inbox]]:
    """The assistant with email delivery to an SMTP port on this machine (the server is started by each test)."""
    smtp_port = free_port()
    running = start_servers(tmp_path_factory.mktemp("handover"), {
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "HANDOVER_EMAIL_TO": "intake@firm.example",
        "HANDOVER_EMAIL_FROM": "assistant@firm.example", "DELIVERY_FIRST_RETRY_SECONDS": "1",
        "DELIVERY_TIMEOUT_SECONDS": "5", "FIRM_RESPONSE_TIME": "within one working day",
    })
    yield running, smtp_port, Inbox()
    running.stop()


def hand_over(servers: Servers, sender: str) -> Tuple[List[dict], float, float]:
    """Go through the form; the replies to the consent, when the consent was sent, and how long its reply took."""
    for text in ("I'd like to talk to a real person", "Ana Lopez", "ana.lopez@example.com", HOSTILE, "Brown Lettings"):
        servers.say(sender, text)
    started = time.monotonic()
    replies = servers.say(sender, "yes")
    return replies, started, time.monotonic() - started


def test_consent_to_email_and_the_console_shows_it(mail_servers: Tuple[Servers, int, Inbox]) -> None:
    """The email arrives at the SMTP server seconds after consent; the console lists the request as sent."""
    servers, smtp_port, inbox = mail_servers
    controller, _ = smtp_server(smtp_port, inbox=inbox)
    try:
        sender = f"mail-{uuid.uuid4().hex[:8]}"
        replies, consented, reply_s = hand_over(servers, sender)
        assert replies[-1]["custom"]["status"] == "stored"
        assert "within one working day" in replies[-1]["text"] and "because you said yes" in replies[-1]["text"]
        [message] = inbox.wait_for(1, EMAIL_TIMEOUT_S)
        email_s = inbox.arrived_at[0] - consented
    finally:
        controller.stop()
    print(f"\nconsent reply {reply_s * 1000:.0f} ms; consent to email at the SMTP server {email_s * 1000:.0f} ms")
    html = message.get_body(("html",)).get_content()
    assert "&lt;script&gt;" in html and "<script>" not in html and "Brown Lettings" in html
    [stored] = ConsultationStore(session_factory(servers.env["DATABASE_URL"])).for_conversation(sender)
    assert stored.other_party == "Brown Lettings" and stored.description == HOSTILE

    assert create_staff_account(servers.env, "staff@firm.example", "correct horse battery staple").returncode == 0
    console = f"http://127.0.0.1:{servers.env['CONSOLE_PORT']}"
    browser = requests.Session()
    csrf = browser.get(console + "/login", timeout=10).text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    browser.post(console + "/login", data={"email": "staff@firm.example", "password": "correct horse battery staple", "csrf": csrf}, timeout=10)
    page = browser.get(f"{console}/requests/{stored.id}", timeout=10).text
    assert "sent" in page and "I&#39;d like to talk to a real person" in page  # the transcript from Rasa's tracker store
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_smtp_down_the_reply_is_not_delayed_and_the_email_follows_the_outage(mail_servers: Tuple[Servers, int, Inbox]) -> None:
    """With the mail server down the user is answered at once and the request is stored; the email arrives once it is back."""
    servers, smtp_port, inbox = mail_servers
    already = len(inbox.messages)
    sender = f"outage-{uuid.uuid4().hex[:8]}"
    replies, _, reply_s = hand_over(servers, sender)
    assert replies[-1]["custom"]["status"] == "stored"
    database = session_factory(servers.env["DATABASE_URL"])
    [stored] = ConsultationStore(database).for_conversation(sender)
    deadline = time.monotonic() + 30
    while not (Outbox(database).for_requests([stored.id])[stored.id][0].last_error or time.monotonic() > deadline):
        time.sleep(0.2)
    [delivery] = Outbox(database).for_requests([stored.id])[stored.id]
    assert delivery.state == "pending" and "Connection" in (delivery.last_error or "")
    time.sleep(3)
    controller, _ = smtp_server(smtp_port, inbox=inbox)
    back = time.monotonic()
    try:
        messages = inbox.wait_for(already + 1, EMAIL_TIMEOUT_S)
        after_s = inbox.arrived_at[-1] - back
    finally:
        controller.stop()
    [delivery] = Outbox(database).for_requests([stored.id])[stored.id]
    print(f"\nconsent reply with SMTP down {reply_s * 1000:.0f} ms; email {after_s:.1f} s after the server came back; "
          f"attempts {delivery.attempts}")
    assert len(messages) == already + 1 and delivery.state == "sent"
    assert reply_s < 15  # generous: the reply never waits for the mail server (which is down)
