"""The action server's settings, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from bot.assessment import FRUSTRATION_THRESHOLD

DEFAULT_ACTIONS_PORT = 5055


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_ACTIONS_PORT
    # Must match the handoff policy's frustration_threshold in config.yml.
    frustration_threshold: float = FRUSTRATION_THRESHOLD


def load_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    env = os.environ if environ is None else environ
    return Settings(
        port=int(env.get("ACTIONS_PORT") or DEFAULT_ACTIONS_PORT),
        frustration_threshold=float(
            env.get("BATON_FRUSTRATION_THRESHOLD") or FRUSTRATION_THRESHOLD
        ),
    )
