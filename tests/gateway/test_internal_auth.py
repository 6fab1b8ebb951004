"""The gateway's side of the internal secret: every call to Rasa's channel carries it."""

from __future__ import annotations

import os
import subprocess
import sys

from aiohttp.test_utils import TestClient

from handoff.conversations.handoff_notices import EMPATHY, NOBODY_ONLINE
from handoff.settings import ROOT, Settings

from .conftest import INTERNAL_SECRET, Customer
from .fake_rasa import FakeRasa


async def test_every_call_to_rasa_carries_the_internal_secret(
    client: TestClient, customer: Customer, agent_headers: dict[str, str], rasa: FakeRasa
) -> None:
    rasa.secret = INTERNAL_SECRET
    base = f"/api/agent/conversations/{customer.id}"

    handoff = await customer.say("can I talk to a real person")
    claimed = await client.post(f"{base}/claim", headers=agent_headers)
    resolved = await client.post(f"{base}/resolve", json={}, headers=agent_headers)

    assert (handoff["status"], claimed.status, resolved.status) == ("waiting", 200, 200)
    assert {route for route, _ in rasa.authorizations} == {"webhook", "state"}
    assert {header for _, header in rasa.authorizations} == {f"Bearer {INTERNAL_SECRET}"}


async def test_a_refused_secret_keeps_the_message_and_queues_the_conversation(
    customer: Customer, rasa: FakeRasa
) -> None:
    rasa.secret = "what Rasa was given instead"

    body = await customer.say("my flight")

    assert body["status"] == "waiting"
    assert [(m["seq"], m["sender"], m["text"]) for m in body["messages"]] == [
        (1, "customer", "my flight"),
        (2, "system", f"{EMPATHY['bot_unavailable']} {NOBODY_ONLINE.format(until='')}"),
    ]
    assert rasa.calls == []
    assert rasa.authorizations == [("webhook", f"Bearer {INTERNAL_SECRET}")]


def test_the_secret_is_read_from_the_environment_and_kept_out_of_reprs() -> None:
    settings = Settings.from_env({"BATON_INTERNAL_SECRET": " s3cret-value "})

    assert settings.internal_secret == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    assert Settings.from_env({}).internal_secret == ""


def test_the_gateway_will_not_serve_without_the_secret() -> None:
    env = {key: value for key, value in os.environ.items() if key != "BATON_INTERNAL_SECRET"}
    env["PYTHONPATH"] = str(ROOT)

    done = subprocess.run(
        [sys.executable, "-m", "handoff", "serve", "--port", "9"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )

    assert done.returncode == 1
    assert "BATON_INTERNAL_SECRET is not set" in done.stderr
