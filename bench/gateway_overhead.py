"""A bot turn through the gateway vs the same turn sent straight to Rasa's channel.

Both paths run in one process against one real stack, interleaved turn by turn (the
order alternates so neither path always goes first), with the same message texts.
Conversations are replaced every few turns on both sides alike, so Rasa's trackers stay
the same size on both paths. Goal: gateway overhead <= 5 % of Rasa's median.

    .venv/gateway/bin/python bench/gateway_overhead.py [--turns 200]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import time

import aiohttp

from _common import print_table, running_stack, summary_ms, write_results

# Questions the assistant answers itself (no handoff, no fallback), as a customer would ask.
# A turn that hands off anyway (the model changes as the assistant is trained) is dropped
# with its pair, and both sides start new conversations, so every kept pair is a bot turn.
TEXTS = [
    "hi",
    "how do i check in online",
    "how many bags can i check",
    "can i change the date of my flight",
    "i need to change my flight",
    "can i choose my seat",
    "whats my baggage allowance",
    "when does check in open",
    "how much is an extra bag",
    "can i check in now",
]
TURNS_PER_CONVERSATION = len(TEXTS)
WARMUP = 20


class GatewayPath:
    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.base_url = base_url
        self.url = ""
        self.headers: dict[str, str] = {}

    async def new_conversation(self) -> None:
        async with self.http.post(f"{self.base_url}/api/conversations") as response:
            body = await response.json()
        self.url = f"{self.base_url}/api/conversations/{body['id']}/messages"
        self.headers = {"Authorization": f"Bearer {body['token']}"}

    async def turn(self, text: str) -> tuple[float, bool]:
        start = time.perf_counter()
        async with self.http.post(self.url, json={"text": text}, headers=self.headers) as response:
            body = await response.json()
        elapsed = time.perf_counter() - start
        ok = response.status == 200 and body["status"] == "bot" and len(body["messages"]) > 1
        return elapsed, ok


class RasaPath:
    def __init__(self, http: aiohttp.ClientSession, rasa_url: str) -> None:
        self.http = http
        self.url = f"{rasa_url}/webhooks/baton/webhook"
        self.sender = ""

    async def new_conversation(self) -> None:
        self.sender = secrets.token_hex(16)

    async def turn(self, text: str) -> tuple[float, bool]:
        payload = {
            "sender": self.sender,
            "message": text,
            "message_id": secrets.token_hex(8),
            "mode": "bot",
            "metadata": {},
        }
        start = time.perf_counter()
        async with self.http.post(self.url, json=payload) as response:
            body = await response.json()
        elapsed = time.perf_counter() - start
        ok = response.status == 200 and body.get("handoff") is None and bool(body["messages"])
        return elapsed, ok


async def measure(base_url: str, rasa_url: str, turns: int) -> dict[str, object]:
    timings: dict[str, list[float]] = {"gateway": [], "rasa": []}
    failures = {"gateway": 0, "rasa": 0}
    dropped: list[str] = []
    pairs: list[float] = []
    async with aiohttp.ClientSession() as http:
        paths = {"gateway": GatewayPath(http, base_url), "rasa": RasaPath(http, rasa_url)}
        for i in range(3 * (WARMUP + turns)):  # bounded, even if many turns are dropped
            if len(pairs) >= turns:
                break
            if i % TURNS_PER_CONVERSATION == 0:
                for path in paths.values():
                    await path.new_conversation()
            text = TEXTS[i % len(TEXTS)]
            order = ("gateway", "rasa") if i % 2 == 0 else ("rasa", "gateway")
            result = {}
            for name in order:
                result[name] = await paths[name].turn(text)
            if not all(ok for _elapsed, ok in result.values()):
                for name, (_elapsed, ok) in result.items():
                    failures[name] += not ok
                dropped.append(text)
                for path in paths.values():
                    await path.new_conversation()
                continue
            if i < WARMUP:
                continue
            for name, (elapsed, _ok) in result.items():
                timings[name].append(elapsed)
            pairs.append(result["gateway"][0] - result["rasa"][0])
    return {"timings": timings, "failures": failures, "dropped": dropped,
            "pair_differences": pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    args = parser.parse_args()

    with running_stack("overhead") as stack:
        stack.wait_ready(timeout=300)
        rasa_url = f"http://127.0.0.1:{stack.ports.rasa}"
        measured = asyncio.run(asyncio.wait_for(measure(stack.base_url, rasa_url, args.turns), 900))

    gateway = summary_ms(measured["timings"]["gateway"])
    rasa = summary_ms(measured["timings"]["rasa"])
    pairs_ms = [d * 1000 for d in measured["pair_differences"]]
    overhead_ms = gateway["p50"] - rasa["p50"]
    overhead_pct = 100 * overhead_ms / rasa["p50"]
    print_table(
        f"Bot turn, {args.turns} turns each, interleaved (ms)",
        ["path", "n", "p50", "p95", "p99", "mean", "not a bot turn"],
        [
            ["gateway", gateway["n"], gateway["p50"], gateway["p95"], gateway["p99"],
             gateway["mean"], measured["failures"]["gateway"]],
            ["rasa direct", rasa["n"], rasa["p50"], rasa["p95"], rasa["p99"], rasa["mean"],
             measured["failures"]["rasa"]],
        ],
    )
    print(
        f"\noverhead of the median: {overhead_ms:.2f} ms = {overhead_pct:.1f} % (goal <= 5 %); "
        f"median of per-turn differences: {statistics.median(pairs_ms):.2f} ms"
    )
    path = write_results(
        "gateway_overhead",
        {
            "turns": args.turns,
            "warmup_turns": WARMUP,
            "texts": TEXTS,
            "gateway_ms": gateway,
            "rasa_direct_ms": rasa,
            "not_a_bot_turn": measured["failures"],
            "dropped_pairs": measured["dropped"],
            "overhead_of_median_ms": overhead_ms,
            "overhead_of_median_pct": overhead_pct,
            "pair_difference_ms": {
                "p50": statistics.median(pairs_ms),
                "p05": sorted(pairs_ms)[len(pairs_ms) // 20],
                "p95": sorted(pairs_ms)[len(pairs_ms) * 19 // 20],
            },
            "goal": {"overhead_of_median_pct_max": 5.0},
            "met": overhead_pct <= 5.0,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
