"""A bot turn through the gateway vs the same turn sent straight to Rasa's channel.

Three paths run in one process against one real stack, interleaved turn by turn (the
order rotates so no path always goes first), with the same message texts: the gateway
as the widget uses it (a `message` frame on its socket, replies as events, then the
ack), the gateway over HTTP POST (the widget's fallback), and Rasa's channel direct.
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

from _common import (
    cpu_seconds, gateway_pid, print_table, running_stack, summary_ms, widget_socket,
    write_results,
)

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
        self.turns = 0

    async def new_conversation(self) -> None:
        async with self.http.post(f"{self.base_url}/api/conversations") as response:
            body = await response.json()
        self.url = f"{self.base_url}/api/conversations/{body['id']}/messages"
        self.headers = {"Authorization": f"Bearer {body['token']}"}

    async def turn(self, text: str) -> tuple[float, bool]:
        self.turns += 1
        start = time.perf_counter()
        async with self.http.post(self.url, json={"text": text}, headers=self.headers) as response:
            body = await response.json()
        elapsed = time.perf_counter() - start
        ok = response.status == 200 and body["status"] == "bot" and len(body["messages"]) > 1
        return elapsed, ok


class SocketPath(GatewayPath):
    """The turn as the widget sends it: a `message` frame on its socket; the bot's
    replies come back as `message` events, then the `ack` ends the turn."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        super().__init__(http, base_url)
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def new_conversation(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        async with self.http.post(f"{self.base_url}/api/conversations") as response:
            body = await response.json()
        self.ws = await widget_socket(self.http, self.base_url, body["id"], body["token"])
        # The opening status event; from then on the socket is quiet between turns.
        while (await self.ws.receive_json()).get("type") != "status":
            pass

    async def turn(self, text: str) -> tuple[float, bool]:
        assert self.ws is not None
        self.turns += 1
        client_id = secrets.token_hex(8)
        replies = 0
        start = time.perf_counter()
        await self.ws.send_json({"type": "message", "text": text, "client_message_id": client_id})
        while True:
            event = await self.ws.receive_json(timeout=30)
            if event.get("type") == "message" and event["message"]["sender"] == "bot":
                replies += 1
            elif event.get("type") in ("ack", "error") and event.get("client_message_id") == client_id:
                break
        elapsed = time.perf_counter() - start
        return elapsed, event["type"] == "ack" and event["status"] == "bot" and replies > 0


class RasaPath:
    def __init__(self, http: aiohttp.ClientSession, rasa_url: str, auth: dict[str, str]) -> None:
        self.http = http
        self.url = f"{rasa_url}/webhooks/baton/webhook"
        self.auth = auth  # the internal secret, as the gateway sends it
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
        async with self.http.post(self.url, json=payload, headers=self.auth) as response:
            body = await response.json()
        elapsed = time.perf_counter() - start
        ok = response.status == 200 and body.get("handoff") is None and bool(body["messages"])
        return elapsed, ok


async def measure(
    base_url: str, rasa_url: str, rasa_auth: dict[str, str], turns: int
) -> dict[str, object]:
    timings: dict[str, list[float]] = {"gateway": [], "socket": [], "rasa": []}
    failures = {"gateway": 0, "socket": 0, "rasa": 0}
    dropped: list[str] = []
    pairs: list[float] = []
    socket_pairs: list[float] = []
    async with aiohttp.ClientSession() as http:
        paths = {
            "gateway": GatewayPath(http, base_url),
            "socket": SocketPath(http, base_url),
            "rasa": RasaPath(http, rasa_url, rasa_auth),
        }
        orders = [
            ("gateway", "socket", "rasa"), ("rasa", "gateway", "socket"),
            ("socket", "rasa", "gateway"), ("rasa", "socket", "gateway"),
            ("gateway", "rasa", "socket"), ("socket", "gateway", "rasa"),
        ]
        for i in range(3 * (WARMUP + turns)):  # bounded, even if many turns are dropped
            if len(pairs) >= turns:
                break
            if i % TURNS_PER_CONVERSATION == 0:
                for path in paths.values():
                    await path.new_conversation()
            text = TEXTS[i % len(TEXTS)]
            order = orders[i % len(orders)]
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
            socket_pairs.append(result["socket"][0] - result["rasa"][0])
        assert isinstance(paths["socket"], SocketPath) and paths["socket"].ws is not None
        await paths["socket"].ws.close()
    return {"timings": timings, "failures": failures, "dropped": dropped,
            "pair_differences": pairs, "socket_pair_differences": socket_pairs,
            "gateway_turns": paths["gateway"].turns + paths["socket"].turns}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    # make run's own count (one a core, each with its share of the cores as threads); the
    # direct path goes to the first process, the gateway's conversations to either.
    parser.add_argument("--rasa-processes", type=int, default=1)
    args = parser.parse_args()

    with running_stack("overhead", rasa_processes=args.rasa_processes) as stack:
        stack.wait_ready(timeout=300)
        rasa_url = f"http://127.0.0.1:{stack.ports.rasa}"
        # The gateway's CPU time (all threads, user + system) per turn: what the gateway
        # itself costs, which the shared machine's noise moves far less than latencies.
        pid = gateway_pid(stack)
        cpu_before = cpu_seconds(pid)
        measured = asyncio.run(asyncio.wait_for(
            measure(stack.base_url, rasa_url, stack.internal_auth(), args.turns), 900))
        cpu_ms_per_turn = 1000 * (cpu_seconds(pid) - cpu_before) / measured["gateway_turns"]

    gateway = summary_ms(measured["timings"]["gateway"])
    socket = summary_ms(measured["timings"]["socket"])
    rasa = summary_ms(measured["timings"]["rasa"])
    pairs_ms = [d * 1000 for d in measured["pair_differences"]]
    socket_pairs_ms = [d * 1000 for d in measured["socket_pair_differences"]]
    overhead_ms = gateway["p50"] - rasa["p50"]
    overhead_pct = 100 * overhead_ms / rasa["p50"]
    socket_ms = socket["p50"] - rasa["p50"]
    socket_pct = 100 * socket_ms / rasa["p50"]
    print_table(
        f"Bot turn, {args.turns} turns each, interleaved (ms)",
        ["path", "n", "p50", "p95", "p99", "mean", "not a bot turn"],
        [
            ["gateway, widget socket", socket["n"], socket["p50"], socket["p95"], socket["p99"],
             socket["mean"], measured["failures"]["socket"]],
            ["gateway, HTTP POST", gateway["n"], gateway["p50"], gateway["p95"], gateway["p99"],
             gateway["mean"], measured["failures"]["gateway"]],
            ["rasa direct", rasa["n"], rasa["p50"], rasa["p95"], rasa["p99"], rasa["mean"],
             measured["failures"]["rasa"]],
        ],
    )
    print(
        f"\noverhead of the median, widget socket (the widget's path): {socket_ms:.2f} ms = "
        f"{socket_pct:.1f} % (goal <= 5 %); median of per-turn differences "
        f"{statistics.median(socket_pairs_ms):.2f} ms"
        f"\noverhead of the median, HTTP POST: {overhead_ms:.2f} ms = {overhead_pct:.1f} %; "
        f"median of per-turn differences: {statistics.median(pairs_ms):.2f} ms"
        f"\ngateway CPU per turn: {cpu_ms_per_turn:.2f} ms"
    )

    def spread(values: list[float]) -> dict[str, float]:
        ordered = sorted(values)
        return {"p50": statistics.median(values), "p05": ordered[len(ordered) // 20],
                "p95": ordered[len(ordered) * 19 // 20]}

    path = write_results(
        "gateway_overhead",
        {
            "turns": args.turns,
            "warmup_turns": WARMUP,
            "texts": TEXTS,
            "gateway_socket_ms": socket,
            "gateway_ms": gateway,
            "rasa_direct_ms": rasa,
            "not_a_bot_turn": measured["failures"],
            "dropped_pairs": measured["dropped"],
            "socket_overhead_of_median_ms": socket_ms,
            "socket_overhead_of_median_pct": socket_pct,
            "overhead_of_median_ms": overhead_ms,
            "overhead_of_median_pct": overhead_pct,
            "gateway_cpu_ms_per_turn": cpu_ms_per_turn,
            "socket_pair_difference_ms": spread(socket_pairs_ms),
            "pair_difference_ms": spread(pairs_ms),
            "goal": {"overhead_of_median_pct_max": 5.0},
            "met": socket_pct <= 5.0,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
