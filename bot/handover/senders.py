"""The three ways a request reaches the firm: SMTP email, a signed webhook, Clio Grow's Lead Inbox.

Each sender raises `DeliveryError` with a short reason on any failure (connection refused, timeout,
non-2xx answer), and the worker retries.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Protocol
from urllib.parse import unquote, urlsplit

import requests

from bot.config import Settings
from bot.handover.content import build_email, clio_lead, webhook_payload
from bot.handover.requests import ConsultationRequest

SIGNATURE_HEADER = "X-CommonGround-Signature"
TIMESTAMP_HEADER = "X-CommonGround-Timestamp"


class DeliveryError(Exception):
    """A delivery attempt failed; the message says why."""


class HandoverConfigError(ValueError):
    """A delivery channel is partly configured; the message names what is missing."""


class Sender(Protocol):
    """Sends one request once."""

    def send(self, request: ConsultationRequest, idempotency_key: str, now: datetime) -> None:
        """Deliver, or raise DeliveryError."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook signature: hex HMAC-SHA256 of `timestamp`, a dot, and the body."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass
class EmailSender:
    """SMTP: `smtp://` with STARTTLS when offered, `smtps://` for implicit TLS; optional user and password."""

    smtp_url: str
    sender: str
    recipient: str
    public_url: str
    timeout_s: float
    ca_file: str = ""

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file or None)

    def send(self, request: ConsultationRequest, idempotency_key: str, now: datetime) -> None:
        """Send the intake email."""
        url = urlsplit(self.smtp_url)
        message = build_email(request, self.sender, self.recipient, self.public_url, idempotency_key, now)
        host = url.hostname or "localhost"
        try:
            if url.scheme == "smtps":
                client: smtplib.SMTP = smtplib.SMTP_SSL(host, url.port or 465, timeout=self.timeout_s, context=self._tls())
            else:
                client = smtplib.SMTP(host, url.port or 25, timeout=self.timeout_s)
            with client:
                client.ehlo()
                if url.scheme != "smtps" and client.has_extn("starttls"):
                    client.starttls(context=self._tls())
                    client.ehlo()
                if url.username:
                    client.login(unquote(url.username), unquote(url.password or ""))
                client.send_message(message)
        except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
            raise DeliveryError(f"SMTP {host}:{url.port}: {type(error).__name__}: {error}") from error


@dataclass
class WebhookSender:
    """POSTs the JSON payload, signed, with an Idempotency-Key header; any non-2xx is a failure."""

    url: str
    secret: str
    public_url: str
    timeout_s: float

    def send(self, request: ConsultationRequest, idempotency_key: str, now: datetime) -> None:
        """POST the signed payload."""
        body = json.dumps(webhook_payload(request, self.public_url, idempotency_key), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key,
                   TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(self.secret, timestamp, body)}
        _post(self.url, body, headers, self.timeout_s)


@dataclass
class ClioGrowSender:
    """POSTs the lead to Clio Grow's Lead Inbox (`{host}/inbox_leads`)."""

    base_url: str
    token: str
    public_url: str
    timeout_s: float

    def send(self, request: ConsultationRequest, idempotency_key: str, now: datetime) -> None:
        """POST the lead."""
        body = json.dumps(clio_lead(request, self.public_url, self.token), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key}
        _post(f"{self.base_url}/inbox_leads", body, headers, self.timeout_s)


def _post(url: str, body: bytes, headers: Dict[str, str], timeout_s: float) -> None:
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as error:
        raise DeliveryError(f"POST {url}: {type(error).__name__}") from error
    if not 200 <= answer.status_code < 300:
        raise DeliveryError(f"POST {url}: HTTP {answer.status_code} {answer.text[:200]!r}")


CHANNEL_VARIABLES: Dict[str, List[str]] = {
    "email": ["HANDOVER_EMAIL_TO", "HANDOVER_EMAIL_FROM", "SMTP_URL"],
    "webhook": ["HANDOVER_WEBHOOK_URL", "HANDOVER_WEBHOOK_SECRET"],
    "clio_grow": ["CLIO_GROW_INBOX_TOKEN"],
}


def _values(settings: Settings) -> Dict[str, str]:
    return {
        "HANDOVER_EMAIL_TO": settings.handover_email_to, "HANDOVER_EMAIL_FROM": settings.handover_email_from,
        "SMTP_URL": settings.smtp_url, "HANDOVER_WEBHOOK_URL": settings.handover_webhook_url,
        "HANDOVER_WEBHOOK_SECRET": settings.handover_webhook_secret,
        "CLIO_GROW_INBOX_TOKEN": settings.clio_grow_inbox_token,
    }


def enabled_channels(settings: Settings) -> List[str]:
    """The configured delivery channels; raises HandoverConfigError naming what a partial one lacks."""
    values = _values(settings)
    enabled, problems = [], []
    for channel, names in CHANNEL_VARIABLES.items():
        missing = [name for name in names if not values[name]]
        if len(missing) == len(names):
            continue
        if missing:
            problems.append(f"{channel} delivery is partly configured: set {', '.join(missing)}")
        else:
            enabled.append(channel)
    if settings.smtp_url and urlsplit(settings.smtp_url).scheme not in ("smtp", "smtps"):
        problems.append("SMTP_URL must start with smtp:// or smtps://")
    if problems:
        raise HandoverConfigError("; ".join(problems))
    return enabled


def senders_for(settings: Settings) -> Dict[str, Sender]:
    """One sender per enabled channel."""
    timeout = settings.delivery_timeout_s
    public = settings.console_public_url
    made: Dict[str, Sender] = {}
    for channel in enabled_channels(settings):
        if channel == "email":
            made[channel] = EmailSender(settings.smtp_url, settings.handover_email_from, settings.handover_email_to,
                                        public, timeout, settings.smtp_ca_file)
        elif channel == "webhook":
            made[channel] = WebhookSender(settings.handover_webhook_url, settings.handover_webhook_secret, public, timeout)
        else:
            made[channel] = ClioGrowSender(settings.clio_grow_url, settings.clio_grow_inbox_token, public, timeout)
    return made


def describe(settings: Settings) -> str:
    """One line for start-up: which deliveries are on."""
    channels = enabled_channels(settings)
    if not channels:
        return "hand-over deliveries: none configured (requests appear only in the staff console)"
    return "hand-over deliveries: " + ", ".join(channels)
