"""What a delivery says: the email (plain text and HTML, escaped), the webhook JSON, the Clio Grow lead."""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.handover.requests import ConsultationRequest

logger = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
WEBHOOK_SCHEMA_VERSION = 1


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def recommendation_view(summary: Optional[dict]) -> Optional[Dict[str, Any]]:
    """The stored recommendation as `process`, `title` and reason texts, or None without one."""
    if not summary or not summary.get("process"):
        return None
    try:
        from bot.recommend import recommend
        from bot.recommendation_text import recommendation_payload

        payload = recommendation_payload(recommend(summary.get("facts") or {}))
        if payload.get("process") == summary["process"]:
            return {"process": summary["process"], "title": payload.get("title", summary["process"]),
                    "reasons": [reason["text"] for reason in payload.get("reasons", [])]}
    except Exception:  # noqa: BLE001 - a summary from an older version still shows its process
        logger.warning("could not rebuild the recommendation's wording", exc_info=True)
    return {"process": summary["process"], "title": str(summary["process"]).capitalize(),
            "reasons": [str(reason) for reason in summary.get("reasons", [])]}


def console_link(public_url: str, request_id: int) -> str:
    """The request's page in the staff console."""
    return f"{public_url}/requests/{request_id}"


def _context(request: ConsultationRequest, public_url: str) -> Dict[str, Any]:
    return {
        "request": request,
        "contact_label": "Email" if request.contact.kind == "email" else "Phone",
        "received": request.consented_at.strftime("%Y-%m-%d %H:%M UTC"),
        "recommendation": recommendation_view(request.recommendation),
        "console_link": console_link(public_url, int(request.id or 0)),
    }


def build_email(request: ConsultationRequest, sender: str, recipient: str, public_url: str,
                idempotency_key: str, now: datetime) -> EmailMessage:
    """The intake email: plain text with an HTML alternative; its Message-ID is the idempotency key."""
    context = _context(request, public_url)
    message = EmailMessage()
    message["Subject"] = f"New consultation request #{request.id}: {request.name}"
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now)
    domain = sender.rsplit("@", 1)[-1].strip(">") or "commonground.local"
    message["Message-ID"] = f"<{idempotency_key}@{domain}>"
    message["Idempotency-Key"] = idempotency_key
    if request.contact.kind == "email":
        message["Reply-To"] = request.contact.value
    message.set_content(_templates().get_template("email.txt").render(context))
    message.add_alternative(_templates().get_template("email.html").render(context), subtype="html")
    return message


def webhook_payload(request: ConsultationRequest, public_url: str, idempotency_key: str) -> Dict[str, Any]:
    """The webhook's JSON body (schema in the README)."""
    recommendation = recommendation_view(request.recommendation)
    return {
        "schema_version": WEBHOOK_SCHEMA_VERSION,
        "event": "consultation_request.created",
        "idempotency_key": idempotency_key,
        "request": {
            "id": request.id,
            "conversation_id": request.conversation_id,
            "name": request.name,
            "contact": {"kind": request.contact.kind, "value": request.contact.value},
            "other_party": request.other_party or None,
            "description": request.description,
            "recommendation": recommendation,
            "consented_at": request.consented_at.isoformat(),
            "console_url": console_link(public_url, int(request.id or 0)),
        },
    }


def split_name(name: str) -> List[str]:
    """First and last name for systems that want both; a single name is used as both."""
    parts = name.split()
    if len(parts) < 2:
        return [name, name]
    return [" ".join(parts[:-1]), parts[-1]]


def clio_lead(request: ConsultationRequest, public_url: str, token: str) -> Dict[str, Any]:
    """The Clio Grow Lead Inbox body."""
    first, last = split_name(request.name)
    recommendation = recommendation_view(request.recommendation)
    lines = [request.description or "(no description given)"]
    if request.other_party:
        lines.append(f"Other party: {request.other_party}")
    if recommendation:
        lines.append(f"Suggested process: {recommendation['title']}")
    lines.append(f"Console: {console_link(public_url, int(request.id or 0))}")
    lead: Dict[str, Any] = {
        "from_first": first,
        "from_last": last,
        "from_message": "\n".join(lines),
        "referring_url": console_link(public_url, int(request.id or 0)),
        "from_source": "Common Ground assistant",
    }
    lead["from_email" if request.contact.kind == "email" else "from_phone"] = request.contact.value
    return {"inbox_lead": lead, "inbox_lead_token": token}
