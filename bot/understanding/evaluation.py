"""Measures understanding on the evaluation sets of tests/nlu/ (never trained on): one table of figures.

Every figure is computed from what the assistant would do with a message: the final intent from
the trained model (the arbiter included), the topic it resolves to, the reply kind the rules send
for it, and the facts the recommendation actions read from it. `parse` is any callable that turns
texts into Rasa parse results, so the same code serves `make eval`, the floors in `make test` and
threshold tuning on tests/nlu/dev/.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from sklearn.metrics import f1_score

from bot.recommend import FACTS
from bot.understanding.arbiter import Thresholds, arbitrate_message
from bot.understanding.data_files import read_yaml
from bot.understanding.facts import facts_in_message
from bot.understanding.intents import (
    KNOWLEDGE_TOPICS,
    NLU_FALLBACK,
    NON_ENGLISH,
    NOT_COVERED,
    OUT_OF_SCOPE,
    RECOMMEND,
    SAFETY,
)
from bot.understanding.safety import safety_reply_language
from bot.understanding.topics import may_be_about_danger, resolve_topic

Parse = Callable[[Sequence[str]], List[Dict[str, Any]]]

# The reply kind the rules (data/rules/) send for each final intent.
INTENT_REPLY_KINDS: Mapping[str, str] = {
    **{topic: "answer" for topic in KNOWLEDGE_TOPICS},
    NOT_COVERED: "not_covered",
    OUT_OF_SCOPE: "out_of_scope",
    NLU_FALLBACK: "fallback",
    RECOMMEND: "recommendation",
    SAFETY: "safety",
    "request_consultation": "handoff",
    NON_ENGLISH: "non_english",
}
# Reply kinds that are wrong for a message outside disputes: an answer, an offer of a person, a
# recommendation's question, a safety alarm.
OFF_DOMAIN_FALSE_POSITIVES = frozenset({"answer", "not_covered", "recommendation", "safety", "handoff"})

# What each figure must reach (issue 9's targets) ...
TARGETS: Mapping[str, Tuple[str, float]] = {
    "topic accuracy": (">=", 0.97),
    "polarity pass rate": (">=", 0.97),
    "not-covered rate": (">=", 0.90),
    "off-domain false-positive rate": ("<=", 0.02),
    "safety recall": (">=", 0.98),
    "safety false alarms (benign)": ("<=", 0.02),
    "recommendation-request recall": (">=", 0.90),
    "fact precision (lowest)": (">=", 0.98),
    "fact recall (lowest)": (">=", 0.80),
    "language-detection accuracy": (">=", 0.95),
}
# ... and the floors `make test` holds today: the target where it is met, otherwise just below the
# figure last measured (training is deterministic), so no change can make a figure worse unnoticed.
FLOORS: Mapping[str, Tuple[str, float]] = {
    **TARGETS,
    "topic accuracy": (">=", 0.95),
    # 0.945 -> 0.937 (one question of 127) with data/nlu/varied_wording.yml, which every tuning family
    # favoured (topic +0.4 to +1.4 points; polarity -0.7 on one family, +0.7 and +0.9 on two others);
    # 0.937 -> 0.929 (one question) with session 13's data, chosen by ablation on the tuning families
    # (polarity +3.5 and +1.9 points on two of them, 0.0 on two, -2.7 on the oldest; topic +0.4 to +1.8
    # on four, -0.2 on the oldest; safety recall up on three).
    "polarity pass rate": (">=", 0.92),
    # Not one of issue 9's figures: danger in another language gets the safety reply in that language.
    "other-language safety reply": (">=", 0.97),
    "safety false alarms (benign)": ("<=", 0.04),
    "fact precision (lowest)": (">=", 0.91),
}


def model_parser(model_path: Path) -> Parse:
    """A parse function backed by a trained Rasa model, loaded once; repeated texts are parsed once."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model_path))
    loop = asyncio.new_event_loop()
    cache: Dict[str, Dict[str, Any]] = {}

    def parse(texts: Sequence[str]) -> List[Dict[str, Any]]:
        for text in texts:
            if text not in cache:
                cache[text] = loop.run_until_complete(agent.parse_message(text))
        return [cache[text] for text in texts]

    return parse


