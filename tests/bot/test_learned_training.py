"""The learning loop's last step: a model trained with what supervisors assigned
recognises it. The learned file is the one the gateway writes (tests/gateway/
test_learning.py checks it is byte for byte what it writes for these messages).

Trains a model (about 3 minutes on 2 cores) with scripts/train.py's own train(), into a
temporary file: models/baton.tar.gz and the cache are not touched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.core.agent import Agent

from tests.bot.builders import FIXTURES, REPO_ROOT, train_script

MODEL = REPO_ROOT / "models" / "baton.tar.gz"
LEARNED = FIXTURES / "learned_nlu.yml"
TAUGHT = ("do you take surfboards", "what about my golf clubs", "can I check in my surfboard")
MISSES = ("out_of_scope", "nlu_fallback")


@pytest.mark.skipif(not MODEL.is_file(), reason="no model: run scripts/train.py")
async def test_a_model_trained_with_the_assigned_examples_recognises_them(tmp_path: Path) -> None:
    shipped = Agent.load(str(MODEL))
    before = [(await shipped.parse_message(text))["intent"]["name"] for text in TAUGHT]
    # Not what the shipped model understands (else this would teach nothing).
    assert sum(intent in MISSES for intent in before) >= 2, before

    trained = tmp_path / "taught.tar.gz"
    train_script().train(trained, LEARNED)
    taught = Agent.load(str(trained))

    after = [(await taught.parse_message(text))["intent"] for text in TAUGHT]
    assert [intent["name"] for intent in after] == ["baggage_allowance"] * 3, after
