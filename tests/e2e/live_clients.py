"""A widget and a console that behave as the real ones do, for tests that kill gateways.

The widget (handoff/static/widget/widget.js) sends on its socket while it is live and
over HTTP otherwise, retrying each message with the same client_message_id until it is
acked; its socket comes back after a drop and resumes after the last seq it shows. It
is given the gateways a load balancer would send it to: a connection or a POST that
fails moves it to the next. The console resumes from its epoch and last event id.
Both keep every frame, so a test can assert exactly what arrived, and how often.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

# A message in human mode is acked once stored; a bot turn once Rasa answered.
ACK_WAIT = 60.0
RETRY_PAUSE = 0.3


async def wait_for(check: Any, timeout: float, what: str) -> Any:
    """Until check() is truthy, looking again whenever a frame may have arrived."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        await asyncio.sleep(0.05)
    return result


@dataclass
class Widget:
    http: aiohttp.ClientSession
    bases: list[str]
    id: str = ""
    token: str = ""
    at: int = 0  # the gateway in bases it talks to
    # Each connection's gateway and the frames it brought, in order.
    connections: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    shown: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> message
    # Cleared: the customer's own network is down (the socket does not come back).
    online: asyncio.Event = field(default_factory=asyncio.Event)
    ws: aiohttp.ClientWebSocketResponse | None = None
    live: bool = False  # the socket's replay is over (its status frame came)
    # Each try of each message: (client_message_id, gateway, "socket" or "http").
    attempts: list[tuple[str, str, str]] = field(default_factory=list)
    _acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _moving: bool = False
    last_client_id: str = ""
    task: asyncio.Task[None] | None = None

    @property
    def base(self) -> str:
        return self.bases[self.at]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def last_seq(self) -> int:
        """Every message up to it is shown: a resume asks for what comes after."""
        seq = 0
        while seq + 1 in self.shown:
            seq += 1
        return seq

    def pushed(self) -> list[tuple[int, str, str]]:
        """Every message event, as it came, over every connection."""
        return [(f["message"]["seq"], f["message"]["sender"], f["message"]["text"])
                for _, frames in self.connections for f in frames if f["type"] == "message"]

    async def open(self) -> None:
        async with self.http.post(f"{self.base}/api/conversations") as response:
            assert response.status == 201, await response.text()
            body = await response.json()
        self.id, self.token = body["id"], body["token"]
        self.online.set()
        self.task = asyncio.create_task(self._listen())
        await wait_for(lambda: self.live, 30, "the widget's socket open")

    async def _listen(self) -> None:
        while True:
            await self.online.wait()
            url = f"{self.base}/api/conversations/{self.id}/ws?after={self.last_seq}"
            connected = False
            try:
                async with self.http.ws_connect(url) as ws:
                    connected = True
                    await ws.send_json({"type": "auth", "token": self.token})
                    frames: list[dict[str, Any]] = []
                    self.connections.append((self.base, frames))
                    self.ws = ws
                    async for frame in ws:
                        if frame.type != aiohttp.WSMsgType.TEXT:
                            break
                        self._receive(json.loads(frame.data), frames)
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionResetError):
                pass
            self.ws, self.live = None, False
            for waiting in self._acks.values():
                if not waiting.done():
                    waiting.set_exception(ConnectionResetError("the socket dropped"))
            if not connected and not self._moving:
                self._next_gateway()
            self._moving = False
            await asyncio.sleep(RETRY_PAUSE)

    def _receive(self, event: dict[str, Any], frames: list[dict[str, Any]]) -> None:
        frames.append(event)
        if event["type"] == "message":
            self.shown[event["message"]["seq"]] = event["message"]
        elif event["type"] == "status":
            self.live = True
        elif event["type"] == "ack":
            self.shown[event["seq"]] = event["message"]
            waiting = self._acks.get(event["client_message_id"])
            if waiting is not None and not waiting.done():
                waiting.set_result(event)

    def _next_gateway(self) -> None:
        """A gateway that refused: the balancer sends the next try to the next one."""
        self.at = (self.at + 1) % len(self.bases)

    async def move_to(self, base: str) -> None:
        """The customer's next connection goes to `base` (a reload, a balancer's choice)."""
        self._moving = True
        self.at = self.bases.index(base)
        if self.ws is not None:
            await self.ws.close()
        await wait_for(lambda: self.live and self.connections[-1][0] == base, 30,
                       f"the widget's socket on {base}")

    async def say(self, text: str, timeout: float = 120) -> tuple[str, dict[str, Any]]:
        """Until stored: (the gateway that acked it, the ack or the HTTP answer)."""
        client_id = self.last_client_id = uuid.uuid4().hex
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ws, base = self.ws, self.base
            if ws is not None and self.live:
                waiting = self._acks[client_id] = asyncio.get_running_loop().create_future()
                self.attempts.append((client_id, base, "socket"))
                try:
                    await ws.send_json({"type": "message", "text": text,
                                        "client_message_id": client_id})
                    ack = await asyncio.wait_for(waiting, ACK_WAIT)
                    return base, ack
                except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionResetError):
                    pass
                finally:
                    del self._acks[client_id]
            else:
                answer = await self._post(base, text, client_id)
                if answer is not None:
                    return base, answer
                if self.base == base:
                    self._next_gateway()
                    continue
            await asyncio.sleep(RETRY_PAUSE)
        raise AssertionError(f"{text!r} was not acked within {timeout:.0f} s")

    async def _post(self, base: str, text: str, client_id: str) -> dict[str, Any] | None:
        self.attempts.append((client_id, base, "http"))
        try:
            async with self.http.post(f"{base}/api/conversations/{self.id}/messages",
                                      json={"text": text, "client_message_id": client_id},
                                      headers=self.auth) as response:
                if response.status >= 500:
                    return None
                assert response.status == 200, await response.text()
                answer = await response.json()
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return None
        for message in answer["messages"]:
            self.shown[message["seq"]] = message
        return answer

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()


