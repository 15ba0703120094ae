"""Builds the project's spaCy pipeline: blank English, lookup lemmatizer, domain entity ruler."""

from __future__ import annotations

import sys
from pathlib import Path

import spacy
from spacy.language import Language

from bot.config import get_settings
from bot.understanding.vocabulary import ruler_patterns

PIPELINE_NAME = "en_commonground"
PIPELINE_VERSION = "1.0.0"


def build_pipeline() -> Language:
    """A blank English pipeline with lemmas from spacy-lookups-data and our entity patterns."""
    nlp = spacy.blank("en")
    nlp.meta["name"] = "commonground"
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    nlp.initialize()
    ruler.add_patterns(list(ruler_patterns()))
    return nlp


def save_pipeline(path: Path) -> Path:
    """Build the pipeline and write it to `path` (loadable with `spacy.load(path)`)."""
    nlp = build_pipeline()
    path.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


def main() -> int:
    """Write the pipeline to `SPACY_MODEL_PATH` (default build/spacy-en-commonground)."""
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else get_settings().spacy_model_path
    save_pipeline(target)
    print(f"spaCy pipeline written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
