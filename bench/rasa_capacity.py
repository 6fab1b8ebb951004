"""Bot turns a second at saturation: Rasa alone, then the gateway with one and with two
Rasa processes, in one run on this machine.

Each configuration has a stack of its own (running_stack: Redis, the action server, the
Rasa processes, the gateway) and the same load: CLIENTS customers at once, each in a
closed loop (a new conversation every ten turns, how-to questions the bot answers
itself), for WARMUP seconds not counted and then `--seconds` counted. "Rasa alone" sends
the same turns straight to its channel's webhook (the same model, one process, no
gateway); the other two go through the customer API as the widget's HTTP fallback does.
A turn that is not a bot answer (a handoff, `bot_unavailable`) is counted apart.

    .venv/gateway/bin/python bench/rasa_capacity.py [--seconds 20] [--clients 12]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from typing import Any

import aiohttp

from _common import print_table, running_stack, summary_ms, write_results
from gateway_overhead import TEXTS

WARMUP = 5.0
TURNS_PER_CONVERSATION = 10


class Load:
    """Closed-loop customers until `stop`; turns ended after `count_from` are counted."""

    def __init__(self, count_from: float, stop: float) -> None:
        self.count_from = count_from
        self.stop = stop
        self.latencies: list[float] = []
        self.not_answered = 0

    def record(self, started: float, ok: bool) -> None:
        ended = time.monotonic()
        if self.count_from <= ended <= self.stop:
            if ok:
                self.latencies.append(ended - started)
            else:
                self.not_answered += 1


async def _through_gateway(http: aiohttp.ClientSession, base_url: str, load: Load) -> None:
    while time.monotonic() < load.stop:
        async with http.post(f"{base_url}/api/conversations") as response:
            body = await response.json()
        url = f"{base_url}/api/conversations/{body['id']}/messages"
        headers = {"Authorization": f"Bearer {body['token']}"}
        for text in TEXTS[:TURNS_PER_CONVERSATION]:
            if time.monotonic() >= load.stop:
                return
            started = time.monotonic()
            async with http.post(url, json={"text": text}, headers=headers) as response:
                answer = await response.json()
            ok = response.status == 200 and answer.get("status") == "bot"
            load.record(started, ok)
            if not ok:
                break  # handed to people: later turns would not be the bot's


async def _straight_to_rasa(http: aiohttp.ClientSession, rasa_url: str,
                            auth: dict[str, str], load: Load) -> None:
    while time.monotonic() < load.stop:
        sender = secrets.token_hex(16)
        for text in TEXTS[:TURNS_PER_CONVERSATION]:
            if time.monotonic() >= load.stop:
                return
            # As the gateway sends a turn that did not wait: no metadata.
            payload = {"sender": sender, "message": text, "message_id": secrets.token_hex(8),
                       "mode": "bot"}
            started = time.monotonic()
            async with http.post(f"{rasa_url}/webhooks/baton/webhook", json=payload,
                                 headers=auth) as response:
                answer = await response.json()
            ok = response.status == 200 and answer.get("handoff") is None and bool(
                answer.get("messages"))
            load.record(started, ok)
            if not ok:
                break


async def saturate(clients: int, seconds: float, turn_loop: Any, *args: Any) -> dict[str, Any]:
    now = time.monotonic()
    load = Load(now + WARMUP, now + WARMUP + seconds)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=clients * 2)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        await asyncio.gather(*(turn_loop(http, *args, load) for _ in range(clients)))
    return {
        "turns_per_second": len(load.latencies) / seconds,
        "answered": len(load.latencies),
        "not_answered": load.not_answered,
        "latency_ms": summary_ms(load.latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=12)
    args = parser.parse_args()

    results: dict[str, dict[str, Any]] = {}
    with running_stack("capacity-rasa") as stack:
        stack.wait_ready(timeout=300)
        rasa_url = f"http://127.0.0.1:{stack.ports.rasa}"
        results["Rasa alone (its channel, 1 process)"] = asyncio.run(saturate(
            args.clients, args.seconds, _straight_to_rasa, rasa_url, stack.internal_auth()))
    for processes in (1, 2):
        with running_stack(f"capacity-{processes}", rasa_processes=processes) as stack:
            stack.wait_ready(timeout=300)
            results[f"gateway, {processes} Rasa process{'es' if processes > 1 else ''}"] = (
                asyncio.run(saturate(args.clients, args.seconds, _through_gateway,
                                     stack.base_url)))

    print_table(
        f"Bot turns at saturation ({args.clients} customers at once, {args.seconds:g} s)",
        ["path", "turns/s", "answered", "not answered", "p50 ms", "p95 ms"],
        [[name, r["turns_per_second"], r["answered"], r["not_answered"],
          r["latency_ms"]["p50"], r["latency_ms"]["p95"]] for name, r in results.items()],
    )
    path = write_results("rasa_capacity", {"clients": args.clients, "seconds": args.seconds,
                                           "results": results})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
