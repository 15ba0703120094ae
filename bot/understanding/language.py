"""Tells when a message is clearly not English, so the assistant can say it reads English for now."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
ENGLISH_WORDS = frozenset(
    "the a an and or is are was be to of in on for with my me i we you he she they it this that what "
    "how do does can will should not no yes have has want don't can't won't about from our your".split()
)
# Frequent function words of other languages written in the Latin script (none is an English word).
OTHER_LANGUAGE_WORDS = frozenset(
    "el la los las que del por para una con mi es está cómo qué quiero tengo hacer "
    "le les et est je mon ma avec pour une des pas ne comment suis veux "
    "der die das und ist ich mein mit nicht wie ein eine zu ich bin "
    "il che è non mio per sono voglio "
    "o não com um uma meu é "
    "het een niet mijn ik wil "
    "jest nie się jak mój "
    "ve bir bu ne ile "
    "och är jag inte med".split()
)


def non_latin_share(text: str) -> float:
    """The share of letters in `text` that are not Latin letters."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return 0.0
    non_latin = sum(1 for char in letters if not unicodedata.name(char, "").startswith("LATIN"))
    return non_latin / len(letters)


def looks_non_english(text: str) -> bool:
    """True when the text is mostly in another script, or its function words are mostly foreign."""
    letters = sum(1 for char in text if char.isalpha())
    if letters >= 3 and non_latin_share(text) > 0.5:
        return True
    words = [word.lower() for word in _WORD.findall(text)]
    foreign = [word for word in words if word in OTHER_LANGUAGE_WORDS]
    english = sum(1 for word in words if word in ENGLISH_WORDS)
    return len(set(foreign)) >= 2 and len(foreign) > 2 * english
