"""Shared fixtures: a real SQLite knowledge base in a temporary folder, loaded from the real content."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker

from bot.config import PROJECT_ROOT
from bot.knowledge.content import KnowledgeContent, read_content
from bot.db import session_factory
from bot.knowledge.loader import load_knowledge
from bot.knowledge.repository import KnowledgeRepository

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
