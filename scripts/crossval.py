"""Five-fold cross-validation of every number tuned on the development tweets and CLINC's val
split (`make evaluate`): each number is chosen again on four fifths and measured on the fifth,
so the figure says how well the tuning carries over to text it has not seen.

What is tuned, and refitted in each fold:
- frustration: the combination numbers and the offset (scripts/fit_frustration.py);
- disruption: the embedding classifier's threshold (DisruptionDetector `embedding_threshold`);
  its `type_override` (0.5, where a type is more likely than all else together) is fixed;
- CLINC: the FallbackClassifier's threshold (config.yml).
Hand-written rules cannot be refitted: they are the same in every fold, which is why the own
chat messages (tests/bot/fixtures/own_eval) are measured too.

The folds are stratified by the label and shuffled with a fixed seed, so every run splits alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, TypeVar

import numpy as np
from sklearn.model_selection import StratifiedKFold

FOLDS = 5
SEED = 20
Param = TypeVar("Param")
# Thresholds tried; a tie goes to the one nearest the shipped value.
DISRUPTION_GRID = tuple(round(0.3 + 0.05 * i, 2) for i in range(14))
FALLBACK_GRID = tuple(round(0.1 + 0.05 * i, 2) for i in range(15))
# The in-scope accuracy the issue asks for (scripts/evaluate.py TARGETS).
IN_SCOPE_FLOOR = 0.98


def stratified_folds(labels: Sequence[Any], folds: int = FOLDS, seed: int = SEED) -> List[np.ndarray]:
    """The test indices of each fold, each label spread evenly over the folds."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [test for _, test in splitter.split(np.zeros(len(labels)), [str(label) for label in labels])]


def cross_validated(
    labels: Sequence[Any],
    tune: Callable[[np.ndarray], Param],
    predict: Callable[[Param, np.ndarray], Sequence[Any]],
    folds: int = FOLDS,
    seed: int = SEED,
) -> Dict[str, Any]:
    """Predictions for every item from numbers tuned without its fold, and the numbers of each fold."""
    predictions: List[Any] = [None] * len(labels)
    chosen = []
    everything = np.arange(len(labels))
    for test in stratified_folds(labels, folds, seed):
        param = tune(np.setdiff1d(everything, test))
        chosen.append(param)
        for index, prediction in zip(test, predict(param, test)):
            predictions[int(index)] = prediction
    return {"predictions": predictions, "chosen": chosen}


def best_on_grid(grid: Sequence[float], score: Callable[[float], float], shipped: float) -> float:
    """The grid value with the highest score; ties go to the one nearest ``shipped``."""
    return max(grid, key=lambda value: (round(score(value), 9), -abs(value - shipped)))


# ----------------------------------------------------------------------------- disruption


@dataclass(frozen=True)
class DisruptionCandidate:
    """What the detector saw in one message, before its threshold: the rules' type, the
    embedding classifier's best type and probability, and whether the message is cut out
    (a what-if or status question only) or reported as handled."""

    rule_type: Optional[str]
    embedding_type: Optional[str]
    embedding_probability: float
    only_hypothetical: bool
    handled: bool

    def decide(self, threshold: float, type_override: Optional[float] = None) -> Optional[str]:
        """As DisruptionDetector.detect: the classifier names a disruption the rules missed
        above ``threshold``, and another type than the rules' at ``type_override`` (None: never)."""
        kind = self.rule_type
        learned = self.embedding_type not in (None, "none")
        if kind is None and not self.only_hypothetical and learned:
            if self.embedding_probability >= threshold:
                kind = self.embedding_type
        elif kind is not None and learned and type_override is not None and self.embedding_type != kind:
            if self.embedding_probability >= type_override:
                kind = self.embedding_type
        return None if self.handled else kind


def f1_of(gold: Sequence[str], predicted: Sequence[Optional[str]]) -> float:
    from scripts.evaluate import disruption_metrics

    return disruption_metrics(gold, predicted)["f1"]


