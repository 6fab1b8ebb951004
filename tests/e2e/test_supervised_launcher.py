"""`make run`'s own launcher (scripts/run_all.py) under kill -9 of each of its processes.

One launcher run on free ports, with its files in a temporary directory: Rasa, the
action server and the gateway are each killed with SIGKILL in turn; the others keep
serving, the launcher logs the exit and restarts it, and SIGINT then stops everything.
A second, short run is stopped with SIGTERM while Rasa is still loading.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import aiohttp
import pytest

from ..shapes_check import CHECK_RESPONSES
from .launcher import RASA_START, Api, Launcher, alive, port_free, running_launcher, until, wait

pytestmark = pytest.mark.e2e


async def test_the_launcher_restarts_each_crashed_process_and_stops_everything_on_sigint(
    tmp_path: Path,
) -> None:
    with running_launcher(tmp_path / "supervised") as launcher:
        await _kill_each_process_then_sigint(launcher)


async def _kill_each_process_then_sigint(launcher: Launcher) -> None:
    async with aiohttp.ClientSession(
        middlewares=CHECK_RESPONSES, timeout=aiohttp.ClientTimeout(total=30)
    ) as http:
        api = Api(http, launcher.base)

        async def ready() -> bool:
            return await api.status("/readyz") == 200

        await until(ready, RASA_START, "Baton ready after `make run`'s launcher started it")
        first = launcher.children()
        assert set(first) == {"rasa", "actions", "gateway"}
        wait(lambda: "Baton is running." in launcher.output(), 10, "the launcher's banner")

        # A conversation the bot answers, kept through every crash below.
        cid, auth = await api.conversation()
        seat = await api.say(cid, auth, "how do I choose a seat")
        assert seat["status"] == "bot"
        seat_answer = [m["text"] for m in seat["messages"] if m["sender"] == "bot"]
        assert seat_answer and seat_answer[0].startswith("To choose or change your seat:")
        # The answer to ask for after the gateway's restart (not the same question again:
        # a repeated question is a reason to hand off).
        other_id, other_auth = await api.conversation()
        checkin = await api.say(other_id, other_auth, "how do I check in online")
        checkin_answer = [m["text"] for m in checkin["messages"] if m["sender"] == "bot"]
        assert checkin_answer and checkin_answer[0].startswith("Online check-in opens")

        # kill -9 Rasa: the gateway keeps serving and queues the customer.
        os.kill(first["rasa"], signal.SIGKILL)
        wait(lambda: not alive(first["rasa"]), 10, "Rasa's process gone")
        await asyncio.sleep(1.5)  # the old launcher noticed within 0.5 s and stopped everything
        assert await api.status("/healthz") == 200
        assert await api.status("/readyz") == 503
        cut_id, cut_auth = await api.conversation()
        cut = await api.say(cut_id, cut_auth, "my flight was cancelled, what now")
        assert cut["status"] == "waiting"
        assert await api.history(cut_id, cut_auth) == [
            (m["sender"], m["text"]) for m in cut["messages"]
        ]
        assert cut["messages"][0]["text"] == "my flight was cancelled, what now"
        agent = await api.agent()
        async with http.get(f"{launcher.base}/api/agent/queue", headers=agent) as response:
            queued = {c["id"]: c for c in (await response.json())["conversations"]}
        assert cut_id in queued
        async with http.get(f"{launcher.base}/api/agent/conversations/{cut_id}",
                            headers=agent) as response:
            assert (await response.json())["handoff"]["reason"] == "bot_unavailable"

        # The launcher logged the exit and restarted Rasa, which answers again.
        assert f"rasa (pid {first['rasa']}) was killed by SIGKILL" in launcher.log()
        rasa = wait(lambda: launcher.children().get("rasa"), 30, "Rasa restarted")
        assert rasa != first["rasa"]
        assert f"started rasa (pid {rasa})" in launcher.log()
        await until(ready, RASA_START, "Rasa ready again")
        again_id, again_auth = await api.conversation()
        again = await api.say(again_id, again_auth, "how do I choose a seat")
        assert again["status"] == "bot"
        assert [m["text"] for m in again["messages"] if m["sender"] == "bot"] == seat_answer
        wait(lambda: "rasa answers again" in launcher.log(), 10, "the launcher saw Rasa back")

        # kill -9 the action server: restarted, and readiness comes back.
        os.kill(first["actions"], signal.SIGKILL)
        actions = wait(
            lambda: (pid := launcher.children().get("actions")) != first["actions"] and pid,
            30, "the action server restarted",
        )
        assert f"actions (pid {first['actions']}) was killed by SIGKILL" in launcher.log()
        assert f"started actions (pid {actions})" in launcher.log()
        await until(ready, 120, "ready again after the action server's restart")
        assert await api.status("/healthz") == 200

        # kill -9 the gateway: restarted, and it serves the same conversation.
        before = await api.history(cid, auth)
        os.kill(first["gateway"], signal.SIGKILL)
        gateway = wait(
            lambda: (pid := launcher.children().get("gateway")) != first["gateway"] and pid,
            30, "the gateway restarted",
        )
        assert f"gateway (pid {first['gateway']}) was killed by SIGKILL" in launcher.log()
        assert f"started gateway (pid {gateway})" in launcher.log()

        async def healthy() -> bool:
            return await api.status("/healthz") == 200

        await until(healthy, 60, "the restarted gateway answers")
        assert await api.history(cid, auth) == before
        more = await api.say(cid, auth, "how do I check in online")
        assert more["status"] == "bot"
        assert [m["text"] for m in more["messages"] if m["sender"] == "bot"] == checkin_answer
        assert await api.history(cid, auth) == before + [
            (m["sender"], m["text"]) for m in more["messages"]
        ]

    # Ctrl-C: every process, first and restarted, is gone and every port free.
    children = launcher.children()
    assert set(children) == {"rasa", "actions", "gateway"}
    started = time.monotonic()
    launcher.process.send_signal(signal.SIGINT)
    assert launcher.process.wait(timeout=60) == 0
    stopped = time.monotonic() - started
    assert stopped < 30, f"stopping took {stopped:.0f} s"
    assert [pid for pid in launcher.seen if alive(pid)] == []
    assert len(launcher.seen) == 6
    assert {name: port_free(port) for name, port in launcher.ports.items()} == {
        "gateway": True, "rasa": True, "actions": True
    }
    assert "SIGINT received: stopping everything" in launcher.log()


def test_sigterm_while_rasa_is_still_loading_stops_everything_at_once(tmp_path: Path) -> None:
    with running_launcher(tmp_path / "stopped-early") as launcher:
        wait(lambda: len(launcher.children()) == 3, 60, "all three processes started")
        started = time.monotonic()
        launcher.process.send_signal(signal.SIGTERM)
        assert launcher.process.wait(timeout=60) == 0
        stopped = time.monotonic() - started
        # Not once Rasa is ready: the launcher used to wait for that before stopping.
        assert "Baton is running." not in launcher.output()
        assert stopped < 20, f"stopping took {stopped:.0f} s"
        assert [pid for pid in launcher.seen if alive(pid)] == []
        assert "SIGTERM received: stopping everything" in launcher.log()
