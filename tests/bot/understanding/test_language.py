"""Recognising messages that are clearly not in English."""

from __future__ import annotations

import pytest

from bot.understanding.language import looks_non_english


@pytest.mark.parametrize(
    "text, expected",
    [
        ("¿cuál es la diferencia entre mediación y negociación?", True),
        ("mon propriétaire refuse de discuter avec moi", True),
        ("mein Vermieter will nicht mit mir reden", True),
        ("调解和谈判有什么区别？", True),
        ("какая разница между медиацией и переговорами", True),
        ("ما الفرق بين الوساطة والتفاوض", True),
        ("what's the difference between mediation and negotiation?", False),
        ("my landlord refuses to negotiate", False),
        ("la la la", False),
        ("José and I can't agree on the deposit", False),
        ("🙂🙂🙂", False),
        ("ok", False),
    ],
)
def test_looks_non_english(text: str, expected: bool) -> None:
    """Other scripts and foreign function words are caught; English with names or emoji is not."""
    assert looks_non_english(text) is expected
