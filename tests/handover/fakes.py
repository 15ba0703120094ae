"""Real servers the delivery tests send to: aiosmtpd (plain, STARTTLS, implicit TLS) and HTTP receivers."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed_certificate(folder: Path) -> Tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost and its key, written to `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Inbox:
    """What an SMTP server received."""

    messages: List[EmailMessage] = field(default_factory=list)
    arrived_at: List[float] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        """Keep the message."""
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        self.arrived_at.append(time.monotonic())
        return "250 OK"

    def wait_for(self, count: int, timeout_s: float) -> List[EmailMessage]:
        """The messages once `count` have arrived (or whatever came within `timeout_s`)."""
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"intake" and auth_data.password == b"p@ss word"
    return AuthResult(success=ok)


def smtp_server(port: int, mode: str = "plain", cert: Optional[Tuple[Path, Path]] = None, inbox: Optional[Inbox] = None) -> Tuple[Controller, Inbox]:
    """A started aiosmtpd server: "plain", "starttls" (offered, with AUTH) or "implicit" TLS."""
    inbox = inbox or Inbox()
    kwargs: Dict[str, Any] = {}
    if mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(cert[0]), str(cert[1]))  # type: ignore[index]
        if mode == "starttls":
            kwargs.update(tls_context=context, authenticator=_authenticate, auth_require_tls=True)
        else:
            kwargs.update(ssl_context=context)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return controller, inbox


@dataclass
class Received:
    """One HTTP request a fake receiver got."""

    path: str
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


class HttpReceiver:
    """A local HTTP server answering each POST through `answer(received) -> status`, after `delay_s`."""

    def __init__(self, answer: Callable[[Received], int] = lambda _: 200, delay_s: float = 0.0) -> None:
        self.received: List[Received] = []
        self.answer = answer
        self.delay_s = delay_s
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                receiver.received.append(got)
                time.sleep(receiver.delay_s)
                status = receiver.answer(got)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                try:
                    self.wfile.write(b"{}")
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


CLIO_REQUIRED = ("from_first", "from_last", "from_message", "referring_url", "from_source")


def clio_answer(token: str) -> Callable[[Received], int]:
    """Clio Grow's Lead Inbox as documented: JSON `inbox_lead` with the required fields and the token; 201 Created."""

    def answer(got: Received) -> int:
        if got.path != "/inbox_leads" or not got.headers.get("content-type", "").startswith("application/json"):
            return 404
        try:
            body = got.json()
        except ValueError:
            return 400
        if body.get("inbox_lead_token") != token:
            return 401
        lead = body.get("inbox_lead") or {}
        if any(not isinstance(lead.get(name), str) or not lead[name] for name in CLIO_REQUIRED):
            return 422
        if not (lead.get("from_email") or lead.get("from_phone")):
            return 422
        return 201

    return answer
