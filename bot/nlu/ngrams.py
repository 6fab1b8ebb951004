"""Hashed word and character n-grams as tf-idf features, fitted on a few hundred written
examples: both detectors read them next to the sentence vector."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.preprocessing import normalize

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
