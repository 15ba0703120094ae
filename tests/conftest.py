"""Shared fixtures: a real SQLite knowledge base in a temporary folder, loaded from the real content;
fresh PostgreSQL databases on the local server."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import sessionmaker

from bot.config import PROJECT_ROOT
from bot.knowledge.content import KnowledgeContent, read_content
from bot.db import session_factory
from bot.knowledge.loader import load_knowledge
from bot.knowledge.repository import KnowledgeRepository

POSTGRES_SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
KNOWLEDGE_DIR = PROJECT_ROOT / "data" / "knowledge"
SOURCE_DOCUMENT = PROJECT_ROOT / "data" / "sources" / "mediation-vs-negotiation.md"


@pytest.fixture(scope="session")
def content() -> KnowledgeContent:
    """The project's real, validated knowledge-base content."""
    return read_content(KNOWLEDGE_DIR, SOURCE_DOCUMENT)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A SQLite database file of this test's own."""
    return f"sqlite:///{tmp_path / 'kb.db'}"


@pytest.fixture
def sessions(database_url: str) -> sessionmaker:
    """A session factory on the test's empty database."""
    return session_factory(database_url)


@pytest.fixture
def repository(content: KnowledgeContent, sessions: sessionmaker) -> KnowledgeRepository:
    """A repository over a freshly loaded copy of the real knowledge base."""
    load_knowledge(content, sessions)
    return KnowledgeRepository(sessions)


def postgres_available() -> bool:
    """Whether PostgreSQL answers on 127.0.0.1:5432."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 5432)) == 0


def require_postgres() -> None:
    """Skip without PostgreSQL, with the reason; under CI=true fail instead."""
    if not postgres_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is not running on 127.0.0.1:5432 (required under CI=true)")
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")


@contextlib.contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards (connections and all)."""
    require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(f"{POSTGRES_SERVER_URL}/postgres", future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_SERVER_URL}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