def with_thresholds(parse: Parse, thresholds: Thresholds) -> Parse:
    """`parse` with the arbiter's decision taken again under other thresholds (for tuning; no retraining)."""

    def reparse(texts: Sequence[str]) -> List[Dict[str, Any]]:
        results = []
        for text, result in zip(texts, parse(texts)):
            raw = (result.get("arbiter") or {}).get("intent")
            if raw is None:
                results.append(result)
                continue
            ranking = [item for item in result.get("intent_ranking") or [] if item.get("name") == raw]
            confidence = float(ranking[-1]["confidence"]) if ranking else 0.0
            verdict = arbitrate_message(
                text, raw, confidence, result.get("scope") or {}, result.get("entities") or [], result.get("language", "en"), thresholds,
                result.get("intent_ranking") or [],
            )
            arbiter = {**(result.get("arbiter") or {}), "reason": verdict.reason}
            results.append({**result, "intent": {"name": verdict.intent, "confidence": 1.0}, "arbiter": arbiter})
        return results

    return reparse


@dataclass
class Prediction:
    """What the assistant makes of one message."""

    text: str
    intent: Optional[str]
    topic: Optional[str]
    kind: str
    parse: Dict[str, Any]


def predict(parse: Parse, texts: Sequence[str]) -> List[Prediction]:
    """Parse `texts` and derive the topic and reply kind for each."""
    predictions = []
    for text, result in zip(texts, parse(texts)):
        intent = (result.get("intent") or {}).get("name")
        processes = [entity.get("value") for entity in result.get("entities") or [] if entity.get("entity") == "process"]
        topic = resolve_topic(intent, processes) if intent in KNOWLEDGE_TOPICS else None
        kind = INTENT_REPLY_KINDS.get(intent or "", "info")
        predictions.append(Prediction(text=text, intent=intent, topic=topic, kind=kind, parse=result))
    return predictions


def _load(path: Path) -> Any:
    return read_yaml(path)


