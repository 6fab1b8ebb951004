"""The evaluation's metrics on small hand-made tables."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "evaluate.py"
spec = importlib.util.spec_from_file_location("baton_evaluate", SCRIPT)
assert spec and spec.loader
evaluate = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = evaluate  # dataclasses look their module up while it loads
spec.loader.exec_module(evaluate)


def test_intent_metrics() -> None:
    gold = ["book_flight", "book_flight", "vaccines", "out_of_scope", "out_of_scope"]
    predicted = ["book_flight", "nlu_fallback", "vaccines", "nlu_fallback", "vaccines"]
    result = evaluate.intent_metrics(gold, predicted)
    assert result["in_scope_accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["in_scope_rejected_as_oos"] == pytest.approx(1 / 3, abs=1e-4)
    assert result["oos_recall"] == 0.5
    assert result["confusions"] == [
        {"gold": "book_flight", "predicted": "nlu_fallback", "count": 1},
        {"gold": "out_of_scope", "predicted": "vaccines", "count": 1},
    ]


@pytest.mark.parametrize(
    "frustrated, handed_off, recall, specificity",
    [
        ([True, True, False, False], [True, False, False, True], 0.5, 0.5),
        ([True, False], [True, False], 1.0, 1.0),
        ([False], [True], 0.0, 0.0),
    ],
)
def test_frustration_metrics(frustrated: list, handed_off: list, recall: float, specificity: float) -> None:
    result = evaluate.frustration_metrics(frustrated, handed_off)
    assert (result["recall"], result["specificity"]) == (recall, specificity)


def test_disruption_metrics_leave_out_unsure() -> None:
    gold = ["cancelled", "delayed", "none", "none", "unsure", "lost_luggage"]
    predicted = ["cancelled", "cancelled", "delayed", None, "delayed", None]
    result = evaluate.disruption_metrics(gold, predicted)
    assert result["n_scored"] == 5
    assert (result["precision"], result["recall"]) == (pytest.approx(2 / 3, abs=1e-4), pytest.approx(2 / 3, abs=1e-4))
    assert result["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert result["type_accuracy"] == 0.5


def test_specificity_leaves_out_calm_customers_with_a_disrupted_trip() -> None:
    # the second customer is calm but their flight is cancelled: handing them off is right
    result = evaluate.frustration_metrics(
        [True, False, False, False], [True, True, False, True], disrupted=[False, True, False, False]
    )
    assert (result["recall"], result["specificity"], result["n_calm"]) == (1.0, 0.5, 2)


def test_right_type_counts_every_disrupted_customer() -> None:
    gold = ["cancelled", "delayed", "none", "none", "unsure", "lost_luggage"]
    predicted = ["cancelled", "cancelled", "delayed", None, "delayed", None]
    result = evaluate.disruption_metrics(gold, predicted)
    # three disrupted customers, one handed off with the right type
    assert result["right_type_of_disrupted"] == 0.3333
    assert result["type_accuracy"] == 0.5


def test_target_report() -> None:
    results = {"dev": {"clinc": {"in_scope_accuracy": 0.98, "oos_recall": 0.5}}, "own": {"frustration": {"recall": 0.95}}}
    assert evaluate.target_report(results) == [
        {"set": "dev", "metric": "clinc.in_scope_accuracy", "value": 0.98, "target": 0.98, "met": True},
        {"set": "dev", "metric": "clinc.oos_recall", "value": 0.5, "target": 0.92, "met": False},
        {"set": "own", "metric": "frustration.recall", "value": 0.95, "target": 0.9, "met": True},
    ]


def test_summary_table_shows_every_measure_in_every_column() -> None:
    measures = {
        "frustration": {"recall": 0.9, "specificity": 0.8},
        "disruption": {"f1": 0.86, "precision": 0.9, "recall": 0.8239, "right_type_of_disrupted": 0.7},
        "clinc": {"in_scope_accuracy": 0.99, "oos_recall": 0.925},
    }
    results = {"dev": measures, "cv_rules": {"disruption": {"f1": 0.8, "right_type_of_disrupted": 0.75}},
               "own": {"frustration": {"recall": 1.0}}, "sizes": {"tweets": 10, "own messages": 3}}
    assert evaluate.summary_table(results).splitlines() == [
        "measure                       goal     development  dev 5-fold CV  CV, rules held out  own set",
        "----------------------------  -------  -----------  -------------  ------------------  -------",
        "frustration recall            >= 0.90  0.900        -              -                   1.000",
        "frustration specificity       >= 0.85  0.800 *      -              -                   -",
        "disruption F1                 >= 0.85  0.860        -              0.800 *             -",
        "  precision                            0.900        -              -                   -",
        "  recall                               0.824        -              -                   -",
        "right type, of all disrupted  >= 0.85  0.700 *      -              0.750 *             -",
        "CLINC in-scope accuracy       >= 0.98  0.990        -              -                   -",
        "CLINC out-of-scope recall     >= 0.92  0.925        -              -                   -",
        "n: tweets 10, own messages 3",
    ]


def test_own_set_messages_are_labelled_and_kept_out_of_training() -> None:
    import re

    import yaml

    root = SCRIPT.parents[1]
    rows = evaluate.load_own_set()
    kinds = {row["disruption"] for row in rows}
    assert kinds == {
        "none", "cancelled", "delayed", "missed_connection", "lost_luggage", "damaged_luggage", "downgraded",
        "denied_boarding", "schedule_change", "hotel_problem",
    }

    def norm(text: str) -> str:
        return " ".join(re.findall(r"[a-z0-9]+", text.lower()))

    texts = [norm(row["text"]) for row in rows]
    assert len(texts) == len(set(texts)), "a message is in the own set twice"
    trained = set()
    for path in list((root / "data").rglob("*.yml")) + list((root / "bot" / "nlu" / "data").glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("- "):
                trained.add(norm(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.strip()[2:])))
    assert sorted(set(texts) & trained) == []
    assert all(isinstance(yaml.safe_dump(row), str) for row in rows)
