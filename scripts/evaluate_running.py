"""`make evaluate-running`: scripts/evaluate.py --mode gateway against a Baton of its own.

Starts the whole system (action server, Rasa, gateway) on free loopback ports with its own
SQLite file, as the benchmarks do (bench/_common.py: rate limits off, since every tweet
comes from one address), waits until /readyz says Rasa is ready, then sends each tweet as
the first message of a new conversation through the gateway's HTTP API and reads the
handoff back through the agent API. Results go to results/evaluation.json, as `make
evaluate` writes them. About 6.5 minutes on 2 cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _common import AGENT_PASSWORD, running_stack, wait_healthy  # noqa: E402

AGENT = "evaluate@baton.example"


def wait_ready(url: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise SystemExit(f"{url}/readyz did not say ready within {timeout:.0f} s")


def main() -> int:
    with running_stack("evaluate", agents=[AGENT]) as stack:
        wait_healthy(stack, timeout=180)
        url = f"http://127.0.0.1:{stack.ports.gateway}"
        wait_ready(url)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "BATON_AGENT_EMAIL": AGENT,
               "BATON_AGENT_PASSWORD": AGENT_PASSWORD}
        return subprocess.call(
            [str(ROOT / ".venv" / "rasa" / "bin" / "python"), str(ROOT / "scripts" / "evaluate.py"),
             "--mode", "gateway", "--gateway-url", url, *sys.argv[1:]],
            env=env, cwd=ROOT,
        )


if __name__ == "__main__":
    sys.exit(main())
