"""Rasa NLU components that adapt our spaCy pipeline and safety rules to Rasa's graph."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.understanding.facts import is_advice_request
from bot.understanding.language import looks_non_english
from bot.understanding.safety import safety_signals

SAFETY_INTENT = "safety"
RECOMMEND_INTENT = "recommend_process"
NON_ENGLISH_INTENT = "non_english"


def _promote(message: Message, intent_name: str) -> None:
    """Make `intent_name` the message's intent, keeping the classifier's ranking below it."""
    ranking = [item for item in message.get(INTENT_RANKING_KEY) or [] if item.get("name") != intent_name]
    override = {"name": intent_name, "confidence": 1.0}
    message.set(INTENT, override, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [override] + ranking, add_to_output=True)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyNLP"
)
class CanonicalEntityExtractor(SpacyEntityExtractor):
    """Entities from our entity ruler, valued by the pattern's canonical id ("mediators" -> "mediation")."""

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        """Add `process` and `party` entities, reusing the doc SpacyNLP already parsed."""
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT]) or model.model(message.get(TEXT) or "")
            entities = [
                {
                    "entity": ent.label_,
                    "value": ent.ent_id_ or ent.text.lower(),
                    "text": ent.text,
                    "start": ent.start_char,
                    "end": ent.end_char,
                    "confidence": None,
                }
                for ent in doc.ents
            ]
            extracted = self.filter_irrelevant_entities(
                self.add_extractor_name(entities), self._config["dimensions"]
            )
            message.set(ENTITIES, message.get(ENTITIES, []) + extracted, add_to_output=True)
        return messages


class _StatelessOverride(GraphComponent):
    """A rule applied after the classifier; it has no state and nothing to train."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "_StatelessOverride":
        """Create the component."""
        return cls()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageGuard(_StatelessOverride):
    """A message clearly not in English gets the `non_english` intent (and a polite note)."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Promote `non_english` for text in another script or with foreign function words."""
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.startswith("/") and looks_non_english(text):
                _promote(message, NON_ENGLISH_INTENT)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class AdviceRequestOverride(_StatelessOverride):
    """A situation described together with "what should I do?" starts a recommendation (bot/understanding/facts.py)."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Promote `recommend_process` over a situation intent when the message asks what to do."""
        for message in messages:
            predicted: Optional[Dict[str, Any]] = message.get(INTENT) or {}
            ranked = [item.get("name") for item in message.get(INTENT_RANKING_KEY) or []]
            if is_advice_request(predicted.get("name"), ranked, message.get(TEXT) or ""):
                _promote(message, RECOMMEND_INTENT)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class SafetyOverride(_StatelessOverride):
    """Makes `safety` the intent whenever a message signals danger, whatever else it asks."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Put `safety` first, keeping the classifier's ranking below it."""
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/") or not safety_signals(text):
                continue
            predicted: Optional[Dict[str, Any]] = message.get(INTENT)
            if not (predicted and predicted.get("name") == SAFETY_INTENT):
                _promote(message, SAFETY_INTENT)
        return messages
