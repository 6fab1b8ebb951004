"""One client floods the gateway; how do the other customers fare? (issue 6, "Abuse")

20 calm customers, each from its own address (X-Forwarded-For, with the gateway told to
trust it as behind a proxy), read their conversation every 100 ms for a fixed time; once
alone, once while a single client floods from one address with 50 requests in flight,
as fast as the gateway answers. The rate limits are the defaults of `make run`. Loopback
only; bounded in time; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp

from _common import machine, print_table, running_stack, summary_ms, wait_healthy, write_results

CALM = 20
PERIOD = 0.1
LIMITS = {
    # make run's defaults, written out so the benchmark keeps measuring them.
    "BATON_RATE_PER_ADDRESS": "50", "BATON_BURST_PER_ADDRESS": "200",
    "BATON_RATE_PER_CONVERSATION": "3", "BATON_BURST_PER_CONVERSATION": "20",
    "BATON_TRUST_FORWARDED": "1",
}


async def conversation(http: aiohttp.ClientSession, base: str, address: str) -> tuple[str, dict[str, str]]:
    headers = {"X-Forwarded-For": address}
    async with http.post(f"{base}/api/conversations", headers=headers) as response:
        body = await response.json()
    return body["id"], {**headers, "Authorization": f"Bearer {body['token']}"}


async def calm_client(http: aiohttp.ClientSession, base: str, cid: str, headers: dict[str, str],
                      seconds: float, latencies: list[float], statuses: dict[int, int]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        async with http.get(f"{base}/api/conversations/{cid}/messages", headers=headers) as response:
            await response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(max(0.0, PERIOD - (time.perf_counter() - started)))


async def flooder(http: aiohttp.ClientSession, base: str, seconds: float, counts: dict[str, int]) -> None:
    cid, headers = await conversation(http, base, "203.0.113.66")
    end = time.monotonic() + seconds

    async def worker(index: int) -> None:
        n = 0
        while time.monotonic() < end:
            n += 1
            if index % 2:
                request = http.post(f"{base}/api/conversations/{cid}/messages",
                                    json={"text": f"spam {index} {n}"}, headers=headers)
            else:
                request = http.get(f"{base}/api/conversations/{cid}/messages", headers=headers)
            async with request as response:
                await response.read()
                key = str(response.status)
                counts[key] = counts.get(key, 0) + 1

    await asyncio.gather(*(worker(i) for i in range(50)))


async def phase(base: str, seconds: float, flood: bool) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        calm = [await conversation(http, base, f"198.51.100.{i + 1}") for i in range(CALM)]
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        flood_counts: dict[str, int] = {}
        tasks = [calm_client(http, base, cid, h, seconds, latencies, statuses) for cid, h in calm]
        if flood:
            tasks.append(flooder(http, base, seconds, flood_counts))
        await asyncio.gather(*tasks)
    return {"calm_ms": summary_ms(latencies), "calm_statuses": statuses,
            "flood_statuses": flood_counts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with running_stack("flood", rasa=False, extra_env=LIMITS) as stack:
        wait_healthy(stack)
        alone = asyncio.run(phase(stack.base_url, args.seconds, flood=False))
        flooded = asyncio.run(phase(stack.base_url, args.seconds, flood=True))
    rows = [
        [label, r["calm_ms"]["n"], f"{r['calm_ms']['p50']:.1f}", f"{r['calm_ms']['p95']:.1f}",
         f"{r['calm_ms']['p99']:.1f}", r["calm_statuses"], r["flood_statuses"]]
        for label, r in (("alone", alone), ("during a flood", flooded))
    ]
    print_table(f"{CALM} calm customers, one read every {PERIOD * 1000:.0f} ms each (ms)",
                ["phase", "n", "p50", "p95", "p99", "calm answers", "flooder's answers"], rows)
    write_results("flood", {"machine": machine(), "seconds": args.seconds, "calm_clients": CALM,
                            "limits": LIMITS, "alone": alone, "during_flood": flooded})


if __name__ == "__main__":
    main()