def cross_validate_disruption(
    gold: Sequence[str], candidates: Sequence[DisruptionCandidate], shipped: float,
    type_override: Optional[float] = None,
) -> Dict[str, Any]:
    def predict(threshold: float, indices: np.ndarray) -> List[Optional[str]]:
        return [candidates[i].decide(threshold, type_override) for i in indices]

    def tune(train: np.ndarray) -> float:
        return best_on_grid(DISRUPTION_GRID, lambda t: f1_of([gold[i] for i in train], predict(t, train)), shipped)

    return cross_validated(gold, tune, predict)


# ----------------------------------------------------------------------------- intents


def fallback(top_intent: str, confidence: float, threshold: float) -> str:
    return top_intent if confidence >= threshold else "nlu_fallback"


def cross_validate_fallback(
    gold: Sequence[str], top: Sequence[tuple], shipped: float, in_scope_floor: float = IN_SCOPE_FLOOR
) -> Dict[str, Any]:
    """``top``: each message's best intent and its confidence before the fallback."""
    from scripts.evaluate import intent_metrics

    def predict(threshold: float, indices: np.ndarray) -> List[str]:
        return [fallback(top[i][0], top[i][1], threshold) for i in indices]

    def tune(train: np.ndarray) -> float:
        # The goal's shape: the most out-of-scope recall that keeps the in-scope accuracy at
        # least IN_SCOPE_FLOOR; with no such threshold, the best accuracy.
        def score(threshold: float) -> float:
            metrics = intent_metrics([gold[i] for i in train], predict(threshold, train))
            if metrics["in_scope_accuracy"] >= in_scope_floor:
                return 1.0 + metrics["oos_recall"]
            return metrics["in_scope_accuracy"]

        return best_on_grid(FALLBACK_GRID, score, shipped)

    return cross_validated(gold, tune, predict)


# ----------------------------------------------------------------------------- frustration


def cross_validate_frustration(
    X: np.ndarray, y: np.ndarray, capped: np.ndarray, other: np.ndarray, specificity: float
) -> Dict[str, Any]:
    """The frustration combination fitted on four folds (scripts/fit_frustration.py: numbers,
    then the cutoff that keeps ``specificity`` of the calm ones), handoffs on the fifth."""
    from scripts.fit_frustration import cutoff, fit, outcome

    def tune(train: np.ndarray) -> tuple:
        coef, intercept = fit(X[train], y[train])
        z = X[train] @ coef + intercept
        return coef, intercept, cutoff(z, capped[train], other[train], y[train], specificity)

    def predict(param: tuple, test: np.ndarray) -> List[bool]:
        coef, intercept, c = param
        return [bool(h) for h in outcome(X[test] @ coef + intercept, c, capped[test], other[test])]

    result = cross_validated(list(y), tune, predict)
    result["chosen"] = [round(float(c), 4) for _, _, c in result["chosen"]]
    return result


# ----------------------------------------------------------------------------- rules held out


def split_alternatives(pattern: str) -> List[str]:
    """The top-level alternatives of a regular expression (``a|b(c|d)`` gives ``a`` and
    ``b(c|d)``): a search finds one of them exactly when it finds the whole."""
    parts, current, depth, in_class, i = [], "", 0, False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            current += pattern[i : i + 2]
            i += 2
            continue
        if in_class:
            in_class = char != "]" or current.endswith("[") or current.endswith("[^")
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(current)
            current, i = "", i + 1
            continue
        current += char
        i += 1
    parts.append(current)
    return parts


@dataclass(frozen=True)
class RuleAlternative:
    kind: str
    pattern: "re.Pattern[str]"


def rule_alternatives() -> List[RuleAlternative]:
    """Every alternative of every disruption rule (bot/nlu/lexicon/disruption.py RULES): each
    is one hand-written way of saying a type, the unit a rule writer adds for a message."""
    from bot.nlu.lexicon.disruption import RULES

    return [
        RuleAlternative(kind, re.compile(text, pattern.flags))
        for kind, pattern in RULES
        for text in split_alternatives(pattern.pattern)
    ]


