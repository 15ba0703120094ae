"""Recognising danger in a message (tests/bot/understanding/safety_samples.yml): every real danger, no everyday wording."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import yaml

from bot.messages import message
from bot.understanding.safety import (
    SAFETY_LANGUAGES,
    DANGER,
    HYPERBOLE,
    danger_wording,
    is_safety_concern,
    safety_language,
    safety_message_key,
    safety_reply_language,
    safety_signals,
)

SAMPLES: Dict = yaml.safe_load((Path(__file__).parent / "safety_samples.yml").read_text(encoding="utf-8"))
OTHER_DANGER: List[Tuple[str, str]] = [
    (text, code) for code, sets in SAMPLES["other_languages"].items() for text in sets["danger"]
]
OTHER_BENIGN: List[Tuple[str, str]] = [
    (text, code) for code, sets in SAMPLES["other_languages"].items() for text in sets["benign"]
]
DISPUTE_CONTEXT = (
    "We have been arguing about the house and the money for months and nothing moves. {} "
    "What process would you recommend for us?"
)


@pytest.mark.parametrize("text", SAMPLES["danger"])
def test_danger_is_recognised(text: str) -> None:
    """Violence, threats of harm, fear, stalking, weapons against someone and self-harm are safety concerns."""
    assert is_safety_concern(text)
    assert safety_language(text) == "en"


@pytest.mark.parametrize("text", SAMPLES["danger"])
def test_danger_is_recognised_inside_a_long_dispute_message(text: str) -> None:
    """The same danger is caught when it sits in the middle of a long dispute message."""
    assert is_safety_concern(DISPUTE_CONTEXT.format(text))


@pytest.mark.parametrize("text", SAMPLES["benign"])
def test_everyday_and_legal_wording_is_not_a_safety_concern(text: str) -> None:
    """Legal threats, figures of speech and everyday uses of safe/threat/kill/knife/abuse are no alarm."""
    assert safety_signals(text) == []
    assert safety_language(text) is None


@pytest.mark.parametrize("text, code", OTHER_DANGER)
def test_danger_in_other_languages_is_recognised_in_its_language(text: str, code: str) -> None:
    """Danger written in es/fr/de/it/pt/nl/pl triggers, and the reply language is the message's."""
    assert is_safety_concern(text)
    assert safety_signals(text, language=code)
    assert safety_language(text) == code


@pytest.mark.parametrize("text, code", OTHER_BENIGN)
def test_ordinary_messages_in_other_languages_are_not_a_safety_concern(text: str, code: str) -> None:
    """"I'm not sure" and ordinary dispute wording in other languages are no alarm."""
    assert not is_safety_concern(text)


@pytest.mark.parametrize("text, code", OTHER_DANGER)
def test_only_english_patterns_without_a_language(text: str, code: str) -> None:
    """With language="en" only the English patterns apply, so another language's danger is not matched there."""
    assert safety_signals(text, language="en") == []


@pytest.mark.parametrize("code", [code for code in SAFETY_LANGUAGES if code != "en"])
def test_every_language_has_a_safety_reply_with_the_emergency_number_and_contact(code: str) -> None:
    """Each translated safety reply exists and fills in the emergency number and the firm's contact."""
    key = safety_message_key(code)
    assert key == f"safety_{code}"
    text = message(key, emergency_number="<EMERGENCY>", firm_contact="<CONTACT>")
    assert "<EMERGENCY>" in text and "<CONTACT>" in text


@pytest.mark.parametrize("code", ["en", None, "zh", "ja", "ar"])
def test_english_and_unsupported_languages_use_the_domain_reply(code: str) -> None:
    """English and languages without a translation have no messages.yml key (domain.yml `utter_safety` applies)."""
    assert safety_message_key(code) is None


@pytest.mark.parametrize(
    "text, code",
    [
        ("mi ex me amenazó con matarme y no sé qué hacer con el divorcio", "es"),
        ("he threatened to kill me", "en"),
    ],
)
def test_safety_language_follows_the_message(text: str, code: str) -> None:
    """A danger message gets the language of the patterns that found it."""
    assert safety_language(text) == code


