"""`make run-cluster`'s stack under kill -9: two gateways on one PostgreSQL and one
Redis, two Rasa processes, all supervised by the launcher (scripts/run_all.py --cluster).

One launcher run on free ports, its files in a temporary directory. A customer on
gateway A and an agent on gateway B chat live; A is killed with SIGKILL and the customer
carries on against B, then on the restarted A, losing and doubling nothing. A Rasa
process is killed and its conversation's next turn is answered by the other at once, in
context. SIGINT then stops everything.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from handoff.assistant.pool import rendezvous

from ..shapes_check import CHECK_RESPONSES, CheckedWebSocket
from .launcher import (
    RASA_START, Api, Launcher, alive, group_alive, port_free, refuses, running_launcher, until,
    wait,
)
from .live_clients import Console, Widget, wait_for

pytestmark = pytest.mark.e2e

DISRUPTION = "my flight BA117 was cancelled"
SEAT = "how do I choose a seat"
SEAT_ANSWER = "To choose or change your seat:"
CHECK_IN = "how do I check in online"
CHECK_IN_ANSWER = "Online check-in opens"
# A turn the other Rasa process answers comes within a bot turn on a busy 2-core machine
# (about a second); waiting for the killed one's restart would take its 60-120 s load.
AT_ONCE = 10.0
# Events cross gateways through Redis within milliseconds; this only bounds a failure.
LIVE = 15.0


@pytest.fixture
def cluster() -> Iterator[Launcher]:
    # Not under pytest's tmp_path: PostgreSQL runs as its own account (as root), which
    # must reach its data directory through every parent.
    parent = Path(tempfile.mkdtemp(prefix="baton-cluster-"))
    parent.chmod(0o755)
    try:
        with running_launcher(parent / "cluster", cluster=True) as launcher:
            yield launcher
    finally:
        shutil.rmtree(parent, ignore_errors=True)


async def test_the_cluster_survives_kill_9_of_a_gateway_and_of_a_rasa_process(
    cluster: Launcher,
) -> None:
    launcher = cluster
    a = launcher.base
    b = f"http://127.0.0.1:{launcher.ports['gateway2']}"
    async with aiohttp.ClientSession(
        ws_response_class=CheckedWebSocket, middlewares=CHECK_RESPONSES,
        timeout=aiohttp.ClientTimeout(total=60),
    ) as http:
        api_a, api_b = Api(http, a), Api(http, b)

        async def both_ready() -> bool:
            return [await api_a.status("/readyz"), await api_b.status("/readyz")] == [200, 200]

        await until(both_ready, RASA_START, "both gateways ready after the launcher started")
        wait(lambda: "Baton is running." in launcher.output(), 10, "the launcher's banner")
        stack = sorted([
            ("postgres", launcher.ports["postgres"]), ("redis", launcher.ports["redis"]),
            ("actions", None),
            ("rasa", launcher.ports["rasa"]), ("rasa", launcher.ports["rasa2"]),
            ("gateway", launcher.ports["gateway"]), ("gateway", launcher.ports["gateway2"]),
        ])
        assert sorted((c.role, c.port) for c in launcher.all_children()) == stack

        console = Console(http, b, await api_b.agent())
        widget = Widget(http, [a, b])
        try:
            await console.open()
            await widget.open()
            await _chat_across_gateways(launcher, widget, console, a, b)
            await _kill_a_rasa_process(launcher, http, api_a)
        finally:
            await widget.close()
            await console.close()

    # Ctrl-C: every process, first and restarted, is gone and every port free.
    assert sorted((c.role, c.port) for c in launcher.all_children()) == stack
    started = time.monotonic()
    launcher.process.send_signal(signal.SIGINT)
    assert launcher.process.wait(timeout=60) == 0
    stopped = time.monotonic() - started
    assert stopped < 30, f"stopping took {stopped:.0f} s"
    assert len(launcher.seen) == 9  # 7, a gateway's restart and a Rasa process's
    assert [pid for pid in launcher.seen if group_alive(pid)] == []
    assert {name: port_free(port) for name, port in launcher.ports.items()} == {
        name: True for name in launcher.ports
    }
    assert "SIGINT received: stopping everything" in launcher.log()
    print(f"stopped in {stopped:.1f} s")


async def _chat_across_gateways(
    launcher: Launcher, widget: Widget, console: Console, a: str, b: str
) -> None:
    hello = next(f for f in console.frames if f["type"] == "hello")
    agent_name = hello["agent"]["name"]
    cid = widget.id
    # Every message the customer sent in human mode: its socket gets no event of it.
    own: set[int] = set()

    # 1. A disruption hands off; the agent on B sees it queued and claims it there.
    where, ack = await widget.say(DISRUPTION)
    assert (where, ack["type"], ack["status"]) == (a, "ack", "waiting")
    queued = await wait_for(
        lambda: next((f for f in console.frames if f["type"] == "handoff"
                      and f["conversation"]["id"] == cid), None), LIVE, "the handoff on B")
    assert queued["conversation"]["handoff"]["reason"] == "disruption"
    assert queued["conversation"]["handoff"]["disruption"] == "cancelled"
    async with console.http.get(f"{b}/api/agent/queue", headers=console.auth) as response:
        assert [c["id"] for c in (await response.json())["conversations"]] == [cid]
    async with console.http.post(f"{b}/api/agent/conversations/{cid}/claim",
                                 headers=console.auth) as response:
        assert response.status == 200, await response.text()
    await wait_for(lambda: any(f["type"] == "status" and f["status"] == "agent"
                               and f["agent"] == {"name": agent_name}
                               for f in widget.connections[-1][1]),
                   LIVE, "the claim reaching the widget on A")
    claimed_at = max(widget.shown)  # the agent's joining line, the first the console holds

    async def agent_says(text: str) -> None:
        seq = await console.reply(cid, text)
        await wait_for(lambda: seq in widget.shown and widget.shown[seq]["text"] == text,
                       LIVE, f"the agent's {text!r} reaching the widget")

    async def customer_says(text: str, on: str) -> float:
        sent = time.monotonic()
        where, answer = await widget.say(text)
        acked = time.monotonic() - sent
        assert where == on
        seq = answer["seq"] if answer.get("type") == "ack" else answer["messages"][0]["seq"]
        assert answer["status"] == "agent"
        own.add(seq)
        await wait_for(lambda: (seq, "customer", text) in console.messages(cid), LIVE,
                       f"the customer's {text!r} reaching the console on B")
        return acked

    await agent_says("Hi, I'm on it. Which date were you flying?")
    await customer_says("the 14th, from Heathrow", on=a)
    await agent_says("Thanks, checking the options now.")
    await customer_says("a morning flight would be best", on=a)

    # 2. kill -9 gateway A. The customer's network is down for a moment too, so the
    #    agent's next line is one the widget must fetch when it is back.
    gateway_a = launcher.pid_on("gateway", launcher.ports["gateway"])
    assert gateway_a is not None
    widget.online.clear()
    killed = time.monotonic()
    os.kill(gateway_a, signal.SIGKILL)
    await wait_for(lambda: not alive(gateway_a), 10, "gateway A's process gone")
    # Tried on A first (its dead socket, or over HTTP once the widget noticed), then
    # over HTTP on B, under the same client_message_id.
    tries = len(widget.attempts)
    sending = time.monotonic()
    acked = await customer_says("are you still there?", on=b)
    first_on_b = sending + acked - killed
    retried = widget.attempts[tries:]
    assert {client_id for client_id, _, _ in retried} == {widget.last_client_id}
    assert (retried[0][1], retried[-1][1:]) == (a, (b, "http")), retried
    await _agent_says_while_away(console, cid, "Yes, still here. I found a 09:40.")
    widget.online.set()
    await wait_for(lambda: widget.live and widget.connections[-1][0] == b, LIVE,
                   "the widget's socket resumed on B")
    # What it missed comes first, then where the conversation stands.
    away = max(widget.shown)
    assert widget.shown[away]["text"] == "Yes, still here. I found a 09:40."
    assert [(f["type"], f.get("message", {}).get("seq"), f.get("status"))
            for f in widget.connections[-1][1]] == [("message", away, None),
                                                   ("status", None, "agent")]
    await customer_says("09:40 works for me", on=b)
    await agent_says("Booked. You will get the new ticket by email.")

    # The launcher logged the kill and restarted A, and the customer goes back to it.
    # The launcher looks at its children twice a second: it may not have yet.
    await wait_for(lambda: f"gateway (pid {gateway_a}) was killed by SIGKILL" in launcher.log(),
                   10, "the launcher logging A's kill")
    restarted = await wait_for(
        lambda: launcher.pid_on("gateway", launcher.ports["gateway"]), 30, "gateway A restarted")
    assert restarted != gateway_a
    await wait_for(lambda: f"started gateway (pid {restarted})" in launcher.log(), 10,
                   "the launcher logging A's restart")
    api_a = Api(widget.http, a)

    async def a_ready() -> bool:
        return await api_a.status("/readyz") == 200

    await until(a_ready, 60, "the restarted gateway A ready")
    back = time.monotonic() - killed
    await wait_for(lambda: "gateway answers again" in launcher.log(), 10,
                   "the launcher saw A back")
    await widget.move_to(a)
    await agent_says("Anything else I can help with?")
    await customer_says("no, that's all, thank you", on=a)

    # Each side got every line of the other exactly once, in order, and never its own.
    history = {}
    for base in (a, b):
        async with widget.http.get(f"{base}/api/conversations/{cid}/messages",
                                   headers=widget.auth) as response:
            history[base] = [(m["seq"], m["sender"], m["text"])
                             for m in (await response.json())["messages"]]
    stored = history[a]
    assert history[b] == stored
    assert [seq for seq, _, _ in stored] == list(range(1, len(stored) + 1))
    customer_lines = [text for _, sender, text in stored if sender == "customer"]
    assert customer_lines == [
        DISRUPTION, "the 14th, from Heathrow", "a morning flight would be best",
        "are you still there?", "09:40 works for me", "no, that's all, thank you",
    ]
    agent_lines = [text for _, sender, text in stored if sender == "agent"]
    assert agent_lines == [
        "Hi, I'm on it. Which date were you flying?", "Thanks, checking the options now.",
        "Yes, still here. I found a 09:40.", "Booked. You will get the new ticket by email.",
        "Anything else I can help with?",
    ]
    assert widget.pushed() == [m for m in stored if m[0] not in own]
    assert {seq: message["text"] for seq, message in widget.shown.items()} == {
        seq: text for seq, _, text in stored
    }
    assert console.messages(cid) == [m for m in stored if m[0] >= claimed_at]
    assert [base for base, _ in widget.connections] == [a, b, a]
    print(f"kill -9 of gateway A to the customer's first message acked on B: "
          f"{first_on_b:.2f} s (tries: {[via for _, _, via in retried]}); "
          f"A ready again after {back:.1f} s")


async def _agent_says_while_away(console: Console, cid: str, text: str) -> None:
    """The agent's line, stored while the widget is offline: it reaches the widget only
    through its resume."""
    seq = await console.reply(cid, text)
    await wait_for(lambda: (seq, "agent", text) in console.messages(cid), LIVE,
                   "the agent's own line on the console")


async def _kill_a_rasa_process(
    launcher: Launcher, http: aiohttp.ClientSession, api: Api
) -> None:
    # 3. A conversation the bot holds, its turns on its own Rasa process (every gateway
    #    chooses it alike: handoff/assistant/pool.py), which is killed between two turns.
    cid, auth = await api.conversation()
    ports = {f"127.0.0.1:{launcher.ports[name]}": name for name in ("rasa", "rasa2")}
    own = ports[rendezvous(list(ports), cid)[0]]
    seat = await api.say(cid, auth, SEAT)
    assert seat["status"] == "bot"
    assert _bot_lines(seat)[0].startswith(SEAT_ANSWER)

    rasa = launcher.pid_on("rasa", launcher.ports[own])
    assert rasa is not None
    killed = time.monotonic()
    os.kill(rasa, signal.SIGKILL)
    await wait_for(lambda: not alive(rasa) and refuses(launcher.ports[own]), 10,
                   "the conversation's Rasa process gone, its connections closed")
    check_in = await api.say(cid, auth, CHECK_IN)
    took = time.monotonic() - killed
    assert check_in["status"] == "bot"
    assert _bot_lines(check_in)[0].startswith(CHECK_IN_ANSWER)
    assert took < AT_ONCE, f"the next answer took {took:.1f} s"
    # It was the killed process's turn: the gateway (A, "gateway") tried it first.
    gateway_log = (launcher.var_dir / "logs" / "gateway.log").read_text()
    assert f"turn of {cid} goes past Rasa at 127.0.0.1:{launcher.ports[own]}" in gateway_log

    # In context: the other process read the same tracker, so asking the first question
    # again is a repeated question (a reason to hand off), not a first one.
    again = await api.say(cid, auth, SEAT)
    assert again["status"] == "waiting"
    agent = await api.agent()
    async with http.get(f"{api.base}/api/agent/conversations/{cid}", headers=agent) as response:
        handoff = (await response.json())["handoff"]
    assert handoff["reason"] == "frustration", handoff
    assert "repeated_question" in handoff["context"]["frustration"]["signals"], handoff
    assert await api.history(cid, auth) == [
        (m["sender"], m["text"]) for turn in (seat, check_in, again) for m in turn["messages"]
    ]

    # The launcher restarts it.
    name = own
    await wait_for(lambda: f"{name} (pid {rasa}) was killed by SIGKILL" in launcher.log(), 10,
                   "the launcher logging the Rasa process's kill")
    again_pid = await wait_for(lambda: launcher.pid_on("rasa", launcher.ports[own]), 30,
                               "the Rasa process restarted")
    assert again_pid != rasa
    await wait_for(lambda: f"started {name} (pid {again_pid})" in launcher.log(), 10,
                   "the launcher logging the Rasa process's restart")
    print(f"kill -9 of Rasa {name} to its conversation's next answer: {took:.2f} s")


def _bot_lines(turn: dict[str, Any]) -> list[str]:
    return [m["text"] for m in turn["messages"] if m["sender"] == "bot"]
