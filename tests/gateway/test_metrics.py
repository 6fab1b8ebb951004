"""/metrics counts bot turns with their time and tells how many wait for a person."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from .conftest import Customer


def _metric(text: str, name: str) -> float:
    (value,) = [line.split()[-1] for line in text.splitlines() if line.split(" ")[0] == name]
    return float(value)


async def test_bot_turns_are_timed_and_the_queue_is_counted(
    client: TestClient, customer: Customer, agent_headers: dict[str, str]
) -> None:
    before = await (await client.get("/metrics")).text()
    await customer.say("how do I check in online")
    await customer.say("can I talk to a real person")
    waiting = await (await client.get("/metrics")).text()
    claimed = await client.post(f"/api/agent/conversations/{customer.id}/claim",
                                headers=agent_headers)
    assert claimed.status == 200
    after = await (await client.get("/metrics")).text()

    assert [_metric(before, "baton_bot_turn_seconds_count"),
            _metric(before, "baton_waiting_for_person")] == [0, 0]
    assert [_metric(waiting, f'baton_bot_turns_total{{outcome="{outcome}"}}')
            for outcome in ("answered", "handoff", "bot_unavailable")] == [1, 1, 0]
    assert _metric(waiting, "baton_bot_turn_seconds_count") == 2
    # Both turns took well under the histogram's largest bucket below +Inf.
    assert _metric(waiting, 'baton_bot_turn_seconds_bucket{le="75.0"}') == 2
    assert 0 < _metric(waiting, "baton_bot_turn_seconds_sum") < 10
    assert _metric(waiting, "baton_waiting_for_person") == 1
    assert _metric(after, "baton_waiting_for_person") == 0
