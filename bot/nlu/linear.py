"""A fitted linear classifier kept as plain arrays, so a model loads without pickle."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence

import numpy as np
from scipy.sparse import spmatrix
from sklearn.linear_model import LogisticRegression


@dataclass
class LinearModel:
    coef: np.ndarray  # (n_classes, n_features), or (1, n_features) for two classes
    intercept: np.ndarray
    classes: List[str]

    @classmethod
    def fit(
        cls, X: np.ndarray | spmatrix, y: Sequence[str], C: float, class_weight: str | None = None
    ) -> "LinearModel":
        clf = LogisticRegression(C=C, max_iter=3000, class_weight=class_weight)
        clf.fit(X, list(y))
        return cls(clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32), [str(c) for c in clf.classes_])

    def predict_proba(self, X: np.ndarray | spmatrix) -> np.ndarray:
        scores = np.asarray(X @ self.coef.T) + self.intercept
        if len(self.classes) == 2:  # scikit-learn's binary model: one logit for classes[1]
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.stack([1.0 - positive, positive], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, directory: Path, name: str) -> None:
        np.savez(directory / f"{name}.npz", coef=self.coef, intercept=self.intercept)
        (directory / f"{name}.classes.json").write_text(json.dumps(self.classes))

    @classmethod
    def load(cls, directory: Path, name: str) -> "LinearModel":
        arrays = np.load(directory / f"{name}.npz")
        classes = json.loads((directory / f"{name}.classes.json").read_text())
        return cls(arrays["coef"], arrays["intercept"], classes)
