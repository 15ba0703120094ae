"""Read access to the knowledge base for the actions: topics with their sources and relations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple

from sqlalchemy import select

from bot.knowledge.content import Citation
from bot.db import UsesDatabase
from bot.knowledge.models import CitationRow, SourceParagraph, TopicRelation, TopicRow


@dataclass(frozen=True)
class RelatedTopic:
    """A topic linked from another one: id and title for a follow-up button."""

    id: str
    title: str


@dataclass(frozen=True)
class Topic:
    """A knowledge-base topic as the assistant presents it."""

    id: str
    title: str
    short_answer: str
    long_answer: str
    citations: Tuple[Citation, ...]
    related: Tuple[RelatedTopic, ...]


class KnowledgeRepository(UsesDatabase):
    """Reads topics, titles and source paragraphs; one session per call."""

    def get_topic(self, topic_id: str) -> Optional[Topic]:
        """The topic with `topic_id`, or None when the knowledge base has no such topic."""
        with self._sessions() as session:
            row = session.get(TopicRow, topic_id)
            if row is None:
                return None
            citations = session.execute(
                select(CitationRow.paragraph_id, CitationRow.quote)
                .where(CitationRow.topic_id == topic_id)
                .order_by(CitationRow.position)
            ).all()
            related = session.execute(
                select(TopicRow.id, TopicRow.title)
                .join(TopicRelation, TopicRelation.related_topic_id == TopicRow.id)
                .where(TopicRelation.topic_id == topic_id)
                .order_by(TopicRelation.position)
            ).all()
            return Topic(
                id=row.id,
                title=row.title,
                short_answer=row.short_answer,
                long_answer=row.long_answer,
                citations=tuple(Citation(paragraph=p, quote=q) for p, q in citations),
                related=tuple(RelatedTopic(id=i, title=t) for i, t in related),
            )

    def titles(self, topic_ids: Iterable[str]) -> Dict[str, str]:
        """Titles of the given topics that exist, keyed by id."""
        wanted = list(topic_ids)
        if not wanted:
            return {}
        with self._sessions() as session:
            rows = session.execute(select(TopicRow.id, TopicRow.title).where(TopicRow.id.in_(wanted))).all()
        return {topic_id: title for topic_id, title in rows}

    def topic_ids(self) -> List[str]:
        """Every topic id, in content order."""
        with self._sessions() as session:
            return list(session.execute(select(TopicRow.id).order_by(TopicRow.position)).scalars())

    def paragraph(self, paragraph_id: str) -> Optional[str]:
        """The full text of a source paragraph, or None."""
        with self._sessions() as session:
            row = session.get(SourceParagraph, paragraph_id)
            return None if row is None else row.text
