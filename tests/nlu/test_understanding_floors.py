"""The trained model on the report sets of tests/nlu/ (never trained or tuned on): every figure holds its floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.understanding.evaluation import FLOORS, Report, evaluate, model_parser, read_sets

MODEL = PROJECT_ROOT / "models" / "commonground.tar.gz"


@pytest.fixture(scope="module")
def report() -> Report:
    """The figures of the trained model (fixed seeds: deterministic for one model)."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run the tests through `make test`, which trains it first")
    return evaluate(model_parser(MODEL), read_sets(Path(__file__).parent))


@pytest.mark.parametrize("figure", list(FLOORS))
def test_figure_holds_its_floor(report: Report, figure: str) -> None:
    """Each figure of `make eval` is at or past its floor; the misses are listed when it is not."""
    assert figure in report.figures, f"{figure} was not measured: is its set missing from tests/nlu/?"
    direction, floor = FLOORS[figure]
    value = report.figures[figure]
    missed = "\n".join(report.misses.get(figure, [])[:40])
    if direction == ">=":
        assert value >= floor, f"{figure} = {value:.3f} < {floor}\n{missed}"
    else:
        assert value <= floor, f"{figure} = {value:.3f} > {floor}\n{missed}"


def test_every_fact_holds_its_floors(report: Report) -> None:
    """Precision and recall of every fact, not only the lowest, hold the floors."""
    precision, recall = FLOORS["fact precision (lowest)"][1], FLOORS["fact recall (lowest)"][1]
    low = {fact: s for fact, s in report.facts.items() if s["support"] and (s["precision"] < precision or s["recall"] < recall)}
    assert not low, f"{low}\n" + "\n".join(report.misses.get("facts", [])[:40])
