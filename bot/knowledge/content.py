"""Reads and validates knowledge-base content: the source document and the topic YAML files."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import yaml

MAX_QUOTE_WORDS = 25
MIN_SHORT_SENTENCES = 2
MAX_SHORT_SENTENCES = 4

_PARAGRAPH_LINE = re.compile(r"^(P\d+)\.\s+(.+)$")
_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_REQUIRED_FIELDS = ("id", "title", "short", "more", "citations")
# An answer that opens with a verdict is right for one wording of a question and wrong for its
# negation ("is mediation voluntary?" / "am I obliged to attend?"): answers lead with the fact.
_VERDICT_OPENING = re.compile(r"^(?:yes|no|yeah|yep|nope|correct|right|true|false|exactly|indeed|not at all)\b", re.IGNORECASE)


class KnowledgeContentError(ValueError):
    """The content is invalid; `problems` names every offending entry."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid knowledge-base content:\n  - " + "\n  - ".join(self.problems))


@dataclass(frozen=True)
class Citation:
    """A paragraph id and a short quote that occurs verbatim in it."""

    paragraph: str
    quote: str


@dataclass(frozen=True)
class TopicContent:
    """One validated knowledge-base entry as written in the YAML."""

    id: str
    title: str
    short: str
    more: str
    related: Tuple[str, ...]
    citations: Tuple[Citation, ...]


@dataclass(frozen=True)
class KnowledgeContent:
    """The validated content, ready to be written to the database."""

    document: str
    paragraphs: Mapping[str, str]
    topics: Tuple[TopicContent, ...]
    fingerprint: str = field(default="")


def normalise_space(text: str) -> str:
    """Collapse runs of whitespace so that YAML line folding doesn't matter."""
    return " ".join(text.split())


def parse_source_document(path: Path) -> Dict[str, str]:
    """The numbered paragraphs (`P1. ...`) of a source document, keyed by id."""
    paragraphs: Dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _PARAGRAPH_LINE.match(line.strip())
        if match:
            paragraphs[match.group(1)] = normalise_space(match.group(2))
    if not paragraphs:
        raise KnowledgeContentError([f"source document {path}: no numbered paragraphs (P1. ...) found"])
    return paragraphs


def read_topic_entries(knowledge_dir: Path) -> List[Tuple[str, Any]]:
    """Raw topic entries from every `*.yml` file in `knowledge_dir`, each with its origin."""
    files = sorted(knowledge_dir.glob("*.yml"))
    if not files:
        raise KnowledgeContentError([f"{knowledge_dir}: no *.yml knowledge files"])
    entries: List[Tuple[str, Any]] = []
    for path in files:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as error:
            raise KnowledgeContentError([f"{path.name}: not valid YAML: {error}"]) from error
        topics = document.get("topics") if isinstance(document, dict) else None
        if not isinstance(topics, list):
            raise KnowledgeContentError([f"{path.name}: expected a top-level 'topics' list"])
        entries.extend((f"{path.name}[{index}]", entry) for index, entry in enumerate(topics))
    return entries


def _count_sentences(text: str) -> int:
    return len(_SENTENCE_END.findall(text))


def _validate_entry(origin: str, entry: Any, paragraphs: Mapping[str, str]) -> Tuple[List[str], Any]:
    """Problems with one entry (excluding cross-references) and the parsed topic, if any."""
    if not isinstance(entry, dict):
        return [f"{origin}: each topic must be a mapping"], None
    name = f"topic '{entry.get('id', '?')}' ({origin})"
    problems = [f"{name}: missing field '{key}'" for key in _REQUIRED_FIELDS if not entry.get(key)]
    unknown = sorted(set(entry) - set(_REQUIRED_FIELDS) - {"related"})
    problems += [f"{name}: unknown field '{key}'" for key in unknown]
    if problems:
        return problems, None

    topic_id = str(entry["id"])
    if not _TOPIC_ID.match(topic_id):
        problems.append(f"{name}: id must be lower_snake_case")
    short = normalise_space(str(entry["short"]))
    sentences = _count_sentences(short)
    if not MIN_SHORT_SENTENCES <= sentences <= MAX_SHORT_SENTENCES:
        problems.append(
            f"{name}: short answer has {sentences} sentences, expected "
            f"{MIN_SHORT_SENTENCES}-{MAX_SHORT_SENTENCES}"
        )
    for field_name in ("short", "more"):
        if _VERDICT_OPENING.match(normalise_space(str(entry[field_name]))):
            problems.append(f"{name}: the {field_name} answer opens with a yes/no verdict; lead with the fact instead")
    related = entry.get("related") or []
    if not isinstance(related, list) or not all(isinstance(item, str) for item in related):
        problems.append(f"{name}: 'related' must be a list of topic ids")
        related = []
    raw_citations = entry["citations"]
    if not isinstance(raw_citations, list):
        return problems + [f"{name}: 'citations' must be a list"], None

    citations = []
    for number, raw in enumerate(raw_citations, start=1):
        where = f"{name}: citation {number}"
        if not isinstance(raw, dict) or not raw.get("paragraph") or not raw.get("quote"):
            problems.append(f"{where}: needs 'paragraph' and 'quote'")
            continue
        paragraph, quote = str(raw["paragraph"]), normalise_space(str(raw["quote"]))
        if paragraph not in paragraphs:
            problems.append(f"{where}: paragraph '{paragraph}' does not exist in the source document")
        elif quote not in paragraphs[paragraph]:
            problems.append(f"{where}: quote not found verbatim in {paragraph}: \"{quote}\"")
        if len(quote.split()) > MAX_QUOTE_WORDS:
            problems.append(f"{where}: quote has {len(quote.split())} words, at most {MAX_QUOTE_WORDS}")
        citations.append(Citation(paragraph=paragraph, quote=quote))

    topic = TopicContent(
        id=topic_id,
        title=normalise_space(str(entry["title"])),
        short=short,
        more=normalise_space(str(entry["more"])),
        related=tuple(related),
        citations=tuple(citations),
    )
    return problems, topic


def validate_content(
    document: str, paragraphs: Mapping[str, str], entries: Sequence[Tuple[str, Any]]
) -> KnowledgeContent:
    """Validate raw entries against the source paragraphs; raise with every problem found."""
    problems: List[str] = []
    topics: List[TopicContent] = []
    for origin, entry in entries:
        entry_problems, topic = _validate_entry(origin, entry, paragraphs)
        problems += entry_problems
        if topic is not None:
            topics.append(topic)

    seen: Dict[str, int] = {}
    for topic in topics:
        seen[topic.id] = seen.get(topic.id, 0) + 1
    problems += [f"topic '{topic_id}': defined {count} times" for topic_id, count in seen.items() if count > 1]
    for topic in topics:
        for related in topic.related:
            if related not in seen:
                problems.append(f"topic '{topic.id}': related topic '{related}' is unknown")
            elif related == topic.id:
                problems.append(f"topic '{topic.id}': lists itself as related")
    if problems:
        raise KnowledgeContentError(problems)

    fingerprint = hashlib.sha256(
        repr((document, sorted(paragraphs.items()), topics)).encode("utf-8")
    ).hexdigest()
    return KnowledgeContent(document=document, paragraphs=dict(paragraphs), topics=tuple(topics), fingerprint=fingerprint)


def read_content(knowledge_dir: Path, source_document: Path) -> KnowledgeContent:
    """Read and validate the knowledge base from disk."""
    paragraphs = parse_source_document(source_document)
    return validate_content(source_document.name, paragraphs, read_topic_entries(knowledge_dir))