def nlu_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU YAML file."""
    pairs = []
    for block in _load(path).get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                pairs.append((line[2:].strip(), block["intent"]))
    return pairs


@dataclass
class EvaluationSets:
    """The messages of one family of sets (report: tests/nlu/, tuning: tests/nlu/dev/)."""

    topics: List[Tuple[str, Tuple[str, ...]]] = field(default_factory=list)
    polarity: List[Tuple[str, Tuple[str, ...]]] = field(default_factory=list)
    not_covered: List[str] = field(default_factory=list)
    off_domain: List[Tuple[str, str]] = field(default_factory=list)
    danger: List[str] = field(default_factory=list)
    # The danger messages in other languages, with the language the safety reply must be in.
    danger_in_language: List[Tuple[str, str]] = field(default_factory=list)
    benign: List[str] = field(default_factory=list)
    recommendation_requests: List[str] = field(default_factory=list)
    facts: List[Tuple[str, Dict[str, bool]]] = field(default_factory=list)
    languages: List[Tuple[str, str]] = field(default_factory=list)


def _as_tuple(value: Any) -> Tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else (str(value),)


def read_sets(folder: Path, prefix: str = "") -> EvaluationSets:
    """Read whichever of the known set files exist in `folder` (file names may start with `prefix`)."""
    sets = EvaluationSets()

    def file(name: str) -> Optional[Path]:
        path = folder / f"{prefix}{name}.yml"
        return path if path.exists() else None

    for name in ("heldout", "heldout_wording", "topics"):
        if file(name):
            sets.topics += [(text, (intent,)) for text, intent in nlu_examples(file(name))]
    if file("polarity"):
        sets.polarity = [(case["text"], _as_tuple(case["topic"])) for case in _load(file("polarity"))["cases"]]
    if file("not_covered"):
        data = _load(file("not_covered"))
        sets.not_covered = [case["text"] if isinstance(case, dict) else case for case in data.get("cases") or data.get("messages") or []]
    if file("off_domain"):
        sets.off_domain = [(text, domain) for domain, texts in _load(file("off_domain"))["domains"].items() for text in texts]
    if file("safety"):
        data = _load(file("safety"))
        sets.danger = list(data.get("danger") or []) + list(data.get("danger_inside_longer") or [])
        sets.danger_in_language = [(case["text"], case["lang"]) for case in data.get("other_languages") or []]
        sets.danger += [text for text, _ in sets.danger_in_language]
        sets.benign = list(data.get("benign") or [])
    if file("recommendation_requests"):
        sets.recommendation_requests = list(_load(file("recommendation_requests"))["messages"])
    if file("facts"):
        sets.facts = [(case["text"], dict(case.get("facts") or {})) for case in _load(file("facts"))["cases"]]
    if file("languages"):
        sets.languages = [(case["text"], case["lang"]) for case in _load(file("languages"))["cases"]]
    # The sets with one expected intent also count towards topic accuracy, as classes of their own.
    sets.topics += [(text, (NOT_COVERED,)) for text in sets.not_covered]
    sets.topics += [(text, (RECOMMEND,)) for text in sets.recommendation_requests]
    sets.topics += sets.polarity
    return sets


def add_safety_samples(sets: EvaluationSets, path: Path) -> EvaluationSets:
    """Add a safety tuning file's danger and benign messages (its other languages: per code, danger and benign)."""
    data = _load(path)
    sets.danger += list(data.get("danger") or [])
    sets.benign += list(data.get("benign") or [])
    for code, per_language in (data.get("other_languages") or {}).items():
        sets.danger += list(per_language.get("danger") or [])
        sets.danger_in_language += [(text, code) for text in per_language.get("danger") or []]
        sets.benign += list(per_language.get("benign") or [])
    return sets


def _asks_about_danger(prediction: Prediction) -> bool:
    """Whether the reply is a did-you-mean that offers "Someone may be in danger" first (actions/fallback.py)."""
    return prediction.kind == "fallback" and may_be_about_danger(prediction.parse.get("intent_ranking") or [])


def _why(prediction: Prediction) -> str:
    """The arbiter's reason and the classifier's own intent, for reading a miss."""
    arbiter = prediction.parse.get("arbiter") or {}
    return f"{arbiter.get('reason', '?')}; classifier {arbiter.get('intent', '?')}"


def _topic_correct(prediction: Prediction, expected: Tuple[str, ...]) -> bool:
    """Right when the intent, or the topic it resolves to, is one of the expected labels."""
    return prediction.intent in expected or (prediction.topic is not None and prediction.topic in expected)


# The label rules (tests/nlu/LABELS.md) give these facts only a true value: a set says nothing about
# "false" for them unless it labels the fact true. The extractor's false ("he's never been physical",
# "nobody is rushing me") is what lets the recommendation skip a question, and is scored wherever the
# case states the fact; where the case is silent on it the set cannot tell, so it isn't counted.
TRUE_ONLY_FACTS = frozenset({"safety", "pressure", "impasse", "wants_decision"})


