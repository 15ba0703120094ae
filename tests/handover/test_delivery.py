"""Deliveries from the outbox to real SMTP servers (aiosmtpd) and local HTTP fakes, with faults."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
from sqlalchemy.orm import sessionmaker

from bot.config import Settings
from bot.db import create_schema, session_factory
from bot.handover.outbox import FAILED, PENDING, SENT, Outbox, RetryPolicy
from bot.handover.requests import ConsultationRequest, ConsultationStore, Contact, utc_now
from bot.handover.senders import (
    ClioGrowSender,
    EmailSender,
    HandoverConfigError,
    WebhookSender,
    enabled_channels,
)
from bot.handover.worker import DeliveryWorker
from tests.conftest import fresh_postgres_database
from tests.e2e.conftest import free_port
from tests.handover.fakes import HttpReceiver, clio_answer, self_signed_certificate, smtp_server

HOSTILE = "<script>alert('x')</script> Robert'); DROP TABLE consultation_requests;-- & <b>bold</b>"
NOW_POLICY = RetryPolicy(first_delay=timedelta(0), max_delay=timedelta(0), give_up_after=timedelta(hours=24),
                         lease=timedelta(minutes=2))
PUBLIC = "https://console.firm.example"


def a_request(conversation: str = "conv-1", description: str = HOSTILE) -> ConsultationRequest:
    """A consented request whose free text is hostile."""
    return ConsultationRequest(
        conversation_id=conversation, name="Ana <i>Lopez</i>", contact=Contact("email", "ana@example.com"),
        description=description, other_party="Brown & Sons <Ltd>",
        recommendation={"process": "mediation", "reasons": ["communication"],
                        "facts": {"safety": False, "other_side_willing": True, "wants_decision": False, "communication": False}},
        consented_at=utc_now(),
    )


@pytest.fixture
def database(sessions: sessionmaker) -> sessionmaker:
    """The test's SQLite database, migrated."""
    create_schema(sessions.kw["bind"])
    return sessions


def worker_for(database: sessionmaker, senders: Dict[str, object], policy: RetryPolicy = NOW_POLICY) -> DeliveryWorker:
    """A worker on the test database."""
    return DeliveryWorker(senders, policy, Outbox(database), ConsultationStore(database))  # type: ignore[arg-type]


def states(database: sessionmaker, request_id: int) -> List[tuple]:
    """(channel, state, attempts) of a request's deliveries."""
    return [(d.channel, d.state, d.attempts) for d in Outbox(database).for_requests([request_id])[request_id]]


@pytest.mark.parametrize("mode", ["plain", "starttls", "implicit"])
def test_email_reaches_a_real_smtp_server(mode: str, database: sessionmaker, tmp_path: Path) -> None:
    """Plain SMTP, STARTTLS with a login, and implicit TLS all deliver the text and HTML email with its Message-ID."""
    cert = self_signed_certificate(tmp_path)
    port = free_port()
    controller, inbox = smtp_server(port, mode, cert)
    try:
        url = {"plain": f"smtp://127.0.0.1:{port}", "starttls": f"smtp://intake:p%40ss%20word@127.0.0.1:{port}",
               "implicit": f"smtps://127.0.0.1:{port}"}[mode]
        sender = EmailSender(url, "assistant@firm.example", "intake@firm.example", PUBLIC, 5, str(cert[0]))
        request_id = ConsultationStore(database).save(a_request(), ["email"])
        assert worker_for(database, {"email": sender}).run_once() == ["1:sent"]
        [message] = inbox.wait_for(1, 5)
    finally:
        controller.stop()
    [delivery] = Outbox(database).for_requests([request_id])[request_id]
    assert message["Message-ID"] == f"<{delivery.idempotency_key}@firm.example>"
    assert message["To"] == "intake@firm.example" and message["Reply-To"] == "ana@example.com"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert HOSTILE in text and "Brown & Sons <Ltd>" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "Brown &amp; Sons &lt;Ltd&gt;" in html
    assert f"{PUBLIC}/requests/{request_id}" in text and f'href="{PUBLIC}/requests/{request_id}"' in html
    assert "Mediation" in text  # the recommendation's title and reasons
    assert states(database, request_id) == [("email", SENT, 1)]


