"""Two real Rasa processes sharing their trackers in a real Redis: one is killed mid-way
through a conversation, and the other answers its next turn at once, in context."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import aiohttp
import pytest

from handoff.assistant.pool import rendezvous
from handoff.conversations.handoff_notices import BOT_UNAVAILABLE_TEXT

from ..conftest import E2E_AGENT_EMAIL, E2E_AGENT_PASSWORD, Stack, new_stack
from ..shapes_check import CHECK_RESPONSES, CheckedWebSocket
from .customer_api import Api

pytestmark = pytest.mark.e2e

CANCEL_OFFER_END = "Would you like me to connect you with one of them?"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = new_stack(tmp_path_factory.mktemp("failover"), rasa_processes=2)
    try:
        stack.start(timeout=360, agents=((E2E_AGENT_EMAIL, E2E_AGENT_PASSWORD, "Maya"),))
        yield stack
    finally:
        stack.stop()


async def test_a_killed_rasas_conversation_goes_on_with_the_other_in_context(
    stack: Stack,
) -> None:
    async with aiohttp.ClientSession(
        ws_response_class=CheckedWebSocket, middlewares=CHECK_RESPONSES,
        timeout=aiohttp.ClientTimeout(total=60),
    ) as http:
        login = await http.post(f"{stack.base_url}/api/agent/login",
                                json={"email": E2E_AGENT_EMAIL, "password": E2E_AGENT_PASSWORD})
        agent = {"Authorization": f"Bearer {(await login.json())['token']}"}
        api = Api(http, stack.base_url)
        cid, auth = await api.conversation()
        names = dict(zip((f"127.0.0.1:{port}" for port in stack.rasa_ports), stack.rasa_names))
        own = names[rendezvous(list(names), cid)[0]]

        offered = await api.say(cid, auth, "i want to cancel my booking")
        assert offered["status"] == "bot"
        assert offered["messages"][-1]["text"].endswith(CANCEL_OFFER_END)

        # The conversation's own Rasa dies between two turns.
        stack.stop(own, signal.SIGKILL)
        started = time.monotonic()
        accepted = await api.say(cid, auth, "yes please")
        took = time.monotonic() - started

        # "yes please" alone is small talk ("Great! What else ..."); after the offer it
        # is the customer accepting it: the other process read the same tracker.
        assert took < 5
        assert accepted["status"] == "waiting"
        assert [m["sender"] for m in accepted["messages"]][0] == "customer"
        assert BOT_UNAVAILABLE_TEXT not in [m["text"] for m in accepted["messages"]]
        detail = await (await http.get(f"{stack.base_url}/api/agent/conversations/{cid}",
                                       headers=agent)).json()
        assert detail["handoff"]["reason"] == "requested"
        ready = await (await http.get(f"{stack.base_url}/readyz")).json()
        assert ready == {"status": "ready", "checks": {
            "rasa": True, "actions": True,
            **{f"rasa {name}": names[name] != own for name in names},
        }}
