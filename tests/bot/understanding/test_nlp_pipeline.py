"""The project's spaCy pipeline: lemmas from the lookup tables and canonical domain entities."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import pytest
import spacy
from spacy.language import Language

from bot.understanding.pipeline import build_pipeline, save_pipeline
from bot.understanding.vocabulary import ENTITY_TERMS, canonical_value, names_uncovered_process


@pytest.fixture(scope="module")
def nlp() -> Language:
    """The pipeline, built in memory."""
    return build_pipeline()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("What does an arbitrator do?", [("process", "arbitration")]),
        ("what does a mediator do", [("process", "mediation")]),
        ("Is Mediaton the same as negociation?", [("process", "mediation"), ("process", "negotiation")]),
        ("my landlord wants to go to court", [("party", "landlord"), ("process", "court")]),
        ("My ex-husband refuses to negotiate", [("party", "ex_partner"), ("process", "negotiation")]),
        ("me and my business partner tried mediating", [("party", "business_partner"), ("process", "mediation")]),
        ("my neighbor and my sister", [("party", "neighbour"), ("party", "family")]),
        ("the weather is nice today", []),
    ],
)
def test_entities_are_canonical(nlp: Language, text: str, expected: List[Tuple[str, str]]) -> None:
    """Inflections, spellings and typos map to one canonical value per entity."""
    assert [(ent.label_, ent.ent_id_) for ent in nlp(text).ents] == expected


def test_lookup_lemmatizer_is_active(nlp: Language) -> None:
    """Lemmas come from spacy-lookups-data, so inflected forms share features."""
    assert [token.lemma_ for token in nlp("mediators were negotiating")] == ["mediator", "be", "negotiate"]


def test_saved_pipeline_loads_with_spacy(tmp_path: Path) -> None:
    """What `make` writes to disk is loadable by `spacy.load`, as Rasa's SpacyNLP does."""
    loaded = spacy.load(save_pipeline(tmp_path / "pipeline"))
    assert loaded.pipe_names == ["lemmatizer", "entity_ruler"]
    assert [ent.ent_id_ for ent in loaded("arbitration").ents] == ["arbitration"]


def test_every_surface_form_is_unique_per_entity() -> None:
    """No word maps to two canonical values of the same entity."""
    for label, terms in ENTITY_TERMS.items():
        forms = [form for values in terms.values() for form in values]
        assert len(forms) == len(set(forms)), label
        assert canonical_value(label, forms[0].upper())[1] in terms


@pytest.mark.parametrize(
    "text, named",
    [
        ("what is conciliation", True),
        ("Is an Ombudsman like an arbitrator?", True),
        ("is collaborative divorce cheaper than mediation", True),
        ("how does med-arb work", True),
        ("can ACAS help with my employer", True),
        ("what’s an adjudicator", True),
        # everyday words that contain or resemble a name stay unnamed
        ("be conciliatory with him", False),
        ("I just want someone to adjudicate", False),
        ("what is mediation", False),
        ("my medarbeiter won't pay", False),
        ("", False),
    ],
)
def test_processes_the_guide_does_not_cover_are_recognised(text: str, named: bool) -> None:
    """Messages naming a dispute process the guide never mentions are recognised as such, case and apostrophes aside."""
    assert names_uncovered_process(text) is named
