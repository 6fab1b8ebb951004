"""The action server's settings, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional

import yaml

from bot.assessment import FRUSTRATION_THRESHOLD
from bot.internal_auth import internal_secret

DEFAULT_ACTIONS_PORT = 5055
CONFIG_PATH = Path(__file__).resolve().parent.parent / "config.yml"
HANDOFF_POLICY = "bot.policies.handoff_policy.HandoffPolicy"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_ACTIONS_PORT
    frustration_threshold: float = FRUSTRATION_THRESHOLD
    # What Rasa must send as "Authorization: Bearer ..." (BATON_INTERNAL_SECRET).
    internal_secret: Optional[str] = field(default=None, repr=False)


@lru_cache(maxsize=4)
def policy_threshold(config_path: Path = CONFIG_PATH) -> float:
    """The handoff policy's frustration_threshold in config.yml.

    action_handoff must judge frustration exactly as the policy that triggered it did,
    so it reads the same setting; the default applies when the file does not set one.
    """
    try:
        config = yaml.safe_load(config_path.read_text()) or {}
    except OSError:
        return FRUSTRATION_THRESHOLD
    for policy in config.get("policies") or []:
        if isinstance(policy, dict) and policy.get("name") == HANDOFF_POLICY:
            return float(policy.get("frustration_threshold", FRUSTRATION_THRESHOLD))
    return FRUSTRATION_THRESHOLD


def load_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    env = os.environ if environ is None else environ
    threshold = env.get("BATON_FRUSTRATION_THRESHOLD")
    return Settings(
        port=int(env.get("ACTIONS_PORT") or DEFAULT_ACTIONS_PORT),
        frustration_threshold=float(threshold) if threshold else policy_threshold(),
        internal_secret=internal_secret(env),
    )
