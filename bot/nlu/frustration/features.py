"""What the frustration scorer reads in a message: the words' signals, cues and polarity, hashed
n-grams, MiniLM vectors, and how close the message is to the written examples."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from rasa.shared.nlu.training_data.message import Message
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

from bot.nlu.encoder import ENCODER_ALIAS, LOWER_LAYER_ALIAS, sentence_embeddings
from bot.nlu.lexicon.common import lexicon_polarity
from bot.nlu.lexicon.frustration import calm_cues, rule_signals
from bot.nlu.minilm import shared_encoder


def word_count(text: str) -> int:
    return len(re.findall(r"[\w']+", text))


@dataclass(frozen=True)
class Wording:
    """What a message's words say before any classifier reads it: the combination's inputs
    besides the classifiers' (FrustrationScorer.score; scripts/fit_frustration.py fits on them)."""

    signals: List[str]  # the lexicon's named signals
    cues: List[str]  # the signals and the calm cues
    words: int
    polarity: float  # VADER's compound polarity, never positive when sarcastic


def wording(text: str) -> Wording:
    signals = rule_signals(text)
    polarity = lexicon_polarity(text)
    if "sarcasm" in signals:
        polarity = min(polarity, 0.0)  # "thanks for nothing": the praise words mean the opposite
    return Wording(signals, signals + calm_cues(text, signals), word_count(text), polarity)


NGRAM_BITS = 16  # each n-gram family is hashed into 2**16 columns: no vocabulary to store


def _hashers() -> Tuple[HashingVectorizer, HashingVectorizer]:
    common = dict(n_features=2**NGRAM_BITS, alternate_sign=False, norm=None, lowercase=True)
    return (
        HashingVectorizer(ngram_range=(1, 2), **common),
        HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common),
    )


class NgramFeatures:
    """Word 1-2-grams and character 2-5-grams, hashed, as sublinear tf-idf (one L2-normalised
    block each). Complaint wording ("still no", "on hold", "nobody") is often a few words
    that the mean-pooled sentence vector blurs; the n-grams keep them."""

    def __init__(self, idf: Optional[List[np.ndarray]] = None) -> None:
        self.hashers = _hashers()
        self.idf = idf

    def fit(self, texts: List[str]) -> "NgramFeatures":
        self.idf = []
        for hasher in self.hashers:
            df = np.bincount(hasher.transform(texts).indices, minlength=2**NGRAM_BITS)
            self.idf.append((np.log((1 + len(texts)) / (1 + df)) + 1).astype(np.float32))
        return self

    def transform(self, texts: List[str]) -> sparse.csr_matrix:
        assert self.idf is not None, "fit first"
        blocks = []
        for hasher, idf in zip(self.hashers, self.idf):
            counts = hasher.transform(texts).tocsr().astype(np.float32)
            counts.data = 1.0 + np.log(counts.data)
            blocks.append(normalize(counts.multiply(idf[None, :]).tocsr()))
        return sparse.hstack(blocks, format="csr")

    def save(self, directory: Path, name: str) -> None:
        assert self.idf is not None
        np.savez(directory / f"{name}.ngrams.npz", word=self.idf[0], char=self.idf[1])

    @classmethod
    def load(cls, directory: Path, name: str) -> "NgramFeatures":
        arrays = np.load(directory / f"{name}.ngrams.npz")
        return cls([arrays["word"], arrays["char"]])


class NearestExamples:
    """The written examples' sentence vectors: how much closer a message is to its nearest
    frustrated examples than to its nearest calm ones (mean cosine of the ``k`` nearest on
    each side). A vote of look-alikes, which a linear classifier cannot express."""

    def __init__(self, frustrated: np.ndarray, calm: np.ndarray, k: int = 5) -> None:
        self.frustrated, self.calm = frustrated.astype(np.float32), calm.astype(np.float32)
        self.k = k

    def margin(self, embeddings: np.ndarray) -> np.ndarray:
        return self._nearest(embeddings, self.frustrated) - self._nearest(embeddings, self.calm)

    def _nearest(self, embeddings: np.ndarray, examples: np.ndarray) -> np.ndarray:
        similarities = embeddings.astype(np.float32) @ examples.T
        k = min(self.k, similarities.shape[1])
        return np.sort(similarities, axis=1)[:, -k:].mean(axis=1)

    def save(self, directory: Path, name: str) -> None:
        # half precision: the cosines need no more, and the model stays small
        np.savez(directory / f"{name}.examples.npz", frustrated=self.frustrated.astype(np.float16),
                 calm=self.calm.astype(np.float16), k=self.k)

    @classmethod
    def load(cls, directory: Path, name: str) -> "NearestExamples":
        arrays = np.load(directory / f"{name}.examples.npz")
        return cls(arrays["frustrated"], arrays["calm"], int(arrays["k"]))


def classifier_features(vectors: np.ndarray, ngrams: sparse.csr_matrix) -> sparse.csr_matrix:
    return sparse.hstack([sparse.csr_matrix(vectors), ngrams], format="csr")


def message_vectors(messages: List[Message]) -> np.ndarray:
    """Each message's MiniLM sentence vector next to its lower-layer vector (768 numbers): the
    first says what the message is about, the second keeps more of how it is worded."""
    return sentence_embeddings(messages, ENCODER_ALIAS, LOWER_LAYER_ALIAS)


def text_vectors(texts: List[str]) -> np.ndarray:
    """As message_vectors, for texts that no featurizer has seen."""
    return np.hstack(shared_encoder().encode_with_lower_layer(texts))
