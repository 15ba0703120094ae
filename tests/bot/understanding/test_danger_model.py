"""The danger classifier of other languages: its training data, and how it scores whole messages and their sentences."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.understanding.danger_model import OtherLanguageDangerModel, read_danger_cases
from bot.understanding.safety import REPLY_LANGUAGES

DATA = PROJECT_ROOT / "data" / "safety"


@pytest.fixture(scope="module")
def model() -> OtherLanguageDangerModel:
    """The classifier trained on the project's own data, as the Rasa component trains it."""
    return OtherLanguageDangerModel.train(read_danger_cases(DATA), seed=42)


def test_the_data_has_danger_and_ordinary_messages_in_every_language() -> None:
    """data/safety/ labels danger 1 and ordinary 0, with both in each language that has a safety reply, and only those."""
    covered = set()
    for path in DATA.glob("*.yml"):
        per_language = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert set(per_language) <= REPLY_LANGUAGES
        assert all(sets["danger"] and sets["benign"] for sets in per_language.values())
        covered |= set(per_language)
    assert covered == REPLY_LANGUAGES
    labels = {label for _, label in read_danger_cases(DATA)}
    assert labels == {0, 1}


def test_a_file_with_other_keys_is_refused(tmp_path: Path) -> None:
    """A language entry with anything but danger: and benign: is an error, not silently skipped."""
    (tmp_path / "bad.yml").write_text("es:\n  danger: [\"me pega\"]\n  dangerous: [\"x\"]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="danger: and benign:"):
        read_danger_cases(tmp_path)


def test_one_class_is_not_enough() -> None:
    """Training without ordinary messages fails loudly."""
    with pytest.raises(ValueError):
        OtherLanguageDangerModel.train([("me pega", 1), ("me amenaza", 1)])


@pytest.mark.parametrize(
    "danger, ordinary",
    [
        ("mi marido me pega cada vez que se enfada", "mi marido no quiere pagar la hipoteca"),
        ("il m'a frappée devant les enfants", "il ne veut pas vendre la maison"),
        ("er hat mich gestern geschlagen", "er will das haus nicht verkaufen"),
        # languages only the classifier reads (no patterns)
        ("Eski eşim beni bıçakla tehdit etti, çocuklarım için çok korkuyorum", "Eski eşim nafakayı üç aydır ödemiyor"),
        ("Min pojkvän slog mig igen i går kväll", "Min pojkvän vill inte sälja lägenheten"),
        ("Fostul soț m-a amenințat că mă omoară dacă cer custodia", "Fostul soț nu vrea să împartă mobila"),
    ],
)
def test_danger_scores_above_the_same_setting_without_it(model: OtherLanguageDangerModel, danger: str, ordinary: str) -> None:
    """Violence by the same person in the same setting scores higher than an ordinary disagreement, with patterns or without."""
    danger_score, ordinary_score = model.probabilities([danger, ordinary])
    assert danger_score > 0.5 > ordinary_score


def test_a_long_message_counts_its_most_dangerous_sentence(model: OtherLanguageDangerModel) -> None:
    """Danger in the middle of a long message makes the message dangerous; the same message without it is not."""
    before = "Llevamos meses discutiendo por la venta del piso y el reparto de los muebles."
    after = "No sé qué hacer con el contrato de alquiler ni con la fianza."
    sentence = "ayer me empujó contra la pared y me agarró del cuello"
    with_danger, without_danger, alone = model.probabilities([f"{before} {sentence}. {after}", f"{before} {after}", sentence])
    assert without_danger < 0.5 <= alone
    assert with_danger >= alone
    assert model.probabilities([]) == []


@pytest.mark.parametrize(
    "text",
    [
        "Здравствуйте, мне нужна помощь с разводом.",
        "Добрый день. Хочу узнать про медиацию.",
        "こんにちは。離婚について相談したいです。",
        "Γεια σας. Θέλω βοήθεια με το διαζύγιο μου.",
    ],
)
def test_a_language_the_examples_never_use_is_not_danger(model: OtherLanguageDangerModel, text: str) -> None:
    """A message none of whose words the examples use scores 0, not what its full stops alone would weigh."""
    assert model.probabilities([text]) == [0.0]
