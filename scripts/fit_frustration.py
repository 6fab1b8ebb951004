"""Fits the frustration scorer's combination numbers on the development tweets (tuning only).

The scorer's two classifiers are trained from the written examples exactly as `rasa train`
trains them (they never see a tweet). On each development tweet this script then computes the
inputs of the combination (bot/nlu/frustration/scorer.py `combine`: the classifiers' logits,
VADER's polarity, the fired signals and calm cues), fits one logistic regression on them and
moves its intercept (the `offset`) so that the policy's threshold keeps the wanted share of
calm tweets with the bot. A tweet handed off for another reason (a disruption, an explicit
request) counts as handed off whatever its score, as in `make evaluate`.

It prints the fitted numbers for FrustrationScorer's defaults, the figures on the tweets and a
repeated five-fold cross-validation of the whole fit (numbers and offset fitted on four
fifths, measured on the fifth), the estimate to trust. Nothing about a tweet is written.

    PYTHONPATH=. .venv/rasa/bin/python scripts/fit_frustration.py [--specificity 0.855]

Needs a trained model (models/baton.tar.gz) for the intents and disruptions.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.evaluate import InProcessSystem, frustration_threshold, load_tweets, shared_data_dir  # noqa: E402

# Fixed at 0: on their own they were no evidence of frustration in the development tweets.
UNFITTED = ("shouting", "repeated_punctuation")
SCALARS = ("bias", "slope", "ngram_slope", "margin_weight", "polarity_weight")


def trained_scorer(config: Dict[str, Any], directory: Path) -> Any:
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.importers.importer import TrainingDataImporter

    from bot.nlu.frustration.component import FrustrationScorer

    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "bot" / "domain"), [str(ROOT / "data")]
    )
    storage, resource = LocalModelStorage(directory), Resource("frustration")
    context = ExecutionContext(graph_schema=None, node_name="frustration")  # type: ignore[arg-type]
    FrustrationScorer.create(config, storage, resource, context).train(importer.get_nlu_data())
    return FrustrationScorer.load(config, storage, resource, context)


def scorer_config() -> Dict[str, Any]:
    """FrustrationScorer's defaults with config.yml's overrides."""
    import yaml

    from bot.nlu.frustration.component import FrustrationScorer

    config = dict(FrustrationScorer.get_default_config())
    for component in yaml.safe_load((ROOT / "config.yml").read_text())["pipeline"]:
        if str(component.get("name", "")).endswith("FrustrationScorer"):
            config.update({k: v for k, v in component.items() if k != "name"})
    return config


def design(scorer: Any, texts: List[str], names: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
    """One row of combination inputs per text, in the order SCALARS + names, and whether the
    text is too short to be frustrated without a signal (its score is capped at 0.5)."""
    from bot.nlu.frustration.features import text_vectors, wording
    from bot.nlu.frustration.scorer import _logit

    config = scorer.config
    rows, capped = [], []
    for text, (p, q, margin) in zip(texts, scorer.evidence(texts, text_vectors(texts))):
        said = wording(text)
        share = min(1.0, said.words / int(config["full_length"]))
        classifiers = [share, share * _logit(float(p)), share * _logit(float(q)), share * float(margin)]
        rows.append(classifiers + [said.polarity] + [float(n in said.cues) for n in names])
        capped.append(not said.signals and said.words < int(config["min_words_without_signal"]))
    return np.array(rows), np.array(capped)


def fit(X: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=5000).fit(X, y)
    return model.coef_[0], float(model.intercept_[0])


def cutoff(z: np.ndarray, capped: np.ndarray, other: np.ndarray, y: np.ndarray, specificity: float) -> float:
    """The lowest logit at which the calm tweets handed off (by score or otherwise) stay
    within 1 - specificity."""
    calm = y == 0
    allowed = int(math.floor((1 - specificity) * calm.sum())) - int((other & calm).sum())
    scores = np.sort(z[calm & ~other & ~capped])[::-1]
    return float(scores[allowed]) + 1e-6 if 0 <= allowed < len(scores) else float(scores[-1])


def outcome(z: np.ndarray, c: float, capped: np.ndarray, other: np.ndarray) -> np.ndarray:
    return other | ((z >= c) & ~capped)


def rates(handed: np.ndarray, y: np.ndarray) -> Tuple[float, float]:
    return round(float(handed[y == 1].mean()), 4), round(float(1 - handed[y == 0].mean()), 4)


def cross_validate(
    X: np.ndarray, y: np.ndarray, capped: np.ndarray, other: np.ndarray, specificity: float, repeats: int
) -> Tuple[float, float]:
    results = []
    for seed in range(repeats):
        parts = np.array_split(np.random.RandomState(seed).permutation(len(y)), 5)
        handed = np.zeros(len(y), bool)
        for k, test in enumerate(parts):
            train = np.concatenate([p for j, p in enumerate(parts) if j != k])
            coef, intercept = fit(X[train], y[train])
            z = X @ coef + intercept
            c = cutoff(z[train], capped[train], other[train], y[train], specificity)
            handed[test] = outcome(z[test], c, capped[test], other[test])
        results.append(rates(handed, y))
    return tuple(np.round(np.mean(results, axis=0), 4))  # type: ignore[return-value]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "baton.tar.gz")
    parser.add_argument("--data", type=Path, default=shared_data_dir())
    parser.add_argument("--specificity", type=float, default=0.855, help="share of calm tweets left with the bot")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of the five-fold cross-validation")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from bot.conversation import disruption_of
    from bot.assessment import HANDOFF_INTENT

    tweets = load_tweets(args.data)
    texts = [t["text"] for t in tweets]
    y = np.array([t["frustrated"] == "1" for t in tweets], dtype=int)
    parsed = InProcessSystem(args.model).parse_many(texts)
    other = np.array(
        [(p.get("intent") or {}).get("name") == HANDOFF_INTENT or bool(disruption_of(p).get("type")) for p in parsed]
    )

    config = scorer_config()
    names = [n for n in config["weights"] if n not in UNFITTED]
    with tempfile.TemporaryDirectory(prefix="baton-frustration-") as directory:
        scorer = trained_scorer(config, Path(directory))
        X, capped = design(scorer, texts, names)

    coef, intercept = fit(X, y)
    z = X @ coef + intercept
    c = cutoff(z, capped, other, y, args.specificity)
    threshold = frustration_threshold()
    offset = intercept - c + math.log(threshold / (1 - threshold))
    fitted = dict(zip(list(SCALARS) + names, np.round(coef, 2).tolist()))
    print("offset:", round(offset, 2))
    for name in SCALARS:
        print(f"{name}: {fitted[name]}")
    print("weights:", {name: fitted[name] for name in names})
    print("on the tweets (recall, specificity):", rates(outcome(z, c, capped, other), y))
    cross_validated = cross_validate(X, y, capped, other, args.specificity, args.repeats)
    print("5-fold cross-validation (recall, specificity):", cross_validated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
