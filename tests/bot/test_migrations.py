"""Alembic migrations create exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from bot.db import Base, create_schema, import_models
from tests.conftest import fresh_postgres_database

TABLES = {"kb_source_paragraphs", "kb_topics", "kb_citations", "kb_topic_relations", "kb_content_version", "consultation_requests",
          "handover_deliveries", "staff_users", "staff_sessions", "staff_login_failures", "audit_log", "review_decisions", "analytics_turns", "analytics_state"}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """An empty database of each kind the project supports."""
    if request.param == "sqlite":
        yield create_engine(f"sqlite:///{tmp_path / 'migrate.db'}", future=True)
        return
    with fresh_postgres_database("commonground_migrate") as url:
        engine = create_engine(url, future=True)
        try:
            yield engine
        finally:
            engine.dispose()


def test_migrations_match_the_models(empty_database: Engine) -> None:
    """After `upgrade head` the schema has every table and no difference from the models."""
    create_schema(empty_database)
    create_schema(empty_database)
    assert TABLES <= set(inspect(empty_database).get_table_names())
    import_models()
    with empty_database.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_database_created_before_migrations_is_adopted(tmp_path) -> None:
    """A database made by `create_all` (before Alembic) is stamped, not re-created."""
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}", future=True)
    import_models()
    Base.metadata.create_all(engine)
    create_schema(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_migrations_form_one_line() -> None:
    """Every migration has one successor at most, so `upgrade head` has a single head to reach."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.config import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
