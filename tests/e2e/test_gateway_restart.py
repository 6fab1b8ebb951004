"""The gateway restarts under 200 connected widgets and their agents: nothing is lost.

Widgets and consoles here are small clients that behave as the real ones do: a message is
retried with the same client_message_id until it is acknowledged, a socket reconnects and
resumes from the last seq (widget) or epoch and event id (console). The counts go to
var/test-results/fault-gateway-restart.json for docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from ..conftest import ROOT, Stack, new_stack
from ..shapes_check import CHECK_RESPONSES, CheckedWebSocket

pytestmark = pytest.mark.e2e

WIDGETS = 200
HANDED_OFF = 100
AGENTS = 5
BEFORE, DURING = 2, 2
RESULTS = ROOT / "var" / "test-results" / "fault-gateway-restart.json"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = new_stack(
        tmp_path_factory.mktemp("restart"),
        # Loopback is one address for 200 clients; the limits are tested elsewhere.
        extra_env={"BATON_RATE_PER_ADDRESS": "0", "BATON_RATE_PER_CONVERSATION": "0"},
    )
    agents = tuple((f"agent{i}@baton.example", "restart-pass", f"Agent {i}") for i in range(AGENTS))
    try:
        stack.start(timeout=240, agents=agents)
        yield stack
    finally:
        stack.stop()


async def _with_retry(call: Any) -> Any:
    """Until the gateway answers: it is down for a moment in this test."""
    deadline = time.monotonic() + 120
    while True:
        try:
            return await call()
        except (aiohttp.ClientError, asyncio.TimeoutError, RetryableStatus):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


class RetryableStatus(Exception):
    pass


@dataclass
class Widget:
    http: aiohttp.ClientSession
    base: str
    id: str = ""
    token: str = ""
    last_seq: int = 0
    received: dict[int, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    sent: list[str] = field(default_factory=list)
    connects: int = 0
    task: asyncio.Task[None] | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def open(self) -> None:
        async def create() -> dict[str, Any]:
            async with self.http.post(f"{self.base}/api/conversations") as response:
                if response.status != 201:
                    raise RetryableStatus(response.status)
                return await response.json()

        body = await _with_retry(create)
        self.id, self.token = body["id"], body["token"]
        self.task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            try:
                url = f"{self.base}/api/conversations/{self.id}/ws?after={self.last_seq}"
                async with self.http.ws_connect(url) as ws:
                    await ws.send_json({"type": "auth", "token": self.token})
                    self.connects += 1
                    async for frame in ws:
                        event = json.loads(frame.data)
                        if event["type"] == "message":
                            seq = event["message"]["seq"]
                            if seq in self.received:
                                self.duplicates += 1
                            self.received[seq] = event["message"]
                            self.last_seq = max(self.last_seq, seq)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.3)

    async def say(self, text: str) -> dict[str, Any]:
        client_id = uuid.uuid4().hex
        self.sent.append(text)

        async def post() -> dict[str, Any]:
            async with self.http.post(
                f"{self.base}/api/conversations/{self.id}/messages",
                json={"text": text, "client_message_id": client_id},
                headers=self.auth,
            ) as response:
                if response.status >= 500:
                    raise RetryableStatus(response.status)
                assert response.status == 200, await response.text()
                return await response.json()

        return await _with_retry(post)


@dataclass
class Console:
    http: aiohttp.ClientSession
    base: str
    email: str
    token: str = ""
    epoch: str | None = None
    last_event_id: int | None = None
    # customer messages seen, by conversation: seq -> text
    seen: dict[str, dict[int, str]] = field(default_factory=dict)
    resets: int = 0
    task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        async with self.http.post(f"{self.base}/api/agent/login",
                                  json={"email": self.email, "password": "restart-pass"}) as response:
            self.token = (await response.json())["token"]
        self.task = asyncio.create_task(self._listen())

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def _catch_up(self) -> None:
        """After a reset: read the transcripts of this agent's conversations."""
        for cid in list(self.seen):
            async with self.http.get(f"{self.base}/api/agent/conversations/{cid}",
                                     headers=self.auth) as response:
                detail = await response.json()
            for message in detail["messages"]:
                if message["sender"] == "customer":
                    self.seen[cid][message["seq"]] = message["text"]

    async def _listen(self) -> None:
        while True:
            try:
                url = f"{self.base}/api/agent/ws"
                if self.last_event_id is not None:
                    url += f"?epoch={self.epoch}&last_event_id={self.last_event_id}"
                async with self.http.ws_connect(url, headers=self.auth) as ws:
                    async for frame in ws:
                        event = json.loads(frame.data)
                        if event["type"] == "hello":
                            if self.last_event_id is None or event["epoch"] != self.epoch:
                                self.last_event_id = event["last_event_id"]
                            self.epoch = event["epoch"]
                            continue
                        if "id" in event:
                            self.last_event_id = max(self.last_event_id or 0, event["id"])
                        if event["type"] == "reset":
                            self.resets += 1
                            await self._catch_up()
                        elif event["type"] == "message" and event["conversation_id"] in self.seen:
                            message = event["message"]
                            if message["sender"] == "customer":
                                self.seen[event["conversation_id"]][message["seq"]] = message["text"]
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(0.3)

    async def claim(self, cid: str) -> None:
        self.seen[cid] = {}
        async with self.http.post(f"{self.base}/api/agent/conversations/{cid}/claim",
                                  headers=self.auth) as response:
            assert response.status == 200, await response.text()

    async def reply(self, cid: str, text: str) -> None:
        async def post() -> None:
            async with self.http.post(f"{self.base}/api/agent/conversations/{cid}/messages",
                                      json={"text": text}, headers=self.auth) as response:
                if response.status >= 500:
                    raise RetryableStatus(response.status)
                assert response.status == 201, await response.text()

        await _with_retry(post)


