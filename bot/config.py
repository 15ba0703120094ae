"""The one place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Runtime settings of the assistant, read once from the environment."""

    database_url: str
    tracker_store_url: str
    lock_store_url: str
    shared_state_url: str
    redis_timeout_s: float
    redis_retry_s: float
    sanic_workers: int
    tracker_cache_conversations: int
    rate_limit_messages: int
    rate_limit_window_s: float
    retention_days: float
    knowledge_dir: Path
    source_document: Path
    spacy_model_path: Path
    firm_name: str
    firm_contact: str
    emergency_number: str
    # The same number without English words around it, for safety replies in other languages.
    emergency_number_plain: str
    reply_timeout_s: float
    action_timeout_s: float
    tracker_store_timeout_s: float
    lock_store_timeout_s: float
    lock_lifetime_s: float
    max_request_bytes: int
    restart_limit: int
    restart_backoff_s: float
    firm_region: str = "GB"
    firm_response_time: str = "within one working day"
    handover_email_to: str = ""
    handover_email_from: str = ""
    smtp_url: str = ""
    smtp_ca_file: str = ""
    handover_webhook_url: str = ""
    handover_webhook_secret: str = ""
    clio_grow_inbox_token: str = ""
    clio_grow_url: str = "https://grow.clio.com"
    console_host: str = "127.0.0.1"
    console_port: int = 8090
    console_public_url: str = "http://127.0.0.1:8090"
    console_session_minutes: float = 30
    delivery_timeout_s: float = 10
    delivery_poll_s: float = 0.5
    delivery_first_retry_s: float = 30
    delivery_give_up_hours: float = 24
    review_confidence_threshold: float = 0.5
    review_similarity: float = 0.5

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        """Build settings from `env` (the process environment by default)."""
        env = os.environ if env is None else env
        var_dir = Path(env.get("COMMONGROUND_VAR_DIR", PROJECT_ROOT / "var"))
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'commonground.db'}",
            tracker_store_url=env.get("TRACKER_STORE_URL") or f"sqlite:///{var_dir / 'tracker.db'}",
            lock_store_url=env.get("LOCK_STORE_URL", ""),
            shared_state_url=env.get("REDIS_URL") or env.get("LOCK_STORE_URL", ""),
            redis_timeout_s=float(env.get("REDIS_TIMEOUT_SECONDS") or 0.5),
            redis_retry_s=float(env.get("REDIS_RETRY_SECONDS") or 5),
            sanic_workers=int(env.get("SANIC_WORKERS") or 1),
            tracker_cache_conversations=int(env.get("TRACKER_CACHE_CONVERSATIONS") or 200),
            rate_limit_messages=int(env.get("RATE_LIMIT_MESSAGES") or 15),
            rate_limit_window_s=float(env.get("RATE_LIMIT_WINDOW_SECONDS") or 10),
            retention_days=float(env.get("RETENTION_DAYS") or 90),
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR", PROJECT_ROOT / "data" / "knowledge")),
            source_document=Path(
                env.get(
                    "SOURCE_DOCUMENT",
                    PROJECT_ROOT / "data" / "sources" / "mediation-vs-negotiation.md",
                )
            ),
            spacy_model_path=Path(
                env.get("SPACY_MODEL_PATH", PROJECT_ROOT / "build" / "spacy-en-commonground")
            ),
            firm_name=env.get("FIRM_NAME", "the firm"),
            firm_contact=env.get("FIRM_CONTACT", "the contact details on the firm's website"),
            emergency_number=env.get("EMERGENCY_NUMBER", "your local emergency number (112 in Europe, 911 in the US)"),
            emergency_number_plain=env.get("EMERGENCY_NUMBER", "112 / 911"),
            firm_region=(env.get("FIRM_REGION") or "GB").upper(),
            firm_response_time=env.get("FIRM_RESPONSE_TIME") or "within one working day",
            handover_email_to=env.get("HANDOVER_EMAIL_TO", ""),
            handover_email_from=env.get("HANDOVER_EMAIL_FROM", ""),
            smtp_url=env.get("SMTP_URL", ""),
            smtp_ca_file=env.get("SMTP_CA_FILE", ""),
            handover_webhook_url=env.get("HANDOVER_WEBHOOK_URL", ""),
            handover_webhook_secret=env.get("HANDOVER_WEBHOOK_SECRET", ""),
            clio_grow_inbox_token=env.get("CLIO_GROW_INBOX_TOKEN", ""),
            clio_grow_url=(env.get("CLIO_GROW_URL") or "https://grow.clio.com").rstrip("/"),
            console_host=env.get("CONSOLE_HOST") or "127.0.0.1",
            console_port=int(env.get("CONSOLE_PORT") or 8090),
            console_public_url=(env.get("CONSOLE_PUBLIC_URL") or f"http://127.0.0.1:{env.get('CONSOLE_PORT') or 8090}").rstrip("/"),
            console_session_minutes=float(env.get("CONSOLE_SESSION_MINUTES") or 30),
            delivery_timeout_s=float(env.get("DELIVERY_TIMEOUT_SECONDS") or 10),
            delivery_poll_s=float(env.get("DELIVERY_POLL_SECONDS") or 0.5),
            delivery_first_retry_s=float(env.get("DELIVERY_FIRST_RETRY_SECONDS") or 30),
            delivery_give_up_hours=float(env.get("DELIVERY_GIVE_UP_HOURS") or 24),
            reply_timeout_s=float(env.get("REPLY_TIMEOUT_SECONDS") or 10),
            action_timeout_s=float(env.get("ACTION_TIMEOUT_SECONDS") or 5),
            tracker_store_timeout_s=float(env.get("TRACKER_STORE_TIMEOUT_SECONDS") or 3),
            lock_store_timeout_s=float(env.get("LOCK_STORE_TIMEOUT_SECONDS") or 2),
            # No message keeps its conversation's lock past its reply time-out (its handling is
            # abandoned then), so a lock left by a crashed replica need not outlive twice that.
            lock_lifetime_s=float(env.get("TICKET_LOCK_LIFETIME") or 2 * float(env.get("REPLY_TIMEOUT_SECONDS") or 10)),
            max_request_bytes=int(env.get("MAX_REQUEST_BYTES") or 64 * 1024),
            restart_limit=int(env.get("RESTART_LIMIT") or 5),
            restart_backoff_s=float(env.get("RESTART_BACKOFF_SECONDS") or 1),
            review_confidence_threshold=float(env.get("REVIEW_CONFIDENCE_THRESHOLD") or 0.5),
            review_similarity=float(env.get("REVIEW_SIMILARITY") or 0.5),
        )


def get_settings() -> Settings:
    """Settings for the current process environment."""
    return Settings.from_env()
