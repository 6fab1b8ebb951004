"""Where a Rasa turn spends its time: py-spy samples the Rasa process while customers
keep it saturated through the gateway, and the samples are summed by function.

py-spy (requirements/rasa.txt) reads the process from outside, so Rasa runs as always.
Prints the functions holding the most samples, counted once per sample whatever their
depth (inclusive), and keeps the folded stacks for a flame graph in results/.
`--handoff`: each customer is new and says their flight was cancelled, so every turn
is a handoff turn (Rasa calls the action server, which is sampled too).

    .venv/gateway/bin/python bench/profile_rasa.py [--seconds 20] [--clients 12] [--handoff]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import RESULTS, ROOT, print_table, running_stack
from rasa_capacity import WARMUP, Load, _through_gateway, saturate
from surge import DISRUPTED

PY_SPY = ROOT / ".venv" / "rasa" / "bin" / "py-spy"
FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")


def _summed(folded: Path, top: int) -> tuple[int, list[tuple[str, int]]]:
    inclusive: Counter[str] = Counter()
    total = 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        # Frames are "function (file:line)"; each function counts once per sample.
        for frame in {FRAME.sub(r"\1 (\2)", frame) for frame in stack.split(";")}:
            inclusive[frame] += samples
    return total, inclusive.most_common(top)


async def _handoffs(http: Any, base_url: str, load: Load) -> None:
    """New customers one after another, each handed to people by their first message."""
    turn = 0
    while time.monotonic() < load.stop:
        async with http.post(f"{base_url}/api/conversations") as response:
            body = await response.json()
        text = DISRUPTED[turn % len(DISRUPTED)]
        turn += 1
        started = time.monotonic()
        async with http.post(f"{base_url}/api/conversations/{body['id']}/messages",
                             json={"text": text},
                             headers={"Authorization": f"Bearer {body['token']}"}) as response:
            answer = await response.json()
        load.record(started, response.status == 200 and answer.get("status") == "waiting")


def _spy(pid: int, seconds: float, output: Path) -> Any:
    return asyncio.create_subprocess_exec(
        str(PY_SPY), "record", "--pid", str(pid), "--duration", str(int(seconds)),
        "--rate", "100", "--format", "raw", "--output", str(output), "--nonblocking",
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--handoff", action="store_true",
                        help="handoff turns (disrupted customers), the action server sampled too")
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    kind = "handoff" if args.handoff else "rasa"
    sampled = ["rasa", "actions"] if args.handoff else ["rasa"]
    folded = {name: RESULTS / f"profile-{kind}-{name}.folded" for name in sampled}
    with running_stack("profile") as stack:
        stack.wait_ready(timeout=300)
        loop = _handoffs if args.handoff else _through_gateway

        async def profiled() -> None:
            turns = asyncio.ensure_future(
                saturate(args.clients, args.seconds, loop, stack.base_url))
            await asyncio.sleep(WARMUP)
            spies = [await _spy(stack.processes[name].pid, args.seconds, folded[name])
                     for name in sampled]
            result = await turns
            for spy in spies:
                await spy.wait()
            print(f"{result['turns_per_second']:.1f} turns/s while sampled "
                  f"({result['not_answered']} not as expected), "
                  f"p50 {result['latency_ms']['p50']:.0f} ms")

        started = time.monotonic()
        asyncio.run(profiled())
        print(f"sampled for {time.monotonic() - started - WARMUP:.0f} s")

    for name in sampled:
        total, top = _summed(folded[name], args.top)
        print_table(f"{name}'s samples by function, inclusive ({total} samples)",
                    ["function (file)", "% of samples"],
                    [[frame[-110:], 100 * count / total] for frame, count in top])
        print(f"\nfolded stacks: {folded[name]}")


if __name__ == "__main__":
    main()
