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
    reply_timeout_s: float
    action_timeout_s: float
    tracker_store_timeout_s: float
    lock_store_timeout_s: float
    max_request_bytes: int
    restart_limit: int
    restart_backoff_s: float

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        """Build settings from `env` (the process environment by default)."""
        env = os.environ if env is None else env
        var_dir = Path(env.get("COMMONGROUND_VAR_DIR", PROJECT_ROOT / "var"))
        return cls(
            database_url=env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'commonground.db'}",
            tracker_store_url=env.get("TRACKER_STORE_URL") or f"sqlite:///{var_dir / 'tracker.db'}",
            lock_store_url=env.get("LOCK_STORE_URL", ""),
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
            reply_timeout_s=float(env.get("REPLY_TIMEOUT_SECONDS") or 10),
            action_timeout_s=float(env.get("ACTION_TIMEOUT_SECONDS") or 5),
            tracker_store_timeout_s=float(env.get("TRACKER_STORE_TIMEOUT_SECONDS") or 3),
            lock_store_timeout_s=float(env.get("LOCK_STORE_TIMEOUT_SECONDS") or 2),
            max_request_bytes=int(env.get("MAX_REQUEST_BYTES") or 64 * 1024),
            restart_limit=int(env.get("RESTART_LIMIT") or 5),
            restart_backoff_s=float(env.get("RESTART_BACKOFF_SECONDS") or 1),
        )


def get_settings() -> Settings:
    """Settings for the current process environment."""
    return Settings.from_env()
