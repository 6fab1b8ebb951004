"""The action server's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.settings import Settings, load_settings, policy_threshold
from bot.assessment import FRUSTRATION_THRESHOLD


def test_defaults_follow_the_policy_in_config_yml() -> None:
    assert load_settings({}) == Settings(
        host="127.0.0.1", port=5055, frustration_threshold=policy_threshold()
    )


def test_environment_overrides() -> None:
    settings = load_settings({"ACTIONS_PORT": "6055", "BATON_FRUSTRATION_THRESHOLD": "0.7"})

    assert (settings.port, settings.frustration_threshold) == (6055, 0.7)


def test_the_internal_secret_is_read_and_kept_out_of_reprs() -> None:
    settings = load_settings({"BATON_INTERNAL_SECRET": "s3cret-value"})

    assert settings.internal_secret == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    assert load_settings({}).internal_secret is None


@pytest.mark.parametrize(
    ("config", "threshold"),
    [
        (
            "policies:\n- name: bot.policies.handoff_policy.HandoffPolicy\n"
            "  frustration_threshold: 0.42\n- name: RulePolicy\n",
            0.42,
        ),
        ("policies:\n- name: bot.policies.handoff_policy.HandoffPolicy\n", FRUSTRATION_THRESHOLD),
        ("policies:\n- name: RulePolicy\n", FRUSTRATION_THRESHOLD),
    ],
)
def test_policy_threshold_is_read_from_the_config(
    tmp_path: Path, config: str, threshold: float
) -> None:
    path = tmp_path / "config.yml"
    path.write_text(config)

    assert policy_threshold(path) == threshold


def test_missing_config_falls_back_to_the_default(tmp_path: Path) -> None:
    assert policy_threshold(tmp_path / "missing.yml") == FRUSTRATION_THRESHOLD
