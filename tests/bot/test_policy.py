"""HandoffPolicy: hands off right after the messages that call for a person, else abstains."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.handoff_policy import HandoffPolicy
from tests.bot.builders import REPO_ROOT, conversation


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(REPO_ROOT / "bot" / "domain"))


def policy(tmp_path: Path, **config: Any) -> HandoffPolicy:
    return HandoffPolicy.create(
        {**HandoffPolicy.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("handoff_policy"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def predicted(
    tmp_path: Path, domain: Domain, events: List[Dict[str, Any]], **config: Any
) -> Dict[str, float]:
    tracker = DialogueStateTracker.from_dict("test", events, domain.slots)
    prediction = policy(tmp_path, **config).predict_action_probabilities(tracker, domain)
    return {
        domain.action_names_or_texts[index]: confidence
        for index, confidence in enumerate(prediction.probabilities)
        if confidence > 0
    }


HANDOFF = {"action_handoff": 1.0}
ABSTAIN: Dict[str, float] = {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("requested_after_questions", HANDOFF),
        ("disruption_cancelled", HANDOFF),
        ("frustrated_message", HANDOFF),
        ("repeated_question", HANDOFF),
        ("worsening_trend", HANDOFF),
        ("two_misses", HANDOFF),
        ("frustrated_request", HANDOFF),
        ("disruption_with_frustration", HANDOFF),
        ("calm_message", ABSTAIN),
        ("one_miss", ABSTAIN),
        ("accepted_offer", ABSTAIN),  # a rule hands off after an accepted offer
        ("miss_before_resume", ABSTAIN),
    ],
)
def test_predicts_handoff_only_when_called_for(
    tmp_path: Path, domain: Domain, name: str, expected: Dict[str, float]
) -> None:
    assert predicted(tmp_path, domain, conversation(name)) == expected


def test_abstains_once_the_bot_has_acted(tmp_path: Path, domain: Domain) -> None:
    events = conversation("frustrated_message") + [{"event": "action", "name": "action_handoff"}]

    assert predicted(tmp_path, domain, events) == ABSTAIN


def test_abstains_without_the_nlu_pipelines_keys(tmp_path: Path, domain: Domain) -> None:
    events = conversation("frustrated_message")
    for event in events:
        if event["event"] == "user":
            event["parse_data"].pop("frustration", None)

    assert predicted(tmp_path, domain, events) == ABSTAIN


@pytest.mark.parametrize(("threshold", "expected"), [(0.9, ABSTAIN), (0.85, HANDOFF)])
def test_frustration_threshold_comes_from_the_config(
    tmp_path: Path, domain: Domain, threshold: float, expected: Dict[str, float]
) -> None:
    events = conversation("frustrated_message")

    assert predicted(tmp_path, domain, events, frustration_threshold=threshold) == expected


def test_priority_is_above_rule_policy(tmp_path: Path) -> None:
    assert policy(tmp_path).priority > 6