@pytest.mark.parametrize(
    "text, detected, code",
    [
        # a pattern's language wins over what the NLU read
        ("mi ex me amenazó con matarme", "pt", "es"),
        # no pattern (the learned classifier found the danger): the message's own language
        ("ayer me agarró del cuello delante de los niños", "es", "es"),
        ("hij greep me bij mijn keel", "nl", "nl"),
        # a language only the learned classifier reads has its own reply too
        ("kocam beni tehdit etti", "tr", "tr"),
        ("min man hotar att döda mig", "sv", "sv"),
        # a language without a translated reply gets English
        ("丈夫威胁要杀了我", "zh", "en"),
        ("he grabbed me by the throat", "en", "en"),
    ],
)
def test_safety_reply_language(text: str, detected: str, code: str) -> None:
    """The safety reply is in the language of the pattern that found danger, else the message's, else English."""
    assert safety_reply_language(text, detected) == code


@pytest.mark.parametrize(
    "text, wording",
    [
        ("my mum will kill me if I forget her birthday again", HYPERBOLE),
        ("she'll strangle me if I spoil the ending", HYPERBOLE),
        ("my girlfriend's gonna kill me, I forgot to record her show", HYPERBOLE),
        ("he'll kill me if I leave", HYPERBOLE),
        # a threat reported as a threat, or with other danger beside it, is not hyperbole
        ("he threatened to kill me if I leave", DANGER),
        ("he hit me and he'll kill me if I tell anyone", DANGER),
        ("he will kill me, he has a gun", DANGER),
        ("he wants to kill me", DANGER),
        ("mi marido me pega cuando bebe", DANGER),
        ("what time is it", None),
        # harm the user rules out is no alarm by its wording (the learned classifiers still read the message)
        ("He's not violent, just a bully with deadlines", None),
        ("my neighbour is not dangerous, just rude", None),
        ("he'd never hurt me, he's just stubborn", None),
        ("she has never hit me but she won't negotiate", None),
        ("he didn't hit me, he just shouted", None),
        ("I'm not in danger, I just want this sorted", None),
        ("my kids are not in danger", None),
        ("he has never once threatened me, he's just stubborn", None),
        ("she hasn't threatened me, she just won't reply", None),
        ("I'm worried about the money, not about my safety", None),
        # a threat to sue or to go to court is no danger in any language; a bare threat is
        ("mon ex m'a menacé de m'emmener au tribunal", None),
        ("mi ex me ha amenazado con denunciarme", None),
        ("er bedroht mich mit einer Klage", None),
        ("mi ha minacciato di portarmi in tribunale", None),
        ("mon ex m'a menacée", DANGER),
        ("mi ex me ha amenazado", DANGER),
        ("er bedroht mich", DANGER),
        ("he threatened me", DANGER),
        # a word ending in "nt" is no contraction typed without its apostrophe
        ("the tenant hit me", DANGER),
        ("my tenant threatened to beat me up", DANGER),
        ("he didnt hit me, he just shouted", None),
        # a race to the courthouse is no beating; a beating to the ground is
        ("my ex wants to beat me to the courthouse and file first", None),
        ("she beat us to filing", None),
        ("he beat me to the ground", DANGER),
        # negation elsewhere in the sentence, or of stopping, leaves the danger
        ("it's not the first time he's hit me", DANGER),
        ("he says if I don't sign he'll hurt me", DANGER),
        ("he won't stop hitting me", DANGER),
        ("he never stops hitting me", DANGER),
        ("I'm not sure but I think I am in danger", DANGER),
        ("he is very violent", DANGER),
        # "killed himself laughing" is an idiom; killing oneself is not
        ("my nephew nearly killed himself laughing when I fell off the ladder", None),
        ("I nearly killed myself laughing at his letter", None),
        ("I want to kill myself", DANGER),
        ("he tried to kill himself last year", DANGER),
    ],
)
def test_danger_wording(text: str, wording: object) -> None:
    """Danger words only in the frame "someone will kill me" are hyperbole for the arbiter to weigh; harm or a threat
    right after a negation, a threat of court, a race and the laughing idiom are none; any other danger is danger."""
    assert danger_wording(text) == wording
    assert is_safety_concern(text) is (wording is not None)

