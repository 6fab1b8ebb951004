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


def test_target_report() -> None:
    results = {"clinc": {"in_scope_accuracy": 0.98, "oos_recall": 0.5}}
    assert evaluate.target_report(results) == [
        {"metric": "clinc.in_scope_accuracy", "value": 0.98, "target": 0.97, "met": True},
        {"metric": "clinc.oos_recall", "value": 0.5, "target": 0.9, "met": False},
    ]