class RuleHits:
    """Which rule alternatives fire on each text (in its factual clauses, as rule_matches), and
    the rules' type with some alternatives taken away."""

    def __init__(self, texts: Sequence[str], alternatives: Optional[List[RuleAlternative]] = None) -> None:
        from bot.nlu.disruption.rules import strip_hypothetical

        self.alternatives = alternatives if alternatives is not None else rule_alternatives()
        factual = [strip_hypothetical(text) for text in texts]
        # per text: alternative -> its leftmost match (start, matched text)
        self.hits: List[Dict[int, tuple]] = []
        for text in factual:
            found = {}
            for number, alternative in enumerate(self.alternatives):
                match = alternative.pattern.search(text)
                if match:
                    found[number] = (match.start(), match.group(0).strip())
            self.hits.append(found)

    def firing(self, number: int) -> List[int]:
        return [i for i, found in enumerate(self.hits) if number in found]

    def rule_type(self, item: int, removed: frozenset = frozenset()) -> Optional[str]:
        """choose_type over the rules without the ``removed`` alternatives. A type's evidence is
        its leftmost remaining match, as the whole pattern's search gives."""
        from bot.nlu.disruption.rules import choose_type
        from bot.nlu.lexicon.disruption import RULES

        evidence: Dict[str, tuple] = {}
        for number, (start, matched) in self.hits[item].items():
            if number in removed:
                continue
            kind = self.alternatives[number].kind
            if kind not in evidence or (start, number) < evidence[kind]:
                evidence[kind] = (start, number, matched)
        return choose_type([(kind, evidence[kind][2]) for kind, _ in RULES if kind in evidence])


def _right(gold: str, predicted: Optional[str]) -> bool:
    return predicted is None if gold == "none" else predicted == gold


def rule_benefits(
    gold: Sequence[str], candidates: Sequence[DisruptionCandidate], hits: RuleHits, threshold: float,
    type_override: Optional[float] = None,
) -> Dict[int, set]:
    """For each alternative, the items it alone gets right: right with every rule, wrong
    without this one (the other rules and the classifier as shipped)."""
    benefits: Dict[int, set] = {}
    for number in range(len(hits.alternatives)):
        helped = set()
        for i in hits.firing(number):
            if gold[i] == "unsure":
                continue
            without = replace(candidates[i], rule_type=hits.rule_type(i, frozenset({number})))
            if without.rule_type != candidates[i].rule_type and _right(gold[i], candidates[i].decide(threshold, type_override)) \
                    and not _right(gold[i], without.decide(threshold, type_override)):
                helped.add(i)
        benefits[number] = helped
    return benefits


def cross_validate_rules_held_out(
    gold: Sequence[str], candidates: Sequence[DisruptionCandidate], hits: RuleHits, shipped: float,
    type_override: Optional[float] = None,
) -> Dict[str, Any]:
    """The disruption figures as if each rule had been written only from the tweets outside the
    fold it is measured on: an alternative that gets right only tweets of the fold is taken away
    for that fold (one that gets no tweet right stays: it came from elsewhere), then the
    classifier's threshold is tuned on the other four folds with the rules that remain.

    Cross-validation cannot refit a hand-written rule; this is the nearest to it, under the
    assumption that a rule which helps a tweet was written for it."""
    benefits = rule_benefits(gold, candidates, hits, shipped, type_override)
    predictions: List[Optional[str]] = [None] * len(gold)
    chosen, taken_away = [], []
    everything = np.arange(len(gold))
    for test in stratified_folds(gold):
        in_fold = {int(i) for i in test}
        removed = frozenset(n for n, helped in benefits.items() if helped and helped <= in_fold)
        seen = [replace(c, rule_type=hits.rule_type(i, removed)) if removed else c for i, c in enumerate(candidates)]
        train = np.setdiff1d(everything, test)
        threshold = best_on_grid(
            DISRUPTION_GRID,
            lambda t: f1_of([gold[i] for i in train], [seen[i].decide(t, type_override) for i in train]),
            shipped,
        )
        chosen.append(threshold)
        taken_away.append(len(removed))
        for i in test:
            predictions[int(i)] = seen[int(i)].decide(threshold, type_override)
    return {"predictions": predictions, "chosen": chosen, "taken_away": taken_away,
            "alternatives": len(hits.alternatives), "helping": sum(1 for h in benefits.values() if h)}
