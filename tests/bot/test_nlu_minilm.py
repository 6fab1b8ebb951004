"""The numpy all-MiniLM-L6-v2 against embeddings computed by sentence-transformers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.nlu.minilm import EMBEDDING_DIM, LOWER_LAYER, shared_encoder

REFERENCE = Path(__file__).parent / "fixtures" / "minilm_reference.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(REFERENCE.read_text())


def test_matches_sentence_transformers(reference: dict) -> None:
    expected = np.array(reference["embeddings"], dtype=np.float64)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    actual = shared_encoder().encode(reference["sentences"])
    cosines = (actual * expected).sum(axis=1)
    assert cosines.min() >= 0.9999


def test_batching_and_order_do_not_change_vectors(reference: dict) -> None:
    sentences = reference["sentences"][:6]
    together = shared_encoder().encode(sentences)
    alone = np.stack([shared_encoder().encode([s])[0] for s in reversed(sentences)])[::-1]
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("texts, shape", [([], (0, EMBEDDING_DIM)), (["hi"], (1, EMBEDDING_DIM)), (["a", "b c"], (2, EMBEDDING_DIM))])
def test_shapes_and_unit_length(texts: list, shape: tuple) -> None:
    vectors = shared_encoder().encode(texts)
    assert vectors.shape == shape
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), np.ones(len(texts)), atol=1e-5)


def test_the_lower_layer_vector_comes_from_the_same_pass(reference: dict) -> None:
    sentences = reference["sentences"][:4]
    final, lower = shared_encoder().encode_with_lower_layer(sentences, LOWER_LAYER)
    np.testing.assert_allclose(final, shared_encoder().encode(sentences), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(lower, axis=1), np.ones(len(sentences)), atol=1e-5)
    assert (final * lower).sum(axis=1).max() < 0.99  # a different view of the sentence