def fact_scores(cases: Sequence[Tuple[str, Dict[str, bool]]], predictions: Sequence[Prediction]) -> Dict[str, Dict[str, float]]:
    """Precision and recall per fact of the facts the actions read from each message (value must match)."""
    counts: Dict[str, Counter] = defaultdict(Counter)
    for (text, expected), prediction in zip(cases, predictions):
        found = facts_in_message(prediction.intent, text, scores=prediction.parse.get("scope"))
        for fact in FACTS:
            want, got = expected.get(fact), found.get(fact)
            if got is False and want is None and fact in TRUE_ONLY_FACTS:
                got = None
            if got is not None:
                counts[fact]["predicted"] += 1
                counts[fact]["correct"] += int(got == want)
            if want is not None:
                counts[fact]["expected"] += 1
                counts[fact]["recalled"] += int(got == want)
    return {
        fact: {
            "precision": counts[fact]["correct"] / counts[fact]["predicted"] if counts[fact]["predicted"] else 1.0,
            "recall": counts[fact]["recalled"] / counts[fact]["expected"] if counts[fact]["expected"] else 1.0,
            "support": float(counts[fact]["expected"]),
        }
        for fact in FACTS
    }


@dataclass
class Report:
    """The figures, and the messages behind every miss."""

    figures: Dict[str, float]
    facts: Dict[str, Dict[str, float]]
    misses: Dict[str, List[str]]
    sizes: Dict[str, int]

    def failed_floors(self) -> List[str]:
        """The figures below (or above) their floor, described."""
        failed = []
        for name, (direction, floor) in FLOORS.items():
            value = self.figures.get(name)
            if value is None:
                continue
            if (direction == ">=" and value < floor) or (direction == "<=" and value > floor):
                failed.append(f"{name} = {value:.3f}, floor {direction} {floor}")
        return failed

    def table(self) -> str:
        """The figures as a plain-text table, with each floor and set size."""
        lines = [f"{'figure':<34} {'value':>7}  {'floor':>8}  {'target':>8}  {'messages':>8}", "-" * 74]
        for name, value in self.figures.items():
            floor_text, target_text = (f"{d} {v:.2f}" if d else "" for d, v in (FLOORS.get(name, ("", 0.0)), TARGETS.get(name, ("", 0.0))))
            lines.append(f"{name:<34} {value:>7.3f}  {floor_text:>8}  {target_text:>8}  {self.sizes.get(name, ''):>8}")
        lines.append("")
        lines.append(f"{'fact':<20} {'precision':>9} {'recall':>7} {'support':>8}")
        for fact, scores in self.facts.items():
            lines.append(f"{fact:<20} {scores['precision']:>9.3f} {scores['recall']:>7.3f} {int(scores['support']):>8}")
        return "\n".join(lines)


def _rate(hits: Iterable[bool]) -> Tuple[float, int]:
    values = list(hits)
    return (sum(values) / len(values) if values else 1.0), len(values)


