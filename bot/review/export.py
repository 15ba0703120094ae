"""`make reviewed`: staff decisions from the review inbox into data/nlu/reviewed.yml and a CSV of content gaps.

Command line:
  python -m bot.review.export [--nlu-dir data/nlu] [--out data/nlu/reviewed.yml] [--reports results/review]

Only messages with an active staff decision are written: "right topic" as an example of that intent,
"out of scope" as an example of out_of_scope, "not covered" as an example of not_covered (and, for whoever
writes the knowledge base, to needs-new-content.csv); "dismiss" nowhere.
Messages already in the training data (case and whitespace normalised) are skipped; one that another
example (or another decision) gives a different intent is left out and listed in conflicts.csv.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import yaml

from bot.config import PROJECT_ROOT
from bot.privacy import mask_personal_data
from bot.review.inbox import Decision, ReviewDecisions, normalised_text

REVIEWED_FILE = "reviewed.yml"
# The decision → the intent its message becomes an example of ("topic" takes the intent staff chose).
DECISION_INTENTS = {"out_of_scope": "out_of_scope", "not_covered": "not_covered"}
HEADER = ("# Written by `make reviewed` from staff decisions in the console's review inbox.\n"
          "# Do not edit by hand: decide (or undo) in the console and run `make reviewed` again.\n"
          "# Emails, phone numbers and names are masked; nothing here was added without a staff decision.\n")
_ENTITY = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_NAME_INTRO = re.compile(r"\b((?i:my name is|my name's|i am|i'm|this is|call me|called)\s+)"
                         r"((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)*)")


def mask_for_training(message: str) -> str:
    """`message` on one line, with emails, phone numbers and introduced names replaced by placeholders."""
    masked = mask_personal_data(" ".join(message.split()))
    return _NAME_INTRO.sub(lambda m: m.group(1) + "[name]", masked)


def training_examples(nlu_dir: Path, skip: Sequence[str] = (REVIEWED_FILE,)) -> Dict[str, Set[str]]:
    """Normalised example text → the intents it is an example of, over the NLU files in `nlu_dir`."""
    found: Dict[str, Set[str]] = defaultdict(set)
    for path in sorted(nlu_dir.rglob("*.yml")):
        if path.name in skip:
            continue
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if not isinstance(entry, dict) or "intent" not in entry:
                continue
            for line in str(entry.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found[normalised_text(_ENTITY.sub(r"\1", line[2:]))].add(str(entry["intent"]))
    return found


@dataclass
class ExportResult:
    """What one export wrote and left out."""

    examples: Dict[str, List[str]] = field(default_factory=dict)  # intent → masked messages
    already_known: List[str] = field(default_factory=list)
    conflicts: List[Tuple[str, str, str]] = field(default_factory=list)  # message, decided intent, existing intents
    needs_content: List[Decision] = field(default_factory=list)

    @property
    def written(self) -> int:
        """How many examples went into the YAML file."""
        return sum(len(messages) for messages in self.examples.values())


def plan_export(decisions: Iterable[Decision], existing: Dict[str, Set[str]]) -> ExportResult:
    """Which decided messages become which examples, which are known already and which conflict."""
    result = ExportResult()
    decided: Dict[str, Set[str]] = defaultdict(set)
    wanted: List[Tuple[str, str]] = []
    for decision in decisions:
        if decision.decision == "not_covered":
            result.needs_content.append(decision)
        intent = decision.intent if decision.decision == "topic" else DECISION_INTENTS.get(decision.decision)
        if not intent:
            continue
        message = mask_for_training(decision.message)
        key = normalised_text(message)
        if not key:
            continue
        decided[key].add(intent)
        wanted.append((message, intent))
    seen: Set[str] = set()
    for message, intent in wanted:
        key = normalised_text(message)
        if key in seen:
            continue
        seen.add(key)
        others = (existing.get(key, set()) | decided[key]) - {intent}
        if others:
            result.conflicts.append((message, ", ".join(sorted(decided[key])), ", ".join(sorted(existing.get(key, set())))))
        elif key in existing:
            result.already_known.append(message)
        else:
            result.examples.setdefault(intent, []).append(message)
    return result


def render_yaml(examples: Dict[str, List[str]]) -> str:
    """Rasa NLU YAML, one block per intent (sorted), with the header comment."""
    lines = [HEADER.rstrip("\n"), 'version: "3.1"']
    if not examples:
        return "\n".join(lines + ["nlu: []", ""])
    lines.append("nlu:")
    for intent in sorted(examples):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {message}" for message in examples[intent]]
    return "\n".join(lines) + "\n"


def write_export(result: ExportResult, out: Path, reports: Path) -> None:
    """The YAML file and the two CSV reports."""
    out.write_text(render_yaml(result.examples), encoding="utf-8")
    reports.mkdir(parents=True, exist_ok=True)
    with (reports / "needs-new-content.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message", "note", "decided_by", "decided_at", "conversation_id"])
        for d in result.needs_content:
            writer.writerow([mask_for_training(d.message), d.note, d.staff_email, d.decided_at.isoformat(), d.conversation_id])
    with (reports / "conflicts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["message", "decided_intents", "training_data_intents"])
        writer.writerows(result.conflicts)


def main(argv: Optional[List[str]] = None) -> int:
    """Export the active decisions; print the counts and every conflict."""
    parser = argparse.ArgumentParser(prog="python -m bot.review.export", description=__doc__.splitlines()[0])
    parser.add_argument("--nlu-dir", type=Path, default=PROJECT_ROOT / "data" / "nlu")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--reports", type=Path, default=PROJECT_ROOT / "results" / "review")
    args = parser.parse_args(argv)
    from bot.config import get_settings
    from bot.db import create_schema, engine_for

    create_schema(engine_for(get_settings().database_url))
    out = args.out or args.nlu_dir / REVIEWED_FILE
    result = plan_export(ReviewDecisions().active(), training_examples(args.nlu_dir, skip=(out.name,)))
    write_export(result, out, args.reports)
    print(f"{result.written} examples written to {out}; {len(result.already_known)} already in the training data; "
          f"{len(result.conflicts)} conflicts; {len(result.needs_content)} need new content ({args.reports / 'needs-new-content.csv'})")
    for message, decided, existing in result.conflicts:
        print(f"  conflict: {message!r} decided as {decided}, training data says {existing or '(another decision)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
