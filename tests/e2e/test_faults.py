"""The bot's processes fail under real conversations: nothing is lost, nobody is left alone."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import aiohttp
import pytest

from handoff.conversations.handoff_notices import BOT_UNAVAILABLE_TEXT

from ..conftest import E2E_AGENT_EMAIL, E2E_AGENT_PASSWORD, Stack, new_stack
from ..shapes_check import CHECK_RESPONSES, CheckedWebSocket
from .customer_api import Api

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = new_stack(tmp_path_factory.mktemp("faults"), extra_env={"BATON_RASA_TIMEOUT": "5"})
    try:
        stack.start(timeout=240, agents=((E2E_AGENT_EMAIL, E2E_AGENT_PASSWORD, "Maya"),))
        yield stack
    finally:
        stack.stop()


async def test_rasa_or_the_action_server_down_keeps_every_message_and_queues_the_customer(
    stack: Stack,
) -> None:
    async with aiohttp.ClientSession(
        ws_response_class=CheckedWebSocket, middlewares=CHECK_RESPONSES,
        timeout=aiohttp.ClientTimeout(total=60),
    ) as http:
        api = Api(http, stack.base_url)
        login = await http.post(f"{stack.base_url}/api/agent/login",
                                json={"email": E2E_AGENT_EMAIL, "password": E2E_AGENT_PASSWORD})
        agent = {"Authorization": f"Bearer {(await login.json())['token']}"}
        console = await http.ws_connect(f"{stack.base_url}/api/agent/ws", headers=agent)

        # The action server dies: answers that need no action still come, a handoff that
        # needs it turns into a bot_unavailable handoff, and readiness says so.
        stack.stop("actions", signal.SIGKILL)
        assert await api.ready() == (
            503, {"status": "unavailable", "checks": {"rasa": True, "actions": False}}
        )
        cid, auth = await api.conversation()
        taught = await api.say(cid, auth, "how do I check in online")
        assert taught["status"] == "bot"
        handed = await api.say(cid, auth, "can I talk to a real person")
        assert handed["status"] == "waiting"
        assert handed["messages"][0]["text"] == "can I talk to a real person"
        assert BOT_UNAVAILABLE_TEXT in [m["text"] for m in handed["messages"]]
        detail = await (await http.get(f"{stack.base_url}/api/agent/conversations/{cid}",
                                       headers=agent)).json()
        assert detail["handoff"]["reason"] == "bot_unavailable"

        stack.start_actions()
        stack.wait_ready(timeout=60)

        # Rasa dies mid-conversation: the message is stored and the customer told plainly.
        cid2, auth2 = await api.conversation()
        assert (await api.say(cid2, auth2, "what is the baggage allowance"))["status"] == "bot"
        stack.stop("rasa", signal.SIGKILL)
        assert (await api.ready())[0] == 503
        cut = await api.say(cid2, auth2, "and can I bring a guitar")
        assert cut["status"] == "waiting"
        assert [m["sender"] for m in cut["messages"]][:2] == ["customer", "system"]
        assert cut["messages"][1]["text"] == BOT_UNAVAILABLE_TEXT
        history = await (await http.get(f"{stack.base_url}/api/conversations/{cid2}/messages",
                                        headers=auth2)).json()
        customer_texts = [m["text"] for m in history["messages"] if m["sender"] == "customer"]
        assert customer_texts == ["what is the baggage allowance", "and can I bring a guitar"]
        seqs = [m["seq"] for m in history["messages"]]
        assert seqs == list(range(1, len(seqs) + 1))

        # Rasa is back: new conversations go to the bot again.
        stack.start_rasa()
        stack.wait_ready(timeout=240)
        cid3, auth3 = await api.conversation()
        back = await api.say(cid3, auth3, "how do I choose a seat")
        assert back["status"] == "bot"
        assert [m["sender"] for m in back["messages"]][:2] == ["customer", "bot"]
        await console.close()
