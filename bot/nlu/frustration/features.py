"""What the frustration scorer reads in a message: the words' signals, cues and polarity, MiniLM
vectors, and how close the message is to the written examples (its n-grams: bot/nlu/ngrams.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List

import numpy as np
from rasa.shared.nlu.training_data.message import Message
from scipy import sparse

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
