"""Conversations for the tests, built from the compact fixtures in fixtures/."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List

FIXTURES = Path(__file__).parent / "fixtures"
REPO_ROOT = Path(__file__).resolve().parents[2]


def conversation(name: str) -> List[Dict[str, Any]]:
    """The named conversation as Rasa's JSON events."""
    turns = json.loads((FIXTURES / "conversations.json").read_text())[name]
    events: List[Dict[str, Any]] = [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
    ]
    for turn in turns:
        if "user" in turn:
            parse_data: Dict[str, Any] = {
                "text": turn["user"],
                "intent": {"name": turn["intent"], "confidence": turn.get("confidence", 0.9)},
                "entities": turn.get("entities", []),
            }
            for key in ("frustration", "disruption"):
                if key in turn:
                    parse_data[key] = turn[key]
            events.append({"event": "user", "text": turn["user"], "parse_data": parse_data})
        elif "bot" in turn:
            events.append({"event": "action", "name": turn["bot"]})
            if turn["bot"] not in ("action_listen", "action_handoff"):
                events.append({"event": "action", "name": "action_listen"})
        else:
            events.append(dict(turn))
    return events


def train_script() -> ModuleType:
    """scripts/train.py as a module (it is a script, not a package's)."""
    spec = importlib.util.spec_from_file_location("baton_train", REPO_ROOT / "scripts" / "train.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
