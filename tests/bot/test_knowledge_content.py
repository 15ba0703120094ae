"""Validation of knowledge-base content: every problem stops the load and names its entry."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest
import yaml

from bot.knowledge.content import KnowledgeContentError, parse_source_document, read_content
from tests.conftest import KNOWLEDGE_DIR, SOURCE_DOCUMENT

VALID_TOPICS: List[Dict[str, Any]] = [
    {
        "id": "what_is_mediation",
        "title": "What mediation is",
        "short": "Mediation brings in a trained mediator. The parties still work together.",
        "more": "Longer text.",
        "related": ["mediator_decision_power"],
        "citations": [
            {"paragraph": "P2", "quote": "under the guidance of a trained mediator"},
        ],
    },
    {
        "id": "mediator_decision_power",
        "title": "Does the mediator decide?",
        "short": "A mediator has no decision-making power. The parties decide.",
        "more": "Longer text.",
        "related": [],
        "citations": [{"paragraph": "P4", "quote": "doesn’t have decision-making power"}],
    },
]


# Verbatim from P2, but longer than a short quote may be.
LONG_QUOTE = (
    "In mediation, parties agree to work together, but under the guidance of a trained mediator. "
    "In situations where communication has been impaired, a mediator can be really helpful"
)


def write_topics(folder: Path, topics: List[Dict[str, Any]]) -> Path:
    """Write `topics` as the only knowledge file in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topics.yml").write_text(yaml.safe_dump({"topics": topics}, allow_unicode=True), encoding="utf-8")
    return folder


def edit(change: Callable[[List[Dict[str, Any]]], None]) -> List[Dict[str, Any]]:
    """A copy of the valid topics with `change` applied."""
    topics = copy.deepcopy(VALID_TOPICS)
    change(topics)
    return topics


def test_the_projects_content_is_valid_and_complete() -> None:
    """The shipped knowledge base validates and has every topic the reply contract names."""
    content = read_content(KNOWLEDGE_DIR, SOURCE_DOCUMENT)
    required = {
        "mediation_vs_negotiation", "what_is_mediation", "what_is_negotiation", "mediator_role",
        "mediator_decision_power", "arbitration_and_court", "voluntary_nature", "binding_agreements",
        "meeting_formats", "process_flexibility", "communication_breakdown", "pressure_to_sign",
        "unreasonable_demands", "impasse", "other_side_unwilling", "avoid_face_to_face",
        "legal_advice_boundary",
    }
    assert required <= {topic.id for topic in content.topics}
    assert all(topic.citations for topic in content.topics)


def test_source_document_has_five_paragraphs() -> None:
    """The copied source document parses into P1..P5."""
    assert list(parse_source_document(SOURCE_DOCUMENT)) == ["P1", "P2", "P3", "P4", "P5"]


def test_valid_minimal_content_loads(tmp_path: Path) -> None:
    """Valid entries pass, with YAML line folding normalised away."""
    content = read_content(write_topics(tmp_path / "kb", VALID_TOPICS), SOURCE_DOCUMENT)
    assert [topic.id for topic in content.topics] == ["what_is_mediation", "mediator_decision_power"]


@pytest.mark.parametrize(
    "topics, expected",
    [
        (edit(lambda t: t[0].update(related=["no_such_topic"])), "topic 'what_is_mediation': related topic 'no_such_topic' is unknown"),
        (edit(lambda t: t[0]["citations"][0].update(paragraph="P9")), "topic 'what_is_mediation' (topics.yml[0]): citation 1: paragraph 'P9' does not exist"),
        (edit(lambda t: t[1]["citations"][0].update(quote="the mediator decides everything")), "topic 'mediator_decision_power' (topics.yml[1]): citation 1: quote not found verbatim in P4"),
        (edit(lambda t: t[0]["citations"][0].update(paragraph="P3")), "topic 'what_is_mediation' (topics.yml[0]): citation 1: quote not found verbatim in P3"),
        (edit(lambda t: t[0]["citations"][0].update(quote=LONG_QUOTE)), "citation 1: quote has 28 words, at most 25"),
        (edit(lambda t: t.append(copy.deepcopy(t[1]))), "topic 'mediator_decision_power': defined 2 times"),
        (edit(lambda t: t[0].pop("title")), "topic 'what_is_mediation' (topics.yml[0]): missing field 'title'"),
        (edit(lambda t: t[0].update(citations=[])), "topic 'what_is_mediation' (topics.yml[0]): missing field 'citations'"),
        (edit(lambda t: t[0].update(short="Only one sentence.")), "short answer has 1 sentences, expected 2-4"),
        (edit(lambda t: t[0].update(short="One. Two. Three. Four. Five.")), "short answer has 5 sentences, expected 2-4"),
        (edit(lambda t: t[0].update(id="What Is Mediation")), "id must be lower_snake_case"),
        (edit(lambda t: t[0].update(related=["what_is_mediation"])), "topic 'what_is_mediation': lists itself as related"),
        (edit(lambda t: t[0].update(sources=[])), "topic 'what_is_mediation' (topics.yml[0]): unknown field 'sources'"),
        (edit(lambda t: t[0]["citations"].append({"paragraph": "P2"})), "citation 2: needs 'paragraph' and 'quote'"),
        (edit(lambda t: t[1].update(short="No. A mediator has no decision-making power.")), "short answer opens with a yes/no verdict"),
        (edit(lambda t: t[1].update(short="Yes, both must agree. It is voluntary.")), "short answer opens with a yes/no verdict"),
        (edit(lambda t: t[1].update(more="Not at all: the parties decide.")), "more answer opens with a yes/no verdict"),
    ],
)
def test_invalid_content_is_rejected_naming_the_entry(tmp_path: Path, topics: List[Dict[str, Any]], expected: str) -> None:
    """Each kind of content error raises, and the message names the offending entry."""
    with pytest.raises(KnowledgeContentError) as raised:
        read_content(write_topics(tmp_path / "kb", topics), SOURCE_DOCUMENT)
    assert any(expected in problem for problem in raised.value.problems), raised.value.problems


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Several broken entries are all listed in one error, not one per run."""
    def break_both(topics: List[Dict[str, Any]]) -> None:
        topics[0]["citations"][0]["paragraph"] = "P7"
        topics[1]["related"] = ["nowhere"]

    with pytest.raises(KnowledgeContentError) as raised:
        read_content(write_topics(tmp_path / "kb", edit(break_both)), SOURCE_DOCUMENT)
    assert len(raised.value.problems) == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("topics: [", "not valid YAML"),
        ("items: []", "expected a top-level 'topics' list"),
    ],
)
def test_malformed_files_are_rejected(tmp_path: Path, text: str, expected: str) -> None:
    """A file that isn't a topics list stops the load with the file's name."""
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "broken.yml").write_text(text)
    with pytest.raises(KnowledgeContentError, match=expected):
        read_content(folder, SOURCE_DOCUMENT)


def test_source_without_numbered_paragraphs_is_rejected(tmp_path: Path) -> None:
    """A source document with no P1., P2., ... lines cannot back any citation."""
    source = tmp_path / "source.md"
    source.write_text("# Title\n\nJust prose.\n")
    with pytest.raises(KnowledgeContentError, match="no numbered paragraphs"):
        parse_source_document(source)
