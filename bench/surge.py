"""A surge of new customers at a steady rate: does the bot still answer, and do the
disrupted reach people? (issue 17)

New customers arrive at a fixed rate (an open loop: one starts every 1/rate s, whatever
the others are doing), each creating a conversation and sending one message through the
customer API, as the widget's HTTP fallback does. How-to customers ask what the bot
answers itself; disrupted customers say their flight was cancelled, delayed or missed.
For each step the table gives how many were answered by the bot, how many were handed
off and why (read back from the agents' queue), and the latency of the message's POST.
The stack is `make run`'s: its default count of Rasa processes, or `--rasa-processes`.
Between steps the stack is left to drain (no turn waiting or in flight for Rasa).

    .venv/gateway/bin/python bench/surge.py [--howto 20,40] [--disrupted 10,20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from _common import (
    AGENT_PASSWORD, machine, print_table, running_stack, summary_ms, write_results,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from run_all import RASA_PROCESSES  # noqa: E402

AGENT = "surge@bench.example"
HOWTO = (
    "how do I check in online", "what is the baggage allowance", "how do I choose a seat",
    "can I change my booking", "do I need a visa for the US", "how much hand luggage can I take",
)
DISRUPTED = (
    "my flight BA117 was cancelled, what do I do now",
    "flight LH902 is delayed by 5 hours and I will miss my meeting",
    "I missed my connection in Frankfurt because the first flight was late",
    "our flight AF1234 got cancelled this morning, we are stuck at the airport",
    "the flight is delayed again, BA2490, nobody tells us anything",
)


async def customer(http: aiohttp.ClientSession, base: str, text: str) -> dict[str, Any]:
    async with http.post(f"{base}/api/conversations") as created:
        if created.status != 201:
            return {"id": None, "status": f"create {created.status}", "seconds": None}
        conversation = await created.json()
    started = time.monotonic()
    async with http.post(
        f"{base}/api/conversations/{conversation['id']}/messages", json={"text": text},
        headers={"Authorization": f"Bearer {conversation['token']}"},
    ) as answer:
        seconds = time.monotonic() - started
        if answer.status != 200:
            return {"id": conversation["id"], "status": f"http {answer.status}",
                    "seconds": seconds}
        turn = await answer.json()
    return {"id": conversation["id"], "status": turn["status"], "seconds": seconds}


async def arrivals(base: str, rate: float, seconds: float, texts: tuple[str, ...]
                   ) -> tuple[list[dict[str, Any]], float]:
    """One new customer every 1/rate s for `seconds`; their outcomes, and the wall time."""
    total = round(rate * seconds)
    timeout = aiohttp.ClientTimeout(total=180)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for i in range(total):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(customer(http, base, texts[i % len(texts)])))
        results = await asyncio.gather(*tasks)
        return list(results), loop.time() - start


async def reasons(base: str, ids: set[str]) -> Counter[str]:
    """Why each of these conversations was handed off, from the agents' queue."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/api/agent/login",
                             json={"email": AGENT, "password": AGENT_PASSWORD}) as login:
            token = (await login.json())["token"]
        async with http.get(f"{base}/api/agent/queue",
                            headers={"Authorization": f"Bearer {token}"}) as queue:
            entries = (await queue.json())["conversations"]
    found: Counter[str] = Counter()
    for entry in entries:
        if entry["id"] in ids and entry["handoff"] is not None:
            handoff = entry["handoff"]
            found[handoff["reason"] + (f" ({handoff['disruption']})"
                                       if handoff["disruption"] else "")] += 1
    return found


async def drained(base: str, timeout: float = 120) -> None:
    """Until no turn waits for Rasa or is in flight (read from /metrics)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            async with http.get(f"{base}/metrics") as answer:
                text = await answer.text()
            values = {line.split(" ")[0]: float(line.split(" ")[1])
                      for line in text.splitlines() if line and not line.startswith("#")}
            if values.get("baton_rasa_waiting", 0) == 0 and values.get(
                    "baton_rasa_in_flight", 0) == 0:
                return
            await asyncio.sleep(0.5)
    raise RuntimeError("Rasa's queue did not drain")


def step(base: str, kind: str, rate: float, seconds: float) -> dict[str, Any]:
    texts = HOWTO if kind == "how-to" else DISRUPTED
    results, wall = asyncio.run(arrivals(base, rate, seconds, texts))
    ids = {r["id"] for r in results if r["id"] is not None}
    why = asyncio.run(reasons(base, ids))
    statuses = Counter(r["status"] for r in results)
    latencies = [r["seconds"] for r in results if r["seconds"] is not None]
    asyncio.run(drained(base))
    return {
        "kind": kind, "rate": rate, "seconds": seconds, "customers": len(results),
        "wall_seconds": round(wall, 2), "statuses": dict(statuses),
        "by_bot": statuses.get("bot", 0), "handoffs": dict(why),
        "latency_ms": summary_ms(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--howto", default="20,40", help="arrival rates (a second)")
    parser.add_argument("--howto-seconds", type=float, default=15)
    parser.add_argument("--disrupted", default="10,20", help="arrival rates (a second)")
    parser.add_argument("--disrupted-seconds", type=float, default=10)
    parser.add_argument("--rasa-processes", type=int, default=RASA_PROCESSES)
    args = parser.parse_args()
    plan = [("how-to", float(r), args.howto_seconds) for r in args.howto.split(",") if r]
    plan += [("disrupted", float(r), args.disrupted_seconds)
             for r in args.disrupted.split(",") if r]
    steps = []
    with running_stack("surge", agents=[AGENT], rasa_processes=args.rasa_processes) as stack:
        stack.wait_ready()
        # One turn each first: the model's first turns are slower than the rest.
        asyncio.run(arrivals(stack.base_url, 5, 1, HOWTO))
        asyncio.run(drained(stack.base_url))
        for kind, rate, seconds in plan:
            steps.append(step(stack.base_url, kind, rate, seconds))
            print(f"{kind} {rate:g}/s: {steps[-1]['by_bot']} by the bot, "
                  f"{steps[-1]['handoffs']}, {steps[-1]['latency_ms']}", flush=True)
    rows = [
        (s["kind"], f"{s['rate']:g}/s for {s['seconds']:g} s", s["customers"], s["by_bot"],
         ", ".join(f"{k} {v}" for k, v in sorted(s["handoffs"].items())) or "-",
         f"{s['latency_ms']['p50'] / 1000:.2f} / {s['latency_ms']['p95'] / 1000:.2f} s")
        for s in steps
    ]
    print_table(f"Surge, {args.rasa_processes} Rasa process(es)",
                ("customers", "arrivals", "sent", "answered by the bot", "handed off",
                 "latency p50 / p95"), rows)
    write_results("surge", {"machine": machine(), "rasa_processes": args.rasa_processes,
                            "steps": steps})


if __name__ == "__main__":
    main()
