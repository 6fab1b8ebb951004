"""bench/load.py at a small scale against the session's real stack: its counts are exact.

The full run (1,000 customers, 50 agents, 100,000 messages) is a benchmark, not a test;
this keeps the harness honest and proves the same invariants on every `make test`:
every message acknowledged is stored once, in the order sent, and delivered once to the
other side.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.conftest import RunningBaton

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import load  # noqa: E402
from _common import AGENT_PASSWORD  # noqa: E402

CUSTOMERS = 10
AGENTS = 2
MESSAGES = 200


async def test_every_message_is_stored_once_in_order_and_delivered_once(baton: RunningBaton) -> None:
    for i in range(AGENTS):
        baton.stack.ensure_agent(f"load-{i}@baton.example", AGENT_PASSWORD, f"Load{i}")

    results = await load.run(baton.stack, CUSTOMERS, AGENTS, MESSAGES, rate=20.0, max_seconds=60)

    assert results["messages_sent"] == MESSAGES
    assert results["send_errors"] == {}
    assert results["messages_stored"] == MESSAGES
    assert results["stored_missing"] == 0
    assert results["stored_duplicates"] == 0
    assert results["conversations_in_sent_order"] == CUSTOMERS
    assert results["delivered_once"] == MESSAGES
    assert results["not_delivered"] == 0
    assert results["delivered_duplicates"] == 0
    assert results["latency_ms"]["customer_to_agent_console"]["n"] == MESSAGES // 2
    assert results["latency_ms"]["agent_to_customer_widget"]["n"] == MESSAGES // 2
