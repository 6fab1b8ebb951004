"""Handoff notification: Rasa's handoff reply reaching the gateway -> the agent's socket.

The bot turn itself is excluded. The gateway cannot be watched from inside without
changing it, so the benchmark puts a small recording proxy between the gateway and the
real Rasa (the gateway's RASA_URL points at it). For each conversation the proxy notes
the moment it has written Rasa's handoff answer back to the gateway (t_reply); the
agent's console socket, in the same process and on the same clock, notes when the
`handoff` event for that conversation arrives (t_event). t_event - t_reply is exactly the
gateway's part: parsing the answer, storing the bot's reply, the handoff and the new
status, and publishing the events, plus one loopback hop each way (an overestimate, if
anything: the proxy's write to the gateway's socket is counted).

Reported beside it, as a cross-check with no proxy involved in the difference:
(a) customer POST -> handoff event at the socket, and (b) the same turn sent straight to
Rasa, interleaved; median(a) - median(b) estimates the same quantity, with the noise of
two independent bot turns (so its tails say little).

Every sample is a fresh conversation whose first message asks for a person; once its
event has arrived the agent resolves it, so the queue does not grow from sample to sample.
The gateway's handoff work depends on how many customers already wait (it orders the
whole queue to tell the newcomer their place, and then tells every waiting customer
theirs), so there are two series: an empty queue, and a standing backlog of waiting
conversations, each with its widget socket open as on the page.
Goal: p95 of t_event - t_reply <= 50 ms.

    .venv/gateway/bin/python bench/handoff_notify.py [--samples 200] [--backlog 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time

import aiohttp
from aiohttp import web

from _common import (
    AGENT_PASSWORD,
    free_port,
    print_table,
    running_stack,
    summary_ms,
    widget_socket,
    write_results,
)

ASK = "can i talk to a real person"
AGENT_EMAIL = "bench-notify@baton.example"
WARMUP = 5


class RecordingProxy:
    """Forwards everything to Rasa; notes when a handoff answer was handed back."""

    def __init__(self, rasa_url: str) -> None:
        self.rasa_url = rasa_url
        self.handoff_replied: dict[str, float] = {}
        self.http: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None

    async def start(self, port: int) -> None:
        self.http = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        assert self.http is not None and self.runner is not None
        await self.runner.cleanup()
        await self.http.close()

    async def forward(self, request: web.Request) -> web.StreamResponse:
        assert self.http is not None
        body = await request.read()
        try:
            async with self.http.request(
                request.method, f"{self.rasa_url}{request.path_qs}", data=body,
                headers={
                    "Content-Type": request.headers.get("Content-Type", "application/json"),
                    # The gateway's internal secret, passed on as it came.
                    "Authorization": request.headers.get("Authorization", ""),
                },
            ) as upstream:
                answer = await upstream.read()
                status = upstream.status
        except aiohttp.ClientError:
            # Rasa still loading: the gateway's readiness check just sees "not yet".
            return web.Response(status=502)
        response = web.Response(body=answer, status=status, content_type="application/json")
        await response.prepare(request)
        await response.write_eof()
        replied = time.perf_counter()
        if request.path.endswith("/webhook") and status == 200:
            try:
                handed_off = json.loads(answer).get("handoff") is not None
                sender = json.loads(body)["sender"]
            except (ValueError, KeyError, AttributeError):
                handed_off = False
            if handed_off:
                self.handoff_replied[sender] = replied
        return response


class AgentConsole:
    """One agent's socket; notes when each conversation's handoff event arrives."""

    def __init__(self) -> None:
        self.handoff_seen: dict[str, float] = {}
        self.arrived: dict[str, asyncio.Event] = {}
        self.task: asyncio.Task[None] | None = None
        self.token = ""

    async def connect(self, http: aiohttp.ClientSession, base_url: str) -> None:
        async with http.post(
            f"{base_url}/api/agent/login", json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}
        ) as response:
            token = self.token = (await response.json())["token"]
        ws = await http.ws_connect(
            f"{base_url}/api/agent/ws", headers={"Authorization": f"Bearer {token}"}
        )
        hello = await ws.receive_json()
        assert hello["type"] == "hello", hello
        self.task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in ws:
            now = time.perf_counter()
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            event = json.loads(frame.data)
            if event["type"] == "handoff":
                conversation_id = event["conversation"]["id"]
                self.handoff_seen[conversation_id] = now
                self.arrived.setdefault(conversation_id, asyncio.Event()).set()

    async def wait_for(self, conversation_id: str, timeout: float = 30.0) -> float:
        await asyncio.wait_for(
            self.arrived.setdefault(conversation_id, asyncio.Event()).wait(), timeout
        )
        return self.handoff_seen[conversation_id]


async def one_sample(
    http: aiohttp.ClientSession, base_url: str, rasa_url: str, rasa_auth: dict[str, str],
    proxy: RecordingProxy, console: AgentConsole, direct_first: bool,
) -> dict[str, float] | None:
    async def direct() -> float:
        payload = {"sender": secrets.token_hex(16), "message": ASK,
                   "message_id": secrets.token_hex(8), "mode": "bot", "metadata": {}}
        start = time.perf_counter()
        async with http.post(
            f"{rasa_url}/webhooks/baton/webhook", json=payload, headers=rasa_auth
        ) as response:
            body = await response.json()
        elapsed = time.perf_counter() - start
        return elapsed if body.get("handoff") is not None else float("nan")

    async with http.post(f"{base_url}/api/conversations") as response:
        conversation = await response.json()
    conversation_id = conversation["id"]
    rasa_direct = await direct() if direct_first else None
    start = time.perf_counter()
    async with http.post(
        f"{base_url}/api/conversations/{conversation_id}/messages", json={"text": ASK},
        headers={"Authorization": f"Bearer {conversation['token']}"},
    ) as response:
        body = await response.json()
    if body.get("status") != "waiting":
        return None
    seen = await console.wait_for(conversation_id)
    if rasa_direct is None:
        rasa_direct = await direct()
    async with http.post(
        f"{base_url}/api/agent/conversations/{conversation_id}/resolve", json={},
        headers={"Authorization": f"Bearer {console.token}"},
    ) as response:
        if response.status != 200:
            raise RuntimeError(f"resolve answered {response.status}")
    replied = proxy.handoff_replied.get(conversation_id)
    if replied is None:
        return None
    return {
        "reply_to_event": seen - replied,
        "post_to_event": seen - start,
        "rasa_direct": rasa_direct,
    }


async def series(http: aiohttp.ClientSession, base_url: str, rasa_url: str,
                 rasa_auth: dict[str, str], proxy: RecordingProxy, console: AgentConsole,
                 samples: int) -> dict:
    results: list[dict[str, float]] = []
    skipped = 0
    for i in range(WARMUP + samples):
        sample = await one_sample(http, base_url, rasa_url, rasa_auth, proxy, console,
                                  i % 2 == 1)
        if i < WARMUP:
            continue
        if sample is None:
            skipped += 1
        else:
            results.append(sample)
    return {"samples": results, "skipped": skipped}


async def build_backlog(http: aiohttp.ClientSession, base_url: str, count: int
                        ) -> list[aiohttp.ClientWebSocketResponse]:
    """`count` customers waiting for an agent, each with the widget open."""
    sockets = []
    for _ in range(count):
        async with http.post(f"{base_url}/api/conversations") as response:
            conversation = await response.json()
        async with http.post(
            f"{base_url}/api/conversations/{conversation['id']}/messages", json={"text": ASK},
            headers={"Authorization": f"Bearer {conversation['token']}"},
        ) as response:
            if (await response.json()).get("status") != "waiting":
                raise RuntimeError("asking for a person did not hand off")
        ws = await widget_socket(http, base_url, conversation["id"], conversation["token"])
        sockets.append(ws)
        asyncio.create_task(_discard(ws))
    return sockets


async def _discard(ws: aiohttp.ClientWebSocketResponse) -> None:
    async for _frame in ws:
        pass


async def measure(base_url: str, rasa_url: str, rasa_auth: dict[str, str],
                  proxy: RecordingProxy, samples: int, backlog: int) -> dict:
    # No pool limit: every open widget socket holds a connection of the pool.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        console = AgentConsole()
        await console.connect(http, base_url)
        empty = await series(http, base_url, rasa_url, rasa_auth, proxy, console, samples)
        sockets = await build_backlog(http, base_url, backlog)
        with_backlog = await series(http, base_url, rasa_url, rasa_auth, proxy, console,
                                    samples // 2)
        for ws in sockets:
            await ws.close()
        assert console.task is not None
        console.task.cancel()
    return {"empty_queue": empty, "backlog": with_backlog}


async def run(samples: int, backlog: int) -> dict:
    proxy_port = free_port()
    with running_stack(
        "notify", agents=[AGENT_EMAIL], extra_env={"RASA_URL": f"http://127.0.0.1:{proxy_port}"}
    ) as stack:
        rasa_url = f"http://127.0.0.1:{stack.ports.rasa}"
        proxy = RecordingProxy(rasa_url)
        await proxy.start(proxy_port)
        try:
            await asyncio.to_thread(stack.wait_ready, 300)
            measured = await asyncio.wait_for(
                measure(stack.base_url, rasa_url, stack.internal_auth(), proxy, samples,
                        backlog), 1200
            )
        finally:
            await proxy.stop()
    return measured


def summarise(measured: dict) -> dict:
    samples = measured["samples"]
    direct = [s["rasa_direct"] for s in samples if s["rasa_direct"] == s["rasa_direct"]]
    post_to_event = summary_ms([s["post_to_event"] for s in samples])
    rasa_direct = summary_ms(direct)
    return {
        "samples": len(samples),
        "skipped": measured["skipped"],
        "rasa_reply_to_agent_socket_ms": summary_ms([s["reply_to_event"] for s in samples]),
        "customer_post_to_agent_socket_ms": post_to_event,
        "rasa_direct_turn_ms": rasa_direct,
        "cross_check_median_difference_ms": post_to_event["p50"] - rasa_direct["p50"],
        "gateway_part_each_ms": [round(s["reply_to_event"] * 1000, 2) for s in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--backlog", type=int, default=100,
                        help="customers already waiting in the second series")
    args = parser.parse_args()
    measured = asyncio.run(run(args.samples, args.backlog))
    series = {
        "empty queue": summarise(measured["empty_queue"]),
        f"{args.backlog} waiting": summarise(measured["backlog"]),
    }
    rows = []
    for name, result in series.items():
        for label, key in (("Rasa reply -> agent socket (gateway part)", "rasa_reply_to_agent_socket_ms"),
                           ("customer POST -> agent socket (a)", "customer_post_to_agent_socket_ms"),
                           ("same turn straight to Rasa (b)", "rasa_direct_turn_ms")):
            stats = result[key]
            rows.append([name, label, stats["n"], stats["p50"], stats["p95"], stats["p99"],
                         stats["max"]])
    print_table("Handoff notification (ms)", ["queue", "measure", "n", "p50", "p95", "p99", "max"],
                rows)
    for name, result in series.items():
        print(f"{name}: p95 of the gateway part "
              f"{result['rasa_reply_to_agent_socket_ms']['p95']:.2f} ms (goal <= 50 ms); "
              f"cross-check median(a) - median(b) = "
              f"{result['cross_check_median_difference_ms']:.2f} ms; skipped {result['skipped']}")
    empty = series["empty queue"]["rasa_reply_to_agent_socket_ms"]["p95"]
    path = write_results(
        "handoff_notify",
        {
            "method": "recording proxy between gateway and Rasa; t(handoff event at agent "
                      "socket) - t(proxy finished writing Rasa's handoff answer to the gateway)",
            "message": ASK,
            "backlog": args.backlog,
            "series": series,
            "goal": {"p95_ms_max": 50.0},
            "met_empty_queue": empty <= 50.0,
            "met_with_backlog":
                series[f"{args.backlog} waiting"]["rasa_reply_to_agent_socket_ms"]["p95"] <= 50.0,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