@dataclass
class Console:
    http: aiohttp.ClientSession
    base: str
    auth: dict[str, str]
    frames: list[dict[str, Any]] = field(default_factory=list)
    epoch: str | None = None
    last_event_id: int | None = None
    connects: int = 0
    task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.task = asyncio.create_task(self._listen())
        await wait_for(lambda: self.connects, 30, "the console's socket open")

    def messages(self, conversation_id: str) -> list[tuple[int, str, str]]:
        return [(f["message"]["seq"], f["message"]["sender"], f["message"]["text"])
                for f in self.frames
                if f["type"] == "message" and f["conversation_id"] == conversation_id]

    async def _listen(self) -> None:
        while True:
            url = f"{self.base}/api/agent/ws"
            if self.last_event_id is not None:
                url += f"?epoch={self.epoch}&last_event_id={self.last_event_id}"
            try:
                async with self.http.ws_connect(url, headers=self.auth) as ws:
                    async for frame in ws:
                        if frame.type != aiohttp.WSMsgType.TEXT:
                            break
                        event = json.loads(frame.data)
                        self.frames.append(event)
                        if event["type"] == "hello":
                            if self.last_event_id is None or event["epoch"] != self.epoch:
                                self.last_event_id = event["last_event_id"]
                            self.epoch = event["epoch"]
                            self.connects += 1
                        elif "id" in event:
                            self.last_event_id = max(self.last_event_id or 0, event["id"])
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionResetError):
                pass
            await asyncio.sleep(RETRY_PAUSE)

    async def reply(self, conversation_id: str, text: str) -> int:
        """As the console does: retried with the same client_message_id until stored."""
        client_id = uuid.uuid4().hex
        for _ in range(100):
            try:
                async with self.http.post(
                    f"{self.base}/api/agent/conversations/{conversation_id}/messages",
                    json={"text": text, "client_message_id": client_id}, headers=self.auth,
                ) as response:
                    if response.status < 500:
                        assert response.status == 201, await response.text()
                        return (await response.json())["message"]["seq"]
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            await asyncio.sleep(RETRY_PAUSE)
        raise AssertionError(f"the agent's {text!r} was not stored")

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