def evaluate(parse: Parse, sets: EvaluationSets) -> Report:
    """Every figure of the table for `sets`."""
    figures: Dict[str, float] = {}
    sizes: Dict[str, int] = {}
    misses: Dict[str, List[str]] = {}

    def record(name: str, value: float, size: int, missed: List[str]) -> None:
        figures[name], sizes[name], misses[name] = value, size, missed

    if sets.topics:
        texts = [text for text, _ in sets.topics]
        predictions = predict(parse, texts)
        correct = [_topic_correct(p, expected) for p, (_, expected) in zip(predictions, sets.topics)]
        truth = [expected[0] for _, expected in sets.topics]
        predicted = [expected[0] if ok else (p.topic or p.intent or "none") for p, ok, (_, expected) in zip(predictions, correct, sets.topics)]
        record("topic accuracy", sum(correct) / len(correct), len(correct),
               [f"{t} -> {p.topic or p.intent} ({_why(p)}): {p.text}" for p, ok, t in zip(predictions, correct, truth) if not ok])
        figures["topic macro-F1"] = float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth)), zero_division=0))
        sizes["topic macro-F1"] = len(correct)
    if sets.polarity:
        predictions = predict(parse, [text for text, _ in sets.polarity])
        passed = [p.kind == "answer" and p.topic in topics for p, (_, topics) in zip(predictions, sets.polarity)]
        value, size = _rate(passed)
        record("polarity pass rate", value, size, [f"{p.topic or p.intent}: {p.text}" for p, ok in zip(predictions, passed) if not ok])
    if sets.not_covered:
        predictions = predict(parse, sets.not_covered)
        value, size = _rate(p.kind == "not_covered" for p in predictions)
        record("not-covered rate", value, size, [f"{p.kind}/{p.topic or p.intent}: {p.text}" for p in predictions if p.kind != "not_covered"])
    if sets.off_domain:
        predictions = predict(parse, [text for text, _ in sets.off_domain])
        wrong = [p.kind in OFF_DOMAIN_FALSE_POSITIVES for p in predictions]
        value, size = _rate(wrong)
        record("off-domain false-positive rate", value, size,
               [f"{domain}: {p.kind}/{p.intent}: {p.text}" for p, bad, (_, domain) in zip(predictions, wrong, sets.off_domain) if bad])
        value, size = _rate(p.kind == "out_of_scope" for p in predictions)
        record("off-domain out_of_scope rate", value, size, [])
    if sets.danger:
        predictions = predict(parse, sets.danger)
        value, size = _rate(p.kind == "safety" for p in predictions)
        record("safety recall", value, size, [f"{p.kind}: {p.text}" for p in predictions if p.kind != "safety"])
        # Not a recall: the danger messages that got, instead, a did-you-mean reply asking about danger first.
        value, size = _rate(p.kind == "safety" or _asks_about_danger(p) for p in predictions)
        record("danger caught or asked about", value, size, [])
    if sets.danger_in_language:
        predictions = predict(parse, [text for text, _ in sets.danger_in_language])
        answered = [
            p.kind == "safety" and safety_reply_language(p.text, p.parse.get("language")) == code
            for p, (_, code) in zip(predictions, sets.danger_in_language)
        ]
        value, size = _rate(answered)
        record("other-language safety reply", value, size,
               [f"{code}: {p.kind}: {p.text}" for p, ok, (_, code) in zip(predictions, answered, sets.danger_in_language) if not ok])
    if sets.benign:
        predictions = predict(parse, sets.benign)
        value, size = _rate(p.kind == "safety" for p in predictions)
        record("safety false alarms (benign)", value, size, [p.text for p in predictions if p.kind == "safety"])
    if sets.recommendation_requests:
        predictions = predict(parse, sets.recommendation_requests)
        value, size = _rate(p.intent == RECOMMEND for p in predictions)
        record("recommendation-request recall", value, size, [f"{p.intent}: {p.text}" for p in predictions if p.intent != RECOMMEND])
    facts: Dict[str, Dict[str, float]] = {}
    if sets.facts:
        predictions = predict(parse, [text for text, _ in sets.facts])
        facts = fact_scores(sets.facts, predictions)
        measured = [scores for scores in facts.values() if scores["support"]]
        figures["fact precision (lowest)"] = min(s["precision"] for s in measured)
        figures["fact recall (lowest)"] = min(s["recall"] for s in measured)
        sizes["fact precision (lowest)"] = sizes["fact recall (lowest)"] = len(sets.facts)
        misses["facts"] = [
            f"{text} expected {expected} got {facts_in_message(p.intent, text, scores=p.parse.get('scope'))}"
            for (text, expected), p in zip(sets.facts, predictions)
            if {k: v for k, v in facts_in_message(p.intent, text, scores=p.parse.get("scope")).items() if k in FACTS} != expected
        ]
    if sets.languages:
        texts = [text for text, _ in sets.languages]
        detected = [(result.get("language", "en"), lang, text) for result, (text, lang) in zip(parse(texts), sets.languages)]
        value, size = _rate((got == "en") == (want == "en") for got, want, _ in detected)
        record("language-detection accuracy", value, size, [f"{want} -> {got}: {text}" for got, want, text in detected if (got == "en") != (want == "en")])
    return Report(figures=figures, facts=facts, misses=misses, sizes=sizes)
