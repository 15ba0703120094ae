"""Loading the knowledge base into SQL and reading it back through the repository."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.knowledge.content import Citation, KnowledgeContent
from bot.knowledge.loader import load_knowledge
from bot.knowledge.models import CitationRow, SourceParagraph, TopicRelation, TopicRow
from bot.knowledge.repository import KnowledgeRepository


def count_rows(sessions: sessionmaker) -> dict:
    """How many rows each knowledge-base table holds."""
    with sessions() as session:
        return {
            model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (SourceParagraph, TopicRow, CitationRow, TopicRelation)
        }


def test_load_writes_every_table(content: KnowledgeContent, sessions: sessionmaker) -> None:
    """Paragraphs, topics, citations and relations are all stored."""
    result = load_knowledge(content, sessions)
    counts = count_rows(sessions)
    assert result.changed
    assert counts["kb_source_paragraphs"] == 5
    assert counts["kb_topics"] == len(content.topics) == result.topics
    assert counts["kb_citations"] == sum(len(t.citations) for t in content.topics) == result.citations
    assert counts["kb_topic_relations"] == sum(len(t.related) for t in content.topics)


def test_load_is_idempotent(content: KnowledgeContent, sessions: sessionmaker) -> None:
    """Loading the same content again changes nothing and duplicates nothing."""
    load_knowledge(content, sessions)
    before = count_rows(sessions)
    second = load_knowledge(content, sessions)
    assert not second.changed
    assert count_rows(sessions) == before


def test_changed_content_replaces_the_old(content: KnowledgeContent, sessions: sessionmaker) -> None:
    """A reload with edited content stores the edit and drops removed topics and links to them."""
    load_knowledge(content, sessions)
    removed, *rest = content.topics
    kept = [
        dataclasses.replace(topic, related=tuple(r for r in topic.related if r != removed.id))
        for topic in rest
    ]
    kept[0] = dataclasses.replace(kept[0], title="Edited title")
    edited = dataclasses.replace(content, topics=tuple(kept), fingerprint="edited")
    assert load_knowledge(edited, sessions).changed
    repository = KnowledgeRepository(sessions)
    assert repository.get_topic(removed.id) is None
    assert repository.topic_ids() == [t.id for t in kept]
    assert repository.get_topic(kept[0].id).title == "Edited title"
    assert all(removed.id not in [r.id for r in repository.get_topic(t.id).related] for t in kept)


def test_a_failing_load_leaves_the_previous_content_intact(content: KnowledgeContent, sessions: sessionmaker) -> None:
    """Nothing is half-loaded: a database error mid-load rolls back to the previous content."""
    load_knowledge(content, sessions)
    before = count_rows(sessions)
    broken_topic = dataclasses.replace(content.topics[0], citations=(Citation(paragraph="P99", quote="x"),))
    broken = dataclasses.replace(content, topics=(broken_topic,) + content.topics[1:], fingerprint="broken")
    with pytest.raises(IntegrityError):
        load_knowledge(broken, sessions)
    assert count_rows(sessions) == before
    assert KnowledgeRepository(sessions).get_topic(content.topics[0].id).citations == content.topics[0].citations


def test_repository_returns_a_topic_with_sources_and_related(repository: KnowledgeRepository) -> None:
    """A topic comes back with its citations in order and its related topics' titles."""
    topic = repository.get_topic("mediator_decision_power")
    assert topic is not None
    assert topic.title == "Does the mediator decide?"
    assert topic.citations[0].paragraph == "P4"
    assert "decision-making power" in topic.citations[0].quote
    assert [item.id for item in topic.related] == ["arbitration_and_court", "mediator_role", "binding_agreements"]
    assert topic.related[0].title == "Arbitration and court"


def test_repository_unknown_topic_is_none(repository: KnowledgeRepository) -> None:
    """An unknown topic id gives None, not an error."""
    assert repository.get_topic("how_to_win") is None


def test_repository_titles_and_paragraphs(repository: KnowledgeRepository) -> None:
    """Titles come back only for existing topics; paragraphs hold the source text."""
    assert repository.titles(["impasse", "nope"]) == {"impasse": "When you are stuck"}
    assert repository.titles([]) == {}
    assert repository.paragraph("P5").startswith("In negotiation, both parties are likely to use persuasion")
    assert repository.paragraph("P6") is None


def test_every_stored_quote_occurs_in_its_stored_paragraph(repository: KnowledgeRepository) -> None:
    """What the bot shows as evidence is verbatim in the paragraph it cites."""
    for topic_id in repository.topic_ids():
        topic = repository.get_topic(topic_id)
        for citation in topic.citations:
            assert citation.quote in repository.paragraph(citation.paragraph)
