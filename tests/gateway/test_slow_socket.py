"""A client that stops reading holds up nobody, catches up if it comes back, and is cut
off once it falls MAX_UNSENT behind (handoff.live.sockets).

A real aiohttp server and real TCP clients; the slow client stops reading by pausing its
transport, so the kernel's buffers fill and the server's writes back up as they would for
a phone that went into a tunnel.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestServer

from handoff.live.sockets import MAX_UNSENT, SocketRegistry

FRAME_BYTES = 16 * 1024


class Harness:
    def __init__(self) -> None:
        self.registry = SocketRegistry()
        self.server_sockets: list[web.WebSocketResponse] = []

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        # Small kernel buffers, so a client that stops reading backs the server up soon.
        request.transport.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDBUF, 16 * 1024
        )
        conversation = request.query["c"]
        self.registry.add_widget(conversation, ws, request.transport)
        self.server_sockets.append(ws)
        try:
            async for _ in ws:
                pass
        finally:
            self.registry.remove_widget(conversation, ws)
        return ws

    async def push(self, conversation: str, count: int) -> None:
        for n in range(count):
            await self.registry.send_to_conversation(
                conversation, {"type": "note", "n": n, "pad": "x" * FRAME_BYTES}
            )
            # Paced as a busy conversation is, so a client that reads keeps up.
            await asyncio.sleep(0.001)


@pytest.fixture
async def harness() -> AsyncIterator[tuple[Harness, TestServer]]:
    harness = Harness()
    app = web.Application()
    app.router.add_get("/ws", harness.handler)
    server = TestServer(app)
    await server.start_server()
    yield harness, server
    await server.close()


async def connect(session: aiohttp.ClientSession, server: TestServer, conversation: str,
                  ) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(server.make_url(f"/ws?c={conversation}"), max_msg_size=0)
    return ws


def pause(ws: aiohttp.ClientWebSocketResponse) -> asyncio.Transport:
    transport = ws._response.connection.transport  # type: ignore[union-attr]
    transport.pause_reading()
    return transport


async def read_numbers(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[int]:
    seen = []
    while len(seen) < count:
        frame = await asyncio.wait_for(ws.receive(), timeout=10)
        assert frame.type == WSMsgType.TEXT, frame
        seen.append(frame.json()["n"])
    return seen


async def wait_for_server_sockets(harness: Harness, count: int) -> None:
    for _ in range(200):
        if len(harness.server_sockets) == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(harness.server_sockets)} server sockets, wanted {count}")


async def push_past_a_paused_client(
    gateway: Harness, server: TestServer, session: aiohttp.ClientSession, count: int
) -> tuple[aiohttp.ClientWebSocketResponse, asyncio.Transport]:
    """A slow client (paused) and a fast one; `count` frames to each, every one of which
    the fast client reads in order. Gives the slow client and its paused transport."""
    slow = await connect(session, server, "slow")
    fast = await connect(session, server, "fast")
    await wait_for_server_sockets(gateway, 2)
    paused = pause(slow)
    reading = asyncio.ensure_future(read_numbers(fast, count))
    await asyncio.gather(gateway.push("slow", count), gateway.push("fast", count))
    assert await reading == list(range(count))
    return slow, paused


async def test_a_slow_client_holds_up_no_one_and_catches_up_in_order(
    harness: tuple[Harness, TestServer],
) -> None:
    gateway, server = harness
    async with aiohttp.ClientSession() as session:

        # 2 MiB each, well below MAX_UNSENT: the slow one is kept, with a backlog.
        count = 2 * 1024 * 1024 // FRAME_BYTES
        slow, paused = await push_past_a_paused_client(gateway, server, session, count)
        slow_server = gateway.server_sockets[0]
        assert slow_server in gateway.registry._backlogs
        assert not slow_server.closed

        paused.resume_reading()
        assert await read_numbers(slow, count) == list(range(count))
        for _ in range(100):
            if slow_server not in gateway.registry._backlogs:
                break
            await asyncio.sleep(0.01)
        assert slow_server not in gateway.registry._backlogs
        assert slow_server not in gateway.registry._catching_up


async def test_a_client_too_far_behind_is_closed_to_resume_later(
    harness: tuple[Harness, TestServer],
) -> None:
    gateway, server = harness
    async with aiohttp.ClientSession() as session:

        # Twice MAX_UNSENT: the slow socket is given up; the fast one gets every frame.
        count = 2 * MAX_UNSENT // FRAME_BYTES
        slow, paused = await push_past_a_paused_client(gateway, server, session, count)
        slow_server = gateway.server_sockets[0]
        assert slow_server not in gateway.registry._backlogs
        assert slow_server not in gateway.registry._transports
        assert not gateway.registry._backlogs  # nothing buffered without bound

        # Back in reach, the client reads a prefix in order, then the close: try again.
        paused.resume_reading()
        seen = []
        while True:
            frame = await asyncio.wait_for(slow.receive(), timeout=10)
            if frame.type != WSMsgType.TEXT:
                break
            seen.append(frame.json()["n"])
        assert (frame.type, frame.data, frame.extra) == (
            WSMsgType.CLOSE, WSCloseCode.TRY_AGAIN_LATER, "too far behind"
        )
        assert seen == list(range(len(seen)))
        assert len(seen) < count