def test_smtp_down_then_up_delivers_after_the_outage(database: sessionmaker) -> None:
    """While the server is down the request stays stored and the delivery retries; once it is up, one email arrives."""
    port = free_port()
    sender = EmailSender(f"smtp://127.0.0.1:{port}", "assistant@firm.example", "intake@firm.example", PUBLIC, 2)
    request_id = ConsultationStore(database).save(a_request(), ["email"])
    worker = worker_for(database, {"email": sender})
    assert worker.run_once() == ["1:failed"]
    assert worker.run_once() == ["1:failed"]
    [delivery] = Outbox(database).for_requests([request_id])[request_id]
    assert (delivery.state, delivery.attempts) == (PENDING, 2) and "ConnectionRefused" in delivery.last_error
    assert ConsultationStore(database).get(request_id) is not None
    controller, inbox = smtp_server(port)
    try:
        assert worker.run_once() == ["1:sent"]
        assert worker.run_once() == []
        assert len(inbox.wait_for(1, 5)) == 1
    finally:
        controller.stop()
    assert states(database, request_id) == [("email", SENT, 3)]


def test_slow_smtp_server_times_out_and_retries(database: sessionmaker) -> None:
    """A server that accepts the connection but never greets costs one timeout, then the delivery waits for a retry."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        sender = EmailSender(f"smtp://127.0.0.1:{port}", "a@firm.example", "b@firm.example", PUBLIC, 1)
        request_id = ConsultationStore(database).save(a_request(), ["email"])
        started = time.monotonic()
        assert worker_for(database, {"email": sender}).run_once() == ["1:failed"]
        assert time.monotonic() - started < 15
    [delivery] = Outbox(database).for_requests([request_id])[request_id]
    assert delivery.state == PENDING and "timed out" in delivery.last_error.lower()


def verify_signature(secret: str, headers: Dict[str, str], body: bytes) -> bool:
    """What the README tells a receiver to do."""
    expected = "sha256=" + hmac.new(secret.encode(), headers["x-commonground-timestamp"].encode() + b"." + body,
                                     hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["x-commonground-signature"])


@pytest.mark.parametrize("failures, status", [(0, 200), (2, 500), (1, 429), (1, 302)])
def test_webhook_is_signed_and_retried_until_2xx(failures: int, status: int, database: sessionmaker) -> None:
    """The JSON is signed over timestamp and body, carries the Idempotency-Key, and any non-2xx is retried."""
    answers = iter([status] * failures + [204])
    receiver = HttpReceiver(lambda _: next(answers))
    try:
        sender = WebhookSender(receiver.url + "/hook", "s3cret", PUBLIC, 5)
        request_id = ConsultationStore(database).save(a_request(), ["webhook"])
        worker = worker_for(database, {"webhook": sender})
        outcomes = [worker.run_once() for _ in range(failures + 1)]
    finally:
        receiver.close()
    assert outcomes == [["1:failed"]] * failures + [["1:sent"]]
    assert len(receiver.received) == failures + 1
    got = receiver.received[-1]
    [delivery] = Outbox(database).for_requests([request_id])[request_id]
    assert got.headers["idempotency-key"] == delivery.idempotency_key
    assert {r.headers["idempotency-key"] for r in receiver.received} == {delivery.idempotency_key}
    assert verify_signature("s3cret", got.headers, got.body)
    assert not verify_signature("other", got.headers, got.body)
    payload = got.json()
    assert payload["request"]["description"] == HOSTILE and payload["request"]["other_party"] == "Brown & Sons <Ltd>"
    assert payload["request"]["recommendation"]["process"] == "mediation"
    assert payload["request"]["console_url"] == f"{PUBLIC}/requests/{request_id}"
    assert states(database, request_id) == [("webhook", SENT, failures + 1)]


def test_slow_webhook_times_out(database: sessionmaker) -> None:
    """A receiver slower than the timeout counts as a failed attempt, not a hang."""
    receiver = HttpReceiver(delay_s=3)
    try:
        sender = WebhookSender(receiver.url, "s3cret", PUBLIC, 0.5)
        request_id = ConsultationStore(database).save(a_request(), ["webhook"])
        assert worker_for(database, {"webhook": sender}).run_once() == ["1:failed"]
    finally:
        receiver.close()
    [delivery] = Outbox(database).for_requests([request_id])[request_id]
    assert delivery.state == PENDING and "Timeout" in delivery.last_error


@pytest.mark.parametrize(
    "contact, field_name",
    [(Contact("email", "ana@example.com"), "from_email"), (Contact("phone", "+447911123456"), "from_phone")],
)
def test_clio_grow_lead_inbox_gets_the_documented_fields(contact: Contact, field_name: str, database: sessionmaker) -> None:
    """The lead has the name split in two, the contact, the message and source; the fake accepts it (201)."""
    receiver = HttpReceiver(clio_answer("tok-123"))
    try:
        good = ClioGrowSender(receiver.url, "tok-123", PUBLIC, 5)
        request = ConsultationRequest(**{**a_request().__dict__, "contact": contact})
        request_id = ConsultationStore(database).save(request, ["clio_grow"])
        assert worker_for(database, {"clio_grow": ClioGrowSender(receiver.url, "wrong", PUBLIC, 5)}).run_once() == ["1:failed"]
        assert worker_for(database, {"clio_grow": good}).run_once() == ["1:sent"]
    finally:
        receiver.close()
    lead = receiver.received[-1].json()["inbox_lead"]
    assert (lead["from_first"], lead["from_last"]) == ("Ana", "<i>Lopez</i>")
    assert lead[field_name] == contact.value and HOSTILE in lead["from_message"]
    assert lead["referring_url"] == f"{PUBLIC}/requests/{request_id}"


def test_gives_up_after_the_retry_period(database: sessionmaker) -> None:
    """Once the next retry would fall after the retry period, the delivery is marked failed with its last error."""
    policy = RetryPolicy(first_delay=timedelta(hours=10), max_delay=timedelta(hours=10), give_up_after=timedelta(hours=24))
    request_id = ConsultationStore(database).save(a_request(), ["webhook"])
    outbox = Outbox(database)
    delivery_id = outbox.for_requests([request_id])[request_id][0].id
    now = utc_now()
    for hours in (0, 10, 20):
        [claimed] = outbox.claim_due(now + timedelta(hours=hours, seconds=1), policy)
        outbox.mark_attempt_failed(claimed.id, "HTTP 503", now + timedelta(hours=hours, seconds=1), policy)
    assert states(database, request_id) == [("webhook", FAILED, 3)]
    assert outbox.claim_due(now + timedelta(days=5), policy) == []
    assert outbox.for_requests([request_id])[request_id][0].last_error == "HTTP 503"
    assert delivery_id == claimed.id


def test_a_worker_killed_mid_send_leaves_the_delivery_to_be_claimed_after_its_lease(database: sessionmaker) -> None:
    """A claimed delivery is invisible to other workers during its lease and claimable again after it."""
    policy = RetryPolicy(lease=timedelta(minutes=2))
    ConsultationStore(database).save(a_request(), ["email"])
    outbox = Outbox(database)
    now = utc_now()
    assert len(outbox.claim_due(now, policy)) == 1
    assert outbox.claim_due(now + timedelta(minutes=1), policy) == []
    [again] = outbox.claim_due(now + timedelta(minutes=3), policy)
    assert again.attempts == 2


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, []),
        ({"HANDOVER_EMAIL_TO": "a@f.example", "HANDOVER_EMAIL_FROM": "b@f.example", "SMTP_URL": "smtp://h:25"}, ["email"]),
        ({"HANDOVER_WEBHOOK_URL": "https://x.example/h", "HANDOVER_WEBHOOK_SECRET": "s"}, ["webhook"]),
        ({"CLIO_GROW_INBOX_TOKEN": "t"}, ["clio_grow"]),
        ({"HANDOVER_EMAIL_TO": "a@f.example"}, "set HANDOVER_EMAIL_FROM, SMTP_URL"),
        ({"HANDOVER_WEBHOOK_URL": "https://x.example/h"}, "set HANDOVER_WEBHOOK_SECRET"),
        ({"HANDOVER_EMAIL_TO": "a", "HANDOVER_EMAIL_FROM": "b", "SMTP_URL": "http://h"}, "smtp:// or smtps://"),
    ],
)
def test_enabled_channels_and_partial_configuration(env: Dict[str, str], expected: object) -> None:
    """Nothing configured is fine; each full channel is on; a partial one names what is missing."""
    settings = Settings.from_env(env)
    if isinstance(expected, list):
        assert enabled_channels(settings) == expected
    else:
        with pytest.raises(HandoverConfigError, match=expected):  # type: ignore[arg-type]
            enabled_channels(settings)


def test_two_workers_on_postgresql_send_each_delivery_once() -> None:
    """Two workers polling one PostgreSQL outbox at once (SKIP LOCKED) send every one of 40 deliveries exactly once."""
    with fresh_postgres_database("commonground_outbox") as url:
        database = session_factory(url)
        create_schema(database.kw["bind"])
        store = ConsultationStore(database)
        for number in range(20):
            store.save(a_request(f"conv-{number}", "a fence"), ["webhook", "clio_grow"])
        receiver = HttpReceiver(lambda got: 201, delay_s=0.02)
        try:
            senders = {"webhook": WebhookSender(receiver.url + "/hook", "s", PUBLIC, 5),
                       "clio_grow": ClioGrowSender(receiver.url, "t", PUBLIC, 5)}
            sent: List[List[str]] = [[], []]

            def work(index: int) -> None:
                worker = DeliveryWorker(senders, NOW_POLICY, Outbox(database), ConsultationStore(database))  # type: ignore[arg-type]
                for _ in range(40):
                    sent[index] += worker.run_once()

            threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        finally:
            receiver.close()
        keys = [got.headers["idempotency-key"] for got in receiver.received]
        assert len(keys) == 40 and len(set(keys)) == 40
        assert sent[0] and sent[1], "both workers took part"
        assert sorted(sent[0] + sent[1]) == sorted(f"{i}:sent" for i in range(1, 41))
        database.kw["bind"].dispose()


def test_an_unexpected_error_in_one_delivery_does_not_stop_the_others(database: sessionmaker) -> None:
    """A sender that raises something unforeseen costs that delivery one attempt; the next one is still sent."""

    class Broken:
        def send(self, request: ConsultationRequest, idempotency_key: str, now: object) -> None:
            raise ValueError("header contains a newline")

    class Working:
        sent: List[str] = []

        def send(self, request: ConsultationRequest, idempotency_key: str, now: object) -> None:
            self.sent.append(idempotency_key)

    request_id = ConsultationStore(database).save(a_request(), ["email", "webhook"])
    assert worker_for(database, {"email": Broken(), "webhook": Working()}).run_once() == ["1:failed", "2:sent"]
    [email, webhook] = Outbox(database).for_requests([request_id])[request_id]
    assert email.state == PENDING and "ValueError" in email.last_error and webhook.state == SENT


@pytest.mark.parametrize("env, code, output", [
    ({}, 0, "hand-over deliveries: none configured"),
    ({"CLIO_GROW_INBOX_TOKEN": "t", "HANDOVER_WEBHOOK_URL": "http://127.0.0.1:9/h", "HANDOVER_WEBHOOK_SECRET": "s"}, 0,
     "hand-over deliveries: webhook, clio_grow"),
    ({"SMTP_URL": "smtp://127.0.0.1:25"}, 2, "email delivery is partly configured: set HANDOVER_EMAIL_TO, HANDOVER_EMAIL_FROM"),
])
def test_start_up_check_says_which_deliveries_are_on(env: Dict[str, str], code: int, output: str, tmp_path: Path) -> None:
    """What scripts/run.sh runs first: a partly configured delivery stops start-up naming the missing variables."""
    import os
    import subprocess
    import sys

    from bot.config import PROJECT_ROOT

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOVER_", "SMTP_", "CLIO_"))}
    done = subprocess.run([sys.executable, "-m", "bot.handover.worker", "--check"], cwd=PROJECT_ROOT,
                          env={**clean, **env, "COMMONGROUND_VAR_DIR": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == code and output in done.stdout + done.stderr


def test_a_killed_worker_process_loses_nothing(tmp_path: Path) -> None:
    """A request stored while the worker fails and is then killed (SIGKILL) is emailed by the next worker process."""
    import os
    import signal
    import subprocess
    import sys

    from bot.config import PROJECT_ROOT

    database_url = f"sqlite:///{tmp_path / 'outbox.db'}"
    database = session_factory(database_url)
    create_schema(database.kw["bind"])
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "COMMONGROUND_VAR_DIR": str(tmp_path),
           "SMTP_URL": f"smtp://127.0.0.1:{port}", "HANDOVER_EMAIL_TO": "intake@firm.example",
           "HANDOVER_EMAIL_FROM": "assistant@firm.example", "DELIVERY_FIRST_RETRY_SECONDS": "1", "DELIVERY_TIMEOUT_SECONDS": "2"}

    def start_worker() -> "subprocess.Popen[bytes]":
        return subprocess.Popen([sys.executable, "-m", "bot.handover.worker"], cwd=PROJECT_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    request_id = ConsultationStore(database).save(a_request(), ["email"])
    first = start_worker()
    deadline = time.monotonic() + 60
    # Kill it between attempts: one killed in the middle of an attempt holds the delivery's lease
    # (two minutes) before another worker may retry it, which a separate test covers.
    while Outbox(database).for_requests([request_id])[request_id][0].last_error is None and time.monotonic() < deadline:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert states(database, request_id)[0][1] == PENDING
    controller, inbox = smtp_server(port)
    second = start_worker()
    try:
        assert len(inbox.wait_for(1, 60)) == 1
    finally:
        second.terminate()
        second.wait(timeout=20)
        controller.stop()
    assert states(database, request_id)[0][1] == SENT
    assert second.returncode == 0  # SIGTERM stops the worker cleanly
