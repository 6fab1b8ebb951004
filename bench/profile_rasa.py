"""Where a Rasa turn spends its time: py-spy samples the Rasa process while customers
keep it saturated through the gateway, and the samples are summed by function.

py-spy (requirements/rasa.txt) reads the process from outside, so Rasa runs as always.
Prints the functions holding the most samples, counted once per sample whatever their
depth (inclusive), and keeps the folded stacks for a flame graph in results/.

    .venv/gateway/bin/python bench/profile_rasa.py [--seconds 20] [--clients 12]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from _common import RESULTS, ROOT, print_table, running_stack
from rasa_capacity import WARMUP, _through_gateway, saturate

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    RESULTS.mkdir(parents=True, exist_ok=True)
    folded = RESULTS / "profile-rasa.folded"
    with running_stack("profile") as stack:
        stack.wait_ready(timeout=300)
        pid = stack.processes["rasa"].pid

        async def profiled() -> None:
            turns = asyncio.ensure_future(
                saturate(args.clients, args.seconds, _through_gateway, stack.base_url))
            await asyncio.sleep(WARMUP)
            spy = await asyncio.create_subprocess_exec(
                str(PY_SPY), "record", "--pid", str(pid), "--duration", str(int(args.seconds)),
                "--rate", "100", "--format", "raw", "--output", str(folded), "--nonblocking",
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            result = await turns
            await spy.wait()
            print(f"{result['turns_per_second']:.1f} turns/s while sampled, "
                  f"p50 {result['latency_ms']['p50']:.0f} ms")

        started = time.monotonic()
        asyncio.run(profiled())
        print(f"sampled for {time.monotonic() - started - WARMUP:.0f} s")

    total, top = _summed(folded, args.top)
    print_table(f"Rasa's samples by function, inclusive ({total} samples)",
                ["function (file)", "% of samples"],
                [[frame[-110:], 100 * count / total] for frame, count in top])
    print(f"\nfolded stacks: {folded}")


if __name__ == "__main__":
    main()
