"""Trains the Rasa model once per set of inputs (stdlib only).

Run from the repository root with Rasa's interpreter:

    .venv/rasa/bin/python scripts/train.py

The model is cached under ${BATON_CACHE:-~/.cache/baton}/models/<sha256 of the inputs>.tar.gz
and placed at models/baton.tar.gz; an unchanged input set is never trained twice. The
inputs are config.yml, bot/, data/, Rasa's requirements and, when supervisors assigned
unanswered questions to intents, var/learned_nlu.yml (BATON_LEARNED_NLU).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterable, List, Mapping

ROOT = Path(__file__).resolve().parent.parent
MODEL_PATH = ROOT / "models" / "baton.tar.gz"
INPUT_FILES = ["config.yml"]
INPUT_DIRS = ["bot", "data"]
INPUT_GLOBS = ["requirements/rasa*.txt"]
LEARNED_NAME = "learned_nlu.yml"
SKIPPED_SUFFIXES = {".pyc"}
SKIPPED_DIRS = {"__pycache__"}


def input_files(root: Path = ROOT) -> List[Path]:
    """Every file whose content changes the trained model, in a stable order."""
    files = [root / name for name in INPUT_FILES if (root / name).is_file()]
    for directory in INPUT_DIRS:
        for path in (root / directory).rglob("*"):
            if (
                path.is_file()
                and path.suffix not in SKIPPED_SUFFIXES
                and not SKIPPED_DIRS.intersection(path.relative_to(root).parts)
            ):
                files.append(path)
    for pattern in INPUT_GLOBS:
        files.extend(root.glob(pattern))
    return sorted(set(files))


def learned_file(env: Mapping[str, str] = os.environ) -> Path | None:
    """What supervisors taught from the insights (handoff/insights/learning.py writes it),
    when there is any: BATON_LEARNED_NLU, or learned_nlu.yml in BATON_VAR_DIR (var/)."""
    given = env.get("BATON_LEARNED_NLU")
    path = Path(given) if given else Path(env.get("BATON_VAR_DIR") or ROOT / "var") / LEARNED_NAME
    return path if path.is_file() and path.stat().st_size > 0 else None


def inputs_hash(files: Iterable[Path], root: Path = ROOT, learned: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    if learned is not None:
        # Under one name wherever it is: the same teaching trains the same model.
        digest.update(LEARNED_NAME.encode() + b"\0" + learned.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_dir() -> Path:
    base = os.environ.get("BATON_CACHE") or str(Path.home() / ".cache" / "baton")
    return Path(base).expanduser() / "models"


def place(cached: Path, target: Path = MODEL_PATH) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    shutil.copyfile(cached, partial)
    partial.replace(target)


def train(cached: Path, learned: Path | None = None) -> float:
    """Runs ``rasa train`` (on data/ and the learned examples) into a temporary directory
    and stores the model at ``cached``."""
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="baton-train-") as out:
        subprocess.run(
            [
                sys.executable, "-m", "rasa", "train",
                "--domain", "bot/domain",
                "--config", "config.yml",
                "--data", "data", *([str(learned)] if learned is not None else []),
                "--out", out,
                "--fixed-model-name", "baton",
            ],
            cwd=ROOT,
            env=env,
            check=True,
        )
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_suffix(".partial")
        shutil.copyfile(Path(out) / "baton.tar.gz", partial)
        partial.replace(cached)
    return time.monotonic() - started


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even when cached")
    args = parser.parse_args(argv)

    learned = learned_file()
    digest = inputs_hash(input_files(), learned=learned)
    cached = cache_dir() / f"{digest}.tar.gz"
    taught = f", with {learned}" if learned is not None else ""
    if cached.is_file() and not args.force:
        place(cached)
        print(f"model: {MODEL_PATH.relative_to(ROOT)} (cached, inputs {digest[:12]}{taught})")
        return 0
    seconds = train(cached, learned)
    place(cached)
    print(f"model: {MODEL_PATH.relative_to(ROOT)} (trained in {seconds:.0f} s, inputs "
          f"{digest[:12]}{taught})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
