"""The NumPy MiniLM gives sentence-transformers' vectors, and its embeddings behave as the classifiers need."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest

from bot.understanding.sentence_encoder import (
    DIMENSIONS, CachedEncoder, MeaningFeatures, SentenceEncoder, _gelu, shared_encoder,
)

REFERENCE = json.loads((Path(__file__).parent / "minilm_reference.json").read_text(encoding="utf-8"))["vectors"]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    """The full six-layer model from the installed package."""
    return SentenceEncoder()


def test_vectors_match_sentence_transformers(encoder: SentenceEncoder) -> None:
    """Every reference text, encoded in one batch, gives the vector sentence-transformers computed."""
    vectors = encoder.encode([row["text"] for row in REFERENCE])
    expected = np.array([row["vector"] for row in REFERENCE], dtype=np.float32)
    assert vectors.shape == (len(REFERENCE), DIMENSIONS)
    assert np.abs(vectors - expected).max() < 1e-5
    assert (vectors * expected).sum(axis=1).min() > 0.99999


def test_a_text_alone_gives_its_vector_in_a_batch(encoder: SentenceEncoder) -> None:
    """Padding a short text next to a long one changes nothing: the mask keeps it out of attention and pooling."""
    texts = [row["text"] for row in REFERENCE]
    together = encoder.encode(texts)
    for index, text in enumerate(texts):
        assert np.abs(encoder.encode([text])[0] - together[index]).max() < 1e-5


def test_many_batches_in_parallel_give_each_texts_own_vector(encoder: SentenceEncoder) -> None:
    """More texts than one batch (encoded batch by batch on every core) give what each text gives alone, in order."""
    texts = [f"{row['text']} {number}" for number in range(30) for row in REFERENCE]
    together = encoder.encode(texts)
    for index in (0, 7, 64, 65, 131, len(texts) - 1):
        assert np.abs(encoder.encode([texts[index]])[0] - together[index]).max() < 1e-5


@pytest.mark.parametrize(
    "text, near, far",
    [
        ("I feel pressured to sign", "they keep pushing me to sign the agreement quickly", "what's the weather like tomorrow"),
        ("we don't talk anymore", "communication between us broke down", "how do I reset my router"),
        ("does the mediator decide who is right", "will the mediator rule on our case", "book a table for two tonight"),
    ],
)
def test_similar_meanings_are_closer_than_unrelated_ones(encoder: SentenceEncoder, text: str, near: str, far: str) -> None:
    """Wording that shares few words with a text but its meaning lies closer to it than an unrelated request."""
    anchor, similar, unrelated = encoder.encode([text, near, far])
    assert float(anchor @ similar) > float(anchor @ unrelated) + 0.2


def test_fewer_layers_give_other_unit_vectors() -> None:
    """The first two layers alone give unit-length vectors of their own (not the full model's)."""
    texts = [row["text"] for row in REFERENCE[:3]]
    short = SentenceEncoder(layers=2).encode(texts)
    assert np.allclose(np.linalg.norm(short, axis=1), 1.0, atol=1e-5)
    full = np.array([row["vector"] for row in REFERENCE[:3]], dtype=np.float32)
    assert (short * full).sum(axis=1).max() < 0.99


def test_no_texts_give_no_rows(encoder: SentenceEncoder) -> None:
    """An empty batch is an empty matrix of the right width."""
    assert encoder.encode([]).shape == (0, DIMENSIONS)


def test_a_text_longer_than_the_limit_is_read_by_its_beginning(encoder: SentenceEncoder) -> None:
    """A message of thousands of words is encoded (from its first word pieces), not refused or slowed without bound."""
    vector = encoder.encode(["we argued " * 2000])[0]
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


@pytest.mark.parametrize("rows", [1, 63, 64, 65, 300])
def test_gelu_is_the_exact_gelu_within_its_error_bound(rows: int) -> None:
    """The in-place GELU matches x * (1 + erf(x / sqrt 2)) / 2 from math.erf within 1e-6, whatever the row count."""
    values = np.linspace(-8.0, 8.0, rows * 40, dtype=np.float32).reshape(rows, 40)
    exact = np.array([[x * (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0 for x in row] for row in values.astype(np.float64)])
    result = _gelu(values.copy())
    assert np.abs(result.astype(np.float64) - exact).max() < 1e-6 * 8.0  # relative to the largest |x|


class CountingEncoder:
    """An encoder that records which texts it was asked for (wrapping the real one)."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.asked: List[str] = []

    def encode(self, texts: List[str]) -> np.ndarray:
        """The real vectors, noting the texts."""
        self.asked.extend(texts)
        return self.encoder.encode(texts)


def test_the_cache_encodes_each_text_once_and_stays_bounded(encoder: SentenceEncoder) -> None:
    """Repeated and duplicate texts are encoded once, results keep their order, and the cache keeps at most its size."""
    counting = CountingEncoder(encoder)
    cached = CachedEncoder(counting, size=3)  # type: ignore[arg-type]
    first = cached.encode(["a", "b", "a"])
    assert counting.asked == ["a", "b"]
    assert np.array_equal(first[0], first[2])
    cached.encode(["b", "c", "d"])
    assert counting.asked == ["a", "b", "c", "d"]
    assert len(cached._vectors) == 3
    cached.encode(["a"])  # pushed out as the least recently used
    assert counting.asked[-1] == "a"
    expected: Dict[str, np.ndarray] = dict(zip(["a", "b", "c", "d"], encoder.encode(["a", "b", "c", "d"])))
    again = cached.encode(["d", "a"])
    assert np.abs(again - np.stack([expected["d"], expected["a"]])).max() < 1e-6
    cached.clear()
    cached.encode(["d"])
    assert counting.asked[-1] == "d" and len(cached._vectors) == 1


def test_meaning_features_are_weighted_embeddings() -> None:
    """The scikit-learn transformer gives `weight` times the shared encoder's vectors, fitting nothing."""
    texts = ["my ex won't talk to me", "set an alarm for seven"]
    features = MeaningFeatures(weight=0.5, layers=6).fit(texts)
    rows = features.transform(texts).toarray()
    assert rows.shape == (2, DIMENSIONS)
    assert np.allclose(rows, 0.5 * shared_encoder(6).encode(texts), atol=1e-6)
    assert np.allclose(np.linalg.norm(rows, axis=1), 0.5, atol=1e-5)
