"""Writes validated knowledge-base content into the SQL tables, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import sessionmaker

from bot.knowledge.content import KnowledgeContent
from bot.db import create_schema
from bot.knowledge.models import (
    CitationRow,
    ContentVersion,
    SourceParagraph,
    TopicRelation,
    TopicRow,
)


@dataclass(frozen=True)
class LoadResult:
    """What a load did: whether anything changed, and how much content is stored."""

    changed: bool
    topics: int
    citations: int
    paragraphs: int


def load_knowledge(content: KnowledgeContent, session_factory: sessionmaker) -> LoadResult:
    """Replace the stored knowledge base with `content` in one transaction; no-op when unchanged."""
    create_schema(session_factory.kw["bind"])
    counts = dict(
        topics=len(content.topics),
        citations=sum(len(topic.citations) for topic in content.topics),
        paragraphs=len(content.paragraphs),
    )
    with session_factory.begin() as session:
        stored = session.execute(select(ContentVersion.fingerprint)).scalar_one_or_none()
        if stored == content.fingerprint:
            return LoadResult(changed=False, **counts)
        for model in (TopicRelation, CitationRow, TopicRow, SourceParagraph, ContentVersion):
            session.execute(delete(model))
        session.add_all(
            SourceParagraph(id=paragraph_id, document=content.document, text=text)
            for paragraph_id, text in content.paragraphs.items()
        )
        session.add_all(
            TopicRow(id=topic.id, title=topic.title, short_answer=topic.short, long_answer=topic.more, position=index)
            for index, topic in enumerate(content.topics)
        )
        session.flush()
        for topic in content.topics:
            session.add_all(
                CitationRow(topic_id=topic.id, paragraph_id=citation.paragraph, quote=citation.quote, position=index)
                for index, citation in enumerate(topic.citations)
            )
            session.add_all(
                TopicRelation(topic_id=topic.id, related_topic_id=related, position=index)
                for index, related in enumerate(topic.related)
            )
        session.add(ContentVersion(id=1, fingerprint=content.fingerprint))
    return LoadResult(changed=True, **counts)
