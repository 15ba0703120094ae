"""Command line: validate the knowledge-base YAML and load it into `DATABASE_URL`."""

from __future__ import annotations

import sys

from bot.config import get_settings
from bot.knowledge.content import KnowledgeContentError, read_content
from bot.db import session_factory
from bot.knowledge.loader import load_knowledge


def main() -> int:
    """Load the knowledge base; print what happened; exit 1 naming every invalid entry."""
    settings = get_settings()
    try:
        content = read_content(settings.knowledge_dir, settings.source_document)
    except KnowledgeContentError as error:
        print(error, file=sys.stderr)
        return 1
    result = load_knowledge(content, session_factory(settings.database_url))
    state = "loaded" if result.changed else "unchanged"
    print(
        f"knowledge base {state}: {result.topics} topics, {result.citations} citations, "
        f"{result.paragraphs} source paragraphs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