async def _bounded(coros: list[Any], limit: int = 40) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(coro: Any) -> None:
        async with gate:
            await coro

    await asyncio.gather(*(run(c) for c in coros))


async def _wait_until(check: Any, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.5)
    return check()


async def test_a_gateway_restart_under_200_widgets_loses_and_duplicates_nothing(stack: Stack) -> None:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, ws_response_class=CheckedWebSocket,
                                     middlewares=CHECK_RESPONSES,
                                     timeout=aiohttp.ClientTimeout(total=60)) as http:
        base = stack.base_url
        consoles = [Console(http, base, f"agent{i}@baton.example") for i in range(AGENTS)]
        for console in consoles:
            await console.open()
        widgets = [Widget(http, base) for _ in range(WIDGETS)]
        await _bounded([w.open() for w in widgets])
        human = widgets[:HANDED_OFF]
        await _bounded([w.say("can I talk to a real person") for w in human])
        for index, widget in enumerate(human):
            await consoles[index % AGENTS].claim(widget.id)
        holder = {w.id: consoles[i % AGENTS] for i, w in enumerate(human)}

        async def chat(widget: Widget, phase: str, count: int) -> None:
            for n in range(count):
                await widget.say(f"{phase} question {n} about my baggage")
                if widget.id in holder:
                    await holder[widget.id].reply(widget.id, f"{phase} answer {n}")

        await _bounded([chat(w, "before", BEFORE) for w in widgets])

        # Restart the gateway while every client keeps talking.
        during = asyncio.create_task(_bounded([chat(w, "during", DURING) for w in widgets]))
        await asyncio.sleep(1.0)
        started = time.monotonic()
        stack.stop("gateway", signal.SIGTERM)
        stopped = time.monotonic() - started
        stack.start_gateway()
        while True:
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        downtime = time.monotonic() - started
        await during

        # Everything stored reaches its widget, and every customer line its agent.
        stored: dict[str, list[dict[str, Any]]] = {}
        for widget in widgets:
            async with http.get(f"{base}/api/conversations/{widget.id}/messages",
                                headers=widget.auth) as response:
                stored[widget.id] = (await response.json())["messages"]
        delivered = await _wait_until(
            lambda: all(set(w.received) >= {m["seq"] for m in stored[w.id]} for w in widgets)
        )
        agents_delivered = await _wait_until(
            lambda: all(
                set(holder[w.id].seen[w.id]) >= {m["seq"] for m in stored[w.id]
                                                 if m["sender"] == "customer"
                                                 and m["text"] != "can I talk to a real person"}
                for w in human
            )
        )
        sent = sum(len(w.sent) for w in widgets)
        stored_customer = sum(1 for w in widgets for m in stored[w.id] if m["sender"] == "customer")
        lost = [w.id for w in widgets
                if [m["text"] for m in stored[w.id] if m["sender"] == "customer"] != w.sent]
        gaps = [w.id for w in widgets
                if [m["seq"] for m in stored[w.id]] != list(range(1, len(stored[w.id]) + 1))]
        figures = {
            "widgets": WIDGETS, "agents": AGENTS, "handed_off": HANDED_OFF,
            "customer_messages_sent": sent, "customer_messages_stored": stored_customer,
            "messages_stored": sum(len(v) for v in stored.values()),
            "messages_delivered_to_widgets": sum(len(w.received) for w in widgets),
            "duplicate_deliveries_dropped_by_seq": sum(w.duplicates for w in widgets),
            "widget_reconnects": sum(w.connects - 1 for w in widgets),
            "console_resets": sum(c.resets for c in consoles),
            "conversations_with_lost_or_duplicated_messages": len(lost),
            "conversations_with_seq_gaps": len(gaps),
            "graceful_stop_seconds": round(stopped, 1),
            "restart_seconds": round(downtime, 1),
        }
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(figures, indent=2))
        print(json.dumps(figures, indent=2))

        assert lost == [] and gaps == []
        assert sent == stored_customer
        assert delivered and agents_delivered
        assert all(w.connects >= 2 for w in widgets)
        for task in [*(w.task for w in widgets), *(c.task for c in consoles)]:
            assert task is not None
            task.cancel()
