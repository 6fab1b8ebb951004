"""The cross-validation of tuned numbers (scripts/crossval.py) on small hand-made tables."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
spec = importlib.util.spec_from_file_location("scripts.crossval", ROOT / "scripts" / "crossval.py")
assert spec and spec.loader
crossval = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = crossval
spec.loader.exec_module(crossval)
Candidate = crossval.DisruptionCandidate


def test_folds_are_stratified_disjoint_and_fixed_by_the_seed() -> None:
    labels = ["calm"] * 10 + ["frustrated"] * 5
    folds = crossval.stratified_folds(labels)
    assert len(folds) == 5
    assert sorted(np.concatenate(folds).tolist()) == list(range(15))
    assert [sorted(labels[i] for i in fold) for fold in folds] == [["calm", "calm", "frustrated"]] * 5
    assert [f.tolist() for f in folds] == [f.tolist() for f in crossval.stratified_folds(labels)]
    assert [f.tolist() for f in folds] != [f.tolist() for f in crossval.stratified_folds(labels, seed=7)]


def test_numbers_are_tuned_without_the_fold_they_predict() -> None:
    labels = [0, 1] * 5
    seen = []

    def tune(train: np.ndarray) -> set:
        seen.append(set(train.tolist()))
        return set(train.tolist())

    result = crossval.cross_validated(labels, tune, lambda train, test: [int(i) in train for i in test])
    # every item is predicted once, by numbers tuned on the other eight
    assert result["predictions"] == [False] * 10
    assert [len(s) for s in seen] == [8] * 5


@pytest.mark.parametrize(
    "scores, shipped, best",
    [
        ({0.3: 0.5, 0.5: 0.9, 0.7: 0.8}, 0.3, 0.5),
        ({0.3: 0.9, 0.5: 0.9, 0.7: 0.9}, 0.6, 0.5),  # a tie: the nearest to the shipped value
        ({0.3: 0.9, 0.5: 0.9, 0.7: 0.9}, 0.7, 0.7),
    ],
)
def test_best_on_grid(scores: dict, shipped: float, best: float) -> None:
    assert crossval.best_on_grid(list(scores), scores.__getitem__, shipped) == best


@pytest.mark.parametrize(
    "candidate, threshold, decided",
    [
        (Candidate("cancelled", "delayed", 0.9, False, False), 0.5, "cancelled"),  # the rules first
        (Candidate(None, "delayed", 0.6, False, False), 0.5, "delayed"),
        (Candidate(None, "delayed", 0.6, False, False), 0.7, None),
        (Candidate(None, "none", 0.99, False, False), 0.5, None),
        (Candidate(None, "delayed", 0.9, True, False), 0.5, None),  # only a what-if
        (Candidate("cancelled", None, 0.0, False, True), 0.5, None),  # reported as handled
    ],
)
def test_disruption_candidate_decides(candidate, threshold: float, decided) -> None:
    assert candidate.decide(threshold) == decided


@pytest.mark.parametrize(
    "candidate, decided",
    [
        (Candidate("delayed", "missed_connection", 0.7, False, False), "missed_connection"),  # sure of another
        (Candidate("delayed", "missed_connection", 0.45, False, False), "delayed"),  # not sure enough
        (Candidate("delayed", "none", 0.9, False, False), "delayed"),  # "none" never overrules the rules
        (Candidate("delayed", "missed_connection", 0.9, False, True), None),  # reported as handled
    ],
)
def test_disruption_candidate_lets_the_classifier_name_the_type(candidate, decided) -> None:
    assert candidate.decide(0.4, type_override=0.5) == decided


def test_disruption_threshold_cross_validated() -> None:
    # five disrupted at 0.8, five calm look-alikes at 0.55: every fold learns a threshold in
    # (0.55, 0.8] and picks 0.6, the nearest to the shipped 0.5 that separates them
    gold = ["delayed"] * 5 + ["none"] * 5
    candidates = [Candidate(None, "delayed", 0.8, False, False)] * 5 + [Candidate(None, "delayed", 0.55, False, False)] * 5
    result = crossval.cross_validate_disruption(gold, candidates, shipped=0.5)
    assert result["chosen"] == [0.6] * 5
    assert result["predictions"] == ["delayed"] * 5 + [None] * 5


def test_fallback_threshold_cross_validated() -> None:
    gold = ["book_flight"] * 5 + ["out_of_scope"] * 5
    top = [("book_flight", 0.7)] * 5 + [("book_flight", 0.2)] * 5
    result = crossval.cross_validate_fallback(gold, top, shipped=0.3)
    assert result["chosen"] == [0.3] * 5
    assert result["predictions"] == ["book_flight"] * 5 + ["nlu_fallback"] * 5


def test_fallback_threshold_keeps_the_in_scope_floor() -> None:
    # a threshold above 0.35 would reject every out-of-scope one but also half the in-scope
    # questions (accuracy 0.5 < 0.98): every fold keeps 0.3's full accuracy instead
    gold = ["book_flight"] * 10 + ["out_of_scope"] * 5
    top = [("book_flight", 0.9)] * 5 + [("book_flight", 0.35)] * 10
    result = crossval.cross_validate_fallback(gold, top, shipped=0.3)
    assert result["chosen"] == [0.3] * 5
    assert result["predictions"] == ["book_flight"] * 15


@pytest.mark.parametrize(
    "pattern, alternatives",
    [
        (r"a|b(?:c|d)|e", ["a", "b(?:c|d)", "e"]),
        (r"[|x]y|\|z|(?:p|q)r", ["[|x]y", r"\|z", "(?:p|q)r"]),  # | in a class or escaped is no split
        (r"[]|]w|v", ["[]|]w", "v"]),  # a ] first in a class is a character
        (r"one", ["one"]),
    ],
)
def test_split_alternatives(pattern: str, alternatives: list) -> None:
    assert crossval.split_alternatives(pattern) == alternatives


def test_the_rules_alternatives_fire_as_the_whole_rules() -> None:
    from bot.nlu.disruption.rules import choose_type, rule_matches

    texts = [
        "my flight got cancelled", "we sat on the tarmac for 3 hours", "landed without my bag",
        "the flight was delayed and I missed my connection", "what if my flight is cancelled?",
        "my suitcase arrived with a broken handle", "they bumped me off the flight", "how do I check in",
    ]
    hits = crossval.RuleHits(texts)
    assert len(hits.alternatives) > 50
    assert [hits.rule_type(i) for i in range(len(texts))] == [choose_type(rule_matches(t)) for t in texts]
    assert [hits.rule_type(i) for i in range(len(texts))] == [
        "cancelled", "delayed", "lost_luggage", "missed_connection", None, "damaged_luggage", "denied_boarding", None,
    ]
    # without every alternative that fires on the first, no rule sees its cancellation
    fired = frozenset(n for n in range(len(hits.alternatives)) if 0 in hits.firing(n))
    assert fired and hits.rule_type(0, fired) is None


def three_delay_rules(texts: list) -> object:
    """Rules of three alternatives that each say "delayed": "xx", "yy" and "zz"."""
    alternatives = [crossval.RuleAlternative("delayed", crossval.re.compile(word)) for word in ["xx", "yy", "zz"]]
    return crossval.RuleHits(texts, alternatives)


def test_a_rule_counts_in_a_fold_only_if_it_helps_a_tweet_of_the_others() -> None:
    # five delayed ones that only the rules catch (one in each fold), five calm ones
    gold = ["delayed"] * 5 + ["none"] * 5
    candidates = [Candidate("delayed", "none", 0.9, False, False)] * 5 + [Candidate(None, "none", 0.9, False, False)] * 5
    # "xx" fires on items 0 and 1, "yy" on 2 and 3, "zz" on 4
    hits = three_delay_rules(["xx", "xx", "yy", "yy", "zz"] + ["calm"] * 5)
    assert crossval.rule_benefits(gold, candidates, hits, 0.5) == {0: {0, 1}, 1: {2, 3}, 2: {4}}
    result = crossval.cross_validate_rules_held_out(gold, candidates, hits, shipped=0.5)
    # alternative 2 helps only item 4: it is taken away in item 4's fold, which misses it; the
    # others help an item of another fold wherever they are measured
    assert result["predictions"] == ["delayed"] * 4 + [None] * 6
    assert sorted(result["taken_away"]) == [0, 0, 0, 0, 1]
    assert (result["helping"], result["alternatives"]) == (3, 3)
