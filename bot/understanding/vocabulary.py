"""Domain vocabulary for the entity ruler: every surface form mapped to a canonical value."""

from __future__ import annotations

import re
from typing import Dict, Iterator, Mapping, Sequence, Tuple

# Canonical process -> the words people use for it (inflections and common misspellings).
PROCESS_TERMS: Mapping[str, Sequence[str]] = {
    "mediation": (
        "mediation", "mediations", "mediator", "mediators", "mediate", "mediates", "mediated",
        "mediating", "mediaton", "meditation process", "mediater", "mediatior", "mediaion",
        "shuttle mediation",
    ),
    "negotiation": (
        "negotiation", "negotiations", "negotiate", "negotiates", "negotiated", "negotiating",
        "negotiator", "negotiators", "negociation", "negotation", "negotiaton", "negociate",
        "negotiatoin",
    ),
    "arbitration": (
        "arbitration", "arbitrations", "arbitrator", "arbitrators", "arbiter", "arbitrate",
        "arbitrated", "arbitrating", "arbitation", "arbritration", "abritration", "arbitraton",
    ),
    "court": (
        "court", "courts", "courtroom", "judge", "judges", "litigation", "litigate", "lawsuit",
        "law suit", "sue", "suing", "sued", "trial", "tribunal", "small claims",
    ),
}

# Ways of resolving a dispute that the firm's guide never mentions. A question about one of them
# ("what is conciliation?", "is an ombudsman like an arbitrator?") is one the guide doesn't answer,
# however much it sounds like a question about mediation.
UNCOVERED_PROCESS_TERMS: Sequence[str] = (
    "conciliation", "conciliations", "conciliator", "conciliators", "concilliation", "conciliaton",
    "early conciliation", "ombudsman", "ombudsmen", "ombudsperson", "ombuds", "ombudsman's",
    "collaborative law", "collaborative divorce", "collaborative practice", "collaborative lawyer",
    "collaborative lawyers", "collaborative process", "adjudication", "adjudications", "adjudicator",
    "adjudicators", "adjudicaton", "expert determination", "expert determiner", "neutral evaluation",
    "neutral evaluator", "med-arb", "med arb", "medarb", "arb-med", "arb med", "mediation-arbitration",
    "restorative justice", "acas", "dispute board", "dispute review board", "dispute adjudication board",
    "parenting coordinator", "parenting coordination", "family group conference",
    "family group conferencing", "online dispute resolution", "mini-trial", "mini trial",
)
_UNCOVERED_PROCESS = re.compile(
    r"(?<![\w-])(?:" + "|".join(re.escape(term) for term in sorted(UNCOVERED_PROCESS_TERMS, key=len, reverse=True)) + r")(?![\w-])"
)


def names_uncovered_process(text: str) -> bool:
    """Whether a message names a way of resolving disputes that the guide doesn't cover."""
    return bool(_UNCOVERED_PROCESS.search(" ".join((text or "").lower().replace("’", "'").split())))


# Canonical party -> how people name the other side.
PARTY_TERMS: Mapping[str, Sequence[str]] = {
    "ex_partner": (
        "ex", "my ex", "ex-husband", "ex husband", "ex-wife", "ex wife", "ex-partner", "ex partner",
        "ex-girlfriend", "ex-boyfriend", "husband", "wife", "spouse", "co-parent", "coparent",
        "co parent", "baby mama", "baby daddy",
    ),
    "landlord": ("landlord", "landlords", "landlady", "letting agent", "property manager", "landord"),
    "tenant": ("tenant", "tenants", "lodger", "renter", "flatmate", "roommate"),
    "employer": ("employer", "boss", "manager", "my company", "hr", "supervisor", "workplace"),
    "employee": ("employee", "employees", "staff member", "worker"),
    "neighbour": ("neighbour", "neighbours", "neighbor", "neighbors", "nieghbour", "neighbour's", "neighbor's"),
    "business_partner": (
        "business partner", "business partners", "co-founder", "cofounder", "co founder",
        "shareholder", "partner in the business",
    ),
    "family": (
        "family", "brother", "brothers", "sister", "sisters", "sibling", "siblings", "mother",
        "father", "mum", "mom", "dad", "parents", "son", "daughter", "aunt", "uncle", "cousin",
        "in-laws", "stepmother", "stepfather", "grandmother", "grandfather",
    ),
    "contractor": ("contractor", "builder", "plumber", "tradesman", "supplier", "vendor"),
    "client": ("client", "clients", "customer", "customers"),
}

ENTITY_TERMS: Mapping[str, Mapping[str, Sequence[str]]] = {
    "process": PROCESS_TERMS,
    "party": PARTY_TERMS,
}


def ruler_patterns() -> Iterator[Dict[str, str]]:
    """Entity-ruler phrase patterns: label is the Rasa entity, id the canonical value."""
    for label, terms in ENTITY_TERMS.items():
        for canonical, forms in terms.items():
            for form in forms:
                yield {"label": label, "pattern": form, "id": canonical}


def canonical_value(label: str, surface: str) -> Tuple[str, str]:
    """The (entity, canonical value) for a surface form, matching case-insensitively."""
    lowered = surface.lower()
    for canonical, forms in ENTITY_TERMS[label].items():
        if lowered in forms:
            return label, canonical
    raise KeyError(f"{surface!r} is not a known {label}")
