"""How long a full `rasa train` of Baton's model takes, with no cache (`make bench`).

Every run trains from scratch: a fresh Rasa cache directory (RASA_CACHE_DIRECTORY) and
`--force`, into a temporary output directory, so neither Rasa's component cache nor
scripts/train.py's model cache helps. The wall-clock seconds of each run, the machine
(cores, load average before the run) and the versions go to results/train_time.json and
into the "Training time" section of bench/README.md. Goal: <= 300 s on 2 cores.

    PYTHONPATH=. .venv/rasa/bin/python bench/train_time.py [--runs 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
RESULTS = ROOT / "results" / "train_time.json"
GOAL_SECONDS = 300.0
START, END = "<!-- train_time:start -->", "<!-- train_time:end -->"


def train_once() -> float:
    """Seconds for one `rasa train` from scratch."""
    with tempfile.TemporaryDirectory(prefix="baton-bench-") as scratch:
        env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", RASA_CACHE_DIRECTORY=str(Path(scratch) / "cache"))
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        command = [
            sys.executable, "-m", "rasa", "train", "--force",
            "--domain", "bot/domain", "--config", "config.yml", "--data", "data",
            "--out", str(Path(scratch) / "models"), "--fixed-model-name", "bench",
        ]
        started = time.monotonic()
        subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.monotonic() - started


def versions() -> Dict[str, str]:
    from importlib.metadata import version

    return {name: version(name) for name in ("rasa", "scikit-learn", "numpy", "tokenizers")}


def render(result: Dict[str, Any]) -> str:
    runs = ", ".join(f"{s:.0f} s" for s in result["seconds"])
    verdict = "meets" if result["median_seconds"] <= GOAL_SECONDS else "misses"
    return "\n".join(
        [
            START,
            f"Measured {result['date']} on {result['cores']} cores (load average before the first run "
            f"{result['load_average']:.1f}), Python {result['python']}, rasa {result['versions']['rasa']}:",
            "",
            "| what | seconds |",
            "|---|---|",
            f"| `rasa train` from scratch, median of {len(result['seconds'])} ({runs}) | **{result['median_seconds']:.0f}** |",
            "",
            f"This {verdict} the goal of {GOAL_SECONDS:.0f} s. Written by `bench/train_time.py`.",
            END,
        ]
    )


SECTION_HEAD = """## Training time (`bench/train_time.py`)

A full `rasa train` of the whole model (NLU pipeline of bot/nlu/ and the dialogue policies)
with Rasa's cache disabled. Rasa's default DIET pipeline needed about 14 minutes for the
CLINC travel data alone on this kind of machine; Baton's pipeline computes MiniLM sentence
vectors in numpy once per example and fits logistic regressions, so most of the time is
Rasa's own start-up (TensorFlow import, graph validation) and the encoder's pass over the
~2,300 training sentences.

"""


def update_readme(result: Dict[str, Any], path: Path = README) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = render(result)
    if START in text and END in text:
        text = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + SECTION_HEAD + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-readme", action="store_true", help="do not touch bench/README.md")
    args = parser.parse_args(argv)

    load = os.getloadavg()[0]
    seconds: List[float] = []
    for run in range(args.runs):
        seconds.append(train_once())
        print(f"run {run + 1}: {seconds[-1]:.1f} s", flush=True)
    result = {
        "date": dt.date.today().isoformat(),
        "cores": os.cpu_count(),
        "load_average": load,
        "python": platform.python_version(),
        "versions": versions(),
        "seconds": [round(s, 1) for s in seconds],
        "median_seconds": round(statistics.median(seconds), 1),
        "goal_seconds": GOAL_SECONDS,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    if not args.no_readme:
        update_readme(result)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
