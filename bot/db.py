"""The project's own database: declarative base, engine and session factory (lazily, once per URL)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.config import PROJECT_ROOT, get_settings

Base = declarative_base()


@lru_cache(maxsize=None)
def engine_for(database_url: str) -> Engine:
    """The shared engine for `database_url`; creates the SQLite file's folder if needed."""
    if database_url.startswith("sqlite:///"):
        Path(database_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@lru_cache(maxsize=None)
def session_factory(database_url: str) -> sessionmaker:
    """A `sessionmaker` bound to the engine for `database_url`."""
    return sessionmaker(bind=engine_for(database_url), future=True, expire_on_commit=False)


def default_session_factory() -> sessionmaker:
    """The session factory for the configured `DATABASE_URL`."""
    return session_factory(get_settings().database_url)


def import_models() -> None:
    """Import every module that defines tables, so that `Base.metadata` knows them all."""
    import bot.console.models  # noqa: F401
    import bot.handover.outbox  # noqa: F401
    import bot.handover.requests  # noqa: F401
    import bot.knowledge.models  # noqa: F401
    import bot.review.analytics  # noqa: F401
    import bot.review.models  # noqa: F401


def create_schema(engine: Engine) -> None:
    """Bring the project's tables up to date with the Alembic migrations (migrations/)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        adopted = _created_before_migrations(connection)
        if adopted:
            command.stamp(config, adopted)
        command.upgrade(config, "head")


FIRST_REVISION = "2d7aca2aaef7"


FIRST_REVISION_TABLES = {"consultation_requests", "kb_content_version", "kb_source_paragraphs", "kb_topics",
                         "kb_citations", "kb_topic_relations"}


def _created_before_migrations(connection: Connection) -> Optional[str]:
    """The revision a database made by `create_all` (before the project used Alembic) matches, or None."""
    from alembic.migration import MigrationContext

    import_models()
    if MigrationContext.configure(connection).get_current_revision() is not None:
        return None
    tables = set(inspect(connection).get_table_names())
    if set(Base.metadata.tables) <= tables:
        return "head"
    return FIRST_REVISION if FIRST_REVISION_TABLES <= tables else None


class UsesDatabase:
    """Base for classes that open a session per call; the session factory defaults to DATABASE_URL's."""

    def __init__(self, session_factory: Optional[sessionmaker] = None) -> None:
        self._session_factory = session_factory

    @property
    def _sessions(self) -> sessionmaker:
        if self._session_factory is None:
            self._session_factory = default_session_factory()
        return self._session_factory
