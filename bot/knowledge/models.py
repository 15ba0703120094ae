"""SQLAlchemy models of the knowledge base: source paragraphs, topics, citations, relations."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Text

from bot.db import Base


class SourceParagraph(Base):
    """One numbered paragraph (P1..Pn) of a source document."""

    __tablename__ = "kb_source_paragraphs"

    id = Column(String(16), primary_key=True)
    document = Column(String(200), nullable=False)
    text = Column(Text, nullable=False)


class TopicRow(Base):
    """A knowledge-base topic: short answer, longer explanation, title."""

    __tablename__ = "kb_topics"

    id = Column(String(64), primary_key=True)
    title = Column(String(200), nullable=False)
    short_answer = Column(Text, nullable=False)
    long_answer = Column(Text, nullable=False)
    position = Column(Integer, nullable=False)


class CitationRow(Base):
    """A short verbatim quote from a source paragraph that supports a topic."""

    __tablename__ = "kb_citations"

    id = Column(Integer, primary_key=True, autoincrement=True)
    topic_id = Column(String(64), ForeignKey("kb_topics.id", ondelete="CASCADE"), nullable=False, index=True)
    paragraph_id = Column(String(16), ForeignKey("kb_source_paragraphs.id"), nullable=False)
    quote = Column(Text, nullable=False)
    position = Column(Integer, nullable=False)


class TopicRelation(Base):
    """A "related topic" link, in the order the content lists it."""

    __tablename__ = "kb_topic_relations"

    topic_id = Column(String(64), ForeignKey("kb_topics.id", ondelete="CASCADE"), primary_key=True)
    related_topic_id = Column(String(64), ForeignKey("kb_topics.id", ondelete="CASCADE"), primary_key=True)
    position = Column(Integer, nullable=False)


class ContentVersion(Base):
    """Fingerprint of the content last loaded, so an unchanged load is a no-op."""

    __tablename__ = "kb_content_version"

    id = Column(Integer, primary_key=True)
    fingerprint = Column(String(64), nullable=False)
