"""The safety reply comes in the language the danger was written in, with the emergency number."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import ActionSafety
from tests.actions.conftest import DOMAIN, make_tracker


@pytest.mark.parametrize(
    "text, language, opening",
    [
        ("mi ex me pega y tengo miedo", "es", "Tu seguridad es lo primero."),
        ("il m'a menacé de me tuer", "fr", "Votre sécurité passe avant tout."),
        ("er hat mich geschlagen", "de", "Ihre Sicherheit geht vor."),
    ],
)
async def test_danger_in_another_language_gets_guidance_in_it(text: str, language: str, opening: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A danger message in a supported language gets the translated guidance with the configured number."""
    monkeypatch.setenv("EMERGENCY_NUMBER", "112")
    monkeypatch.setenv("FIRM_CONTACT", "+44 20 7946 0000")
    dispatcher = CollectingDispatcher()
    assert await ActionSafety().run(dispatcher, make_tracker("safety", text=text), DOMAIN) == []
    [sent] = dispatcher.messages
    assert sent["text"].startswith(opening)
    assert "112" in sent["text"] and "+44 20 7946 0000" in sent["text"] and "{" not in sent["text"]
    assert sent["custom"] == {"kind": "safety", "language": language, "follow_ups": [{"title": "Talk to a person", "payload": "/request_consultation"}]}


async def test_without_a_configured_number_the_translation_names_the_common_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset EMERGENCY_NUMBER: the translated reply names 112 / 911, not the English default phrase."""
    monkeypatch.delenv("EMERGENCY_NUMBER", raising=False)
    dispatcher = CollectingDispatcher()
    await ActionSafety().run(dispatcher, make_tracker("safety", text="mi marido me amenazó con matarme"), DOMAIN)
    assert "112 / 911" in dispatcher.messages[0]["text"] and "your local" not in dispatcher.messages[0]["text"]


@pytest.mark.parametrize("text", ["he hit me and I'm scared", "my ex threatened to kill me"])
async def test_english_danger_gets_the_domain_response(text: str) -> None:
    """English (and any language without a translation) gets `utter_safety` from the domain."""
    dispatcher = CollectingDispatcher()
    await ActionSafety().run(dispatcher, make_tracker("safety", text=text), DOMAIN)
    assert dispatcher.messages[0]["response"] == "utter_safety"
