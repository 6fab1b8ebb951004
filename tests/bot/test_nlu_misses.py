"""MissVector: what the bot could not answer carries its sentence vector, packed."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from rasa.core.agent import Agent

from bot.channel import nlu_of
from bot.nlu.minilm import shared_encoder
from bot.nlu.misses import MISS_VECTOR, pack
from tests.bot.builders import REPO_ROOT

MODEL = REPO_ROOT / "models" / "baton.tar.gz"


def unpack(packed: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype=np.int8).astype(np.float32)


def test_a_packed_vector_is_384_bytes_whose_largest_is_127_and_keeps_its_direction() -> None:
    vector = shared_encoder().encode(["Can I bring my surfboard to the hotel spa?"])[0]

    packed = pack(vector)
    back = unpack(packed)

    assert len(packed) == 512 and back.shape == (384,)
    assert np.abs(back).max() == 127
    cosine = float(back @ vector / np.linalg.norm(back) / np.linalg.norm(vector))
    assert cosine >= 0.9999


def test_a_zero_vector_packs_to_zeros() -> None:
    assert unpack(pack(np.zeros(384, dtype=np.float32))).tolist() == [0.0] * 384


@pytest.mark.skipif(not MODEL.is_file(), reason="no model: run scripts/train.py")
async def test_only_what_the_bot_cannot_answer_gets_a_vector_and_the_channel_passes_it() -> None:
    agent = Agent.load(str(MODEL))
    missed = await agent.parse_message("what is the meaning of life and the universe")
    answered = await agent.parse_message("how do I check in online")

    assert missed["intent"]["name"] in ("out_of_scope", "nlu_fallback")
    vector = unpack(missed[MISS_VECTOR])
    expected = shared_encoder().encode([missed["text"]])[0]
    assert float(vector @ expected / np.linalg.norm(vector)) >= 0.9999
    assert nlu_of(missed)[MISS_VECTOR] == missed[MISS_VECTOR]
    assert answered["intent"]["name"] == "check_in"
    assert MISS_VECTOR not in answered and MISS_VECTOR not in nlu_of(answered)
