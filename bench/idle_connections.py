"""Idle widget WebSockets on one gateway process: memory per connection.

Starts the gateway alone (Rasa is not needed for a widget's socket) from this script,
with the open-files limit raised so that both sides can hold the connections; creates the
conversations, opens one widget socket each (/api/conversations/{id}/ws, the token in its
first frame), and reads the gateway's RSS from /proc/<pid>/status before, while they are
idle (across one 30 s server heartbeat, so every socket has sent a ping and got its pong),
and after they are closed. Goal: all of them on one process under 1 GB of RSS.

    .venv/gateway/bin/python bench/idle_connections.py [--connections 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import time

import aiohttp

from _common import (
    gateway_pid,
    print_table,
    rss_kib,
    running_stack,
    wait_healthy,
    widget_socket,
    write_results,
)

WARMUP_CONNECTIONS = 200
IDLE_SECONDS = 40.0  # longer than the widget socket's 30 s heartbeat
GOAL_BYTES = 1024**3


async def create_conversations(http: aiohttp.ClientSession, base_url: str, count: int) -> list[tuple[str, str]]:
    semaphore = asyncio.Semaphore(32)

    async def one() -> tuple[str, str]:
        async with semaphore:
            async with http.post(f"{base_url}/api/conversations") as response:
                body = await response.json()
                return body["id"], body["token"]

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def open_sockets(
    http: aiohttp.ClientSession, base_url: str, conversations: list[tuple[str, str]],
    readers: list[asyncio.Task[None]],
) -> list[aiohttp.ClientWebSocketResponse]:
    semaphore = asyncio.Semaphore(64)

    async def one(conversation_id: str, token: str) -> aiohttp.ClientWebSocketResponse:
        async with semaphore:
            ws = await widget_socket(http, base_url, conversation_id, token)
            status = await ws.receive_json(timeout=30)
            assert status["type"] == "status", status
            readers.append(asyncio.create_task(keep_reading(ws)))
            return ws

    return list(await asyncio.gather(*(one(c, t) for c, t in conversations)))


async def keep_reading(ws: aiohttp.ClientWebSocketResponse) -> None:
    # Reading is what answers the server's heartbeat pings (aiohttp replies with a pong);
    # a socket nobody reads is closed by the server after its 30 s heartbeat.
    async for _frame in ws:
        pass


async def measure(stack, count: int) -> dict:
    pid = gateway_pid(stack)
    samples: list[tuple[str, float, int]] = []
    started = time.perf_counter()

    def sample(label: str) -> int:
        rss = rss_kib(pid)
        samples.append((label, time.perf_counter() - started, rss))
        print(f"  {label}: gateway RSS {rss / 1024:.1f} MiB", flush=True)
        return rss

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        sample("gateway started")
        conversations = await create_conversations(
            http, stack.base_url, count + WARMUP_CONNECTIONS
        )
        warmup, measured = conversations[:WARMUP_CONNECTIONS], conversations[WARMUP_CONNECTIONS:]
        sample(f"{len(conversations)} conversations created")
        # Warm-up: the first sockets load code and fill caches once; not per-connection cost.
        readers: list[asyncio.Task[None]] = []
        for ws in await open_sockets(http, stack.base_url, warmup, readers):
            await ws.close()
        await asyncio.sleep(2)
        before = sample("before (after a warm-up of 200 sockets)")

        connect_start = time.perf_counter()
        sockets = await open_sockets(http, stack.base_url, measured, readers)
        connect_seconds = time.perf_counter() - connect_start
        print(f"  {len(sockets)} sockets open in {connect_seconds:.1f} s", flush=True)
        after_connect = sample("all open")
        peak = after_connect
        idle_until = time.monotonic() + IDLE_SECONDS
        while time.monotonic() < idle_until:
            await asyncio.sleep(5)
            peak = max(peak, sample("idle"))
        still_open = sum(not ws.closed for ws in sockets)
        after_idle = sample("after idling")
        for ws in sockets:
            await ws.close()
        for reader in readers:
            reader.cancel()
        await asyncio.sleep(3)
        after_close = sample("all closed")
    gc.collect()
    return {
        "connections": len(sockets),
        "connects_per_s": len(sockets) / connect_seconds,
        "still_open_after_idle": still_open,
        "connect_seconds": connect_seconds,
        "rss_kib": {
            "before": before,
            "all_open": after_connect,
            "after_idle": after_idle,
            "peak": peak,
            "after_close": after_close,
        },
        "samples": [{"label": l, "t_s": round(t, 1), "rss_kib": r} for l, t, r in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=10_000)
    args = parser.parse_args()
    # Both this client and the gateway (which inherits the limit) hold one descriptor per
    # connection.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.connections + WARMUP_CONNECTIONS + 1000
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise SystemExit(f"the hard open-files limit {hard} is below {needed}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))

    with running_stack("idle", rasa=False) as stack:
        wait_healthy(stack)
        result = asyncio.run(asyncio.wait_for(measure(stack, args.connections), 900))

    rss = result["rss_kib"]
    per_connection = (rss["peak"] - rss["before"]) * 1024 / result["connections"]
    rows = [[label, f"{value / 1024:.1f}"] for label, value in rss.items()]
    print_table(
        f"Gateway RSS with {result['connections']} idle widget sockets (MiB)", ["when", "RSS"], rows
    )
    total = rss["peak"] * 1024
    print(
        f"\nper connection: {per_connection / 1024:.1f} KiB (peak - before); gateway peak RSS "
        f"{total / 2**20:.0f} MiB (goal: under 1024 MiB); still open after "
        f"{IDLE_SECONDS:.0f} s idle: {result['still_open_after_idle']}"
    )
    path = write_results(
        "idle_connections",
        {
            **result,
            "idle_seconds": IDLE_SECONDS,
            "per_connection_bytes": per_connection,
            "goal": {"total_rss_bytes_max": GOAL_BYTES},
            "met": total < GOAL_BYTES and result["still_open_after_idle"] == result["connections"],
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
