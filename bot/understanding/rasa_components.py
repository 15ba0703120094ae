"""Rasa NLU components: canonical entities, the second-opinion classifiers and the arbiter."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import joblib

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

from bot.understanding.arbiter import Thresholds, arbitrate_message
from bot.understanding.language import message_language
from bot.understanding import danger_model, fact_model, facts, intents, scope, sentence_encoder
from bot.understanding.danger_model import OtherLanguageDangerModel, read_danger_cases
from bot.understanding.fact_model import FactModel, fact_data_files, read_fact_data, training_cases
from bot.understanding.scope import ASKS_RECOMMENDATION, ENGLISH_WORDS, IntentModel, ScopeModel

SCOPE_KEY = "scope"
ARBITER_KEY = "arbiter"
LANGUAGE_KEY = "language"


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


class _TrainedOnIntents(GraphComponent):
    """A component holding one model trained on the intent examples, stored with the Rasa model."""

    MODEL_FILE = "model.joblib"

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The random seed, so training is repeatable, and the MiniLM layers read (0: n-grams only)."""
        return {"random_seed": 42, "meaning_layers": 0}

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, model: Any = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "_TrainedOnIntents":
        """An untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext, **kwargs: Any
    ) -> "_TrainedOnIntents":
        """The component with the model trained with the Rasa model (none if it wasn't trained)."""
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / cls.MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("%s was not trained with this model", cls.__name__)
            model = None
        return cls(config, model_storage, resource, model)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The source of the model code, so Rasa's training cache retrains when that code changes."""
        modules = (scope, sentence_encoder, fact_model, facts, intents, danger_model)
        sources = (*(Path(module.__file__) for module in modules), Path(__file__), *cls.data_files(config))
        return hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()

    @classmethod
    def data_files(cls, config: Dict[str, Any]) -> List[Path]:
        """Training files of the component's own, besides Rasa's training data."""
        return []

    def fit(self, examples: List[tuple]) -> Any:
        """Train the model on (text, intent) pairs."""
        raise NotImplementedError

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the model on the intent examples and store it with the Rasa model."""
        self._model = self.fit([(example.get(TEXT), example.get(INTENT)) for example in training_data.intent_examples])
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self._model, directory / self.MODEL_FILE)
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to the training data."""
        return training_data


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(_TrainedOnIntents):
    """The intent classifier (bot/understanding/scope.py IntentModel): intent and ranking for each message."""

    def fit(self, examples: List[tuple]) -> IntentModel:
        """A calibrated linear SVM over word and character n-grams (and the sentence embedding, with `meaning_layers`)."""
        return IntentModel.train(examples, seed=int(self._config["random_seed"]),
                                 meaning_layers=int(self._config.get("meaning_layers") or 0))

    def process(self, messages: List[Message]) -> List[Message]:
        """Set `intent` and `intent_ranking`; typed payloads ("/intent") keep what Rasa's parser set."""
        if self._model is None:
            return messages
        for message, ranking in zip(messages, self._model.rankings([m.get(TEXT) or "" for m in messages])):
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class ScopeClassifier(_TrainedOnIntents):
    """Trains and applies the second-opinion classifiers of bot/understanding/scope.py and the fact extractor."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The random seed, the MiniLM layers read, the folder of fact-labelled messages and that of other-language danger messages."""
        return {"random_seed": 42, "meaning_layers": 0, "fact_data": "data/facts", "danger_data": "data/safety"}

    @classmethod
    def data_files(cls, config: Dict[str, Any]) -> List[Path]:
        """The fact-labelled messages and the other-language danger messages."""
        danger_files = sorted(Path(config.get("danger_data") or "data/safety").glob("*.yml"))
        return fact_data_files(Path(config.get("fact_data") or "data/facts")) + danger_files

    def fit(self, examples: List[tuple]) -> ScopeModel:
        """One logistic regression per task, and the fact extractor on the fact data and the intent examples."""
        seed = int(self._config["random_seed"])
        # Messages labelled as stating danger, ruling it out ("he's never been violent") or free of it
        # ("she came out swinging in her letter") teach the danger task too.
        cases, danger = read_fact_data(Path(self._config.get("fact_data") or "data/facts"))
        model = ScopeModel.train(examples, seed=seed, extra={scope.DANGER: danger}, vocabulary=[text for text, _ in cases],
                                 meaning_layers=int(self._config.get("meaning_layers") or 0))
        model.facts = FactModel.train(training_cases(examples, cases), seed=seed, features=model.features,
                                      transform=model.training_rows.transform if model.training_rows else None)
        model.training_rows = None
        # Other-language examples of the NLU data are ordinary messages of those languages.
        other_language = read_danger_cases(Path(self._config.get("danger_data") or "data/safety"))
        other_language += [(text, 0) for text, intent in examples if intent == intents.NON_ENGLISH]
        if other_language:
            model.other_language_danger = OtherLanguageDangerModel.train(other_language, seed=seed)
        return model

    def process(self, messages: List[Message]) -> List[Message]:
        """Add each task's probability as `scope`."""
        if self._model is None:
            return messages
        texts = [message.get(TEXT) or "" for message in messages]
        for message, scores in zip(messages, self._model.scores(texts)):
            message.set(SCOPE_KEY, scores, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MessageArbiter(GraphComponent):
    """Sets the intent the assistant acts on (bot/understanding/arbiter.py), keeping the ranking below it."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Thresholds; config.yml sets the tuned values."""
        defaults = Thresholds()
        return {name: getattr(defaults, name) for name in Thresholds.__dataclass_fields__}

    def __init__(self, thresholds: Thresholds) -> None:
        self._thresholds = thresholds

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource, execution_context: ExecutionContext
    ) -> "MessageArbiter":
        """The arbiter with the configured thresholds."""
        fields = Thresholds.__dataclass_fields__
        return cls(Thresholds(**{name: float(value) for name, value in config.items() if name in fields}))

    def process(self, messages: List[Message]) -> List[Message]:
        """Decide each message's intent; typed payloads ("/intent") are left to the payload guard."""
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.strip() or text.startswith("/"):
                continue
            predicted: Dict[str, Any] = message.get(INTENT) or {}
            scores = message.get(SCOPE_KEY) or {}
            language = message_language(text, scores.get(ENGLISH_WORDS))
            verdict = arbitrate_message(
                text, predicted.get("name"), float(predicted.get("confidence") or 0.0), scores,
                message.get(ENTITIES) or [], language, self._thresholds, message.get(INTENT_RANKING_KEY) or [],
            )
            message.set(LANGUAGE_KEY, language, add_to_output=True)
            asks_recommendation = scores.get(ASKS_RECOMMENDATION, 0.0) >= self._thresholds.recommendation
            message.set(
                ARBITER_KEY,
                {"intent": predicted.get("name"), "reason": verdict.reason, "asks_recommendation": asks_recommendation},
                add_to_output=True,
            )
            if verdict.intent and verdict.intent != predicted.get("name"):
                _promote(message, verdict.intent)
        return messages
