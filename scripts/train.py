"""Trains the Rasa model once per set of inputs (stdlib only).

Run from the repository root with Rasa's interpreter:

    .venv/rasa/bin/python scripts/train.py

The model is cached under ${BATON_CACHE:-~/.cache/baton}/models/<sha256 of the inputs>.tar.gz
and placed at models/baton.tar.gz; an unchanged input set is never trained twice.
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
from typing import Iterable, List

ROOT = Path(__file__).resolve().parent.parent
MODEL_PATH = ROOT / "models" / "baton.tar.gz"
INPUT_FILES = ["config.yml"]
INPUT_DIRS = ["bot", "data"]
INPUT_GLOBS = ["requirements/rasa*.txt"]
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


def inputs_hash(files: Iterable[Path], root: Path = ROOT) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def cache_dir() -> Path:
    base = os.environ.get("BATON_CACHE") or str(Path.home() / ".cache" / "baton")
    return Path(base).expanduser() / "models"


def place(cached: Path, target: Path = MODEL_PATH) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    shutil.copyfile(cached, partial)
    partial.replace(target)


def train(cached: Path) -> float:
    """Runs ``rasa train`` into a temporary directory and stores the model at ``cached``."""
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="baton-train-") as out:
        subprocess.run(
            [
                sys.executable, "-m", "rasa", "train",
                "--domain", "bot/domain",
                "--config", "config.yml",
                "--data", "data",
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

    digest = inputs_hash(input_files())
    cached = cache_dir() / f"{digest}.tar.gz"
    if cached.is_file() and not args.force:
        place(cached)
        print(f"model: {MODEL_PATH.relative_to(ROOT)} (cached, inputs {digest[:12]})")
        return 0
    seconds = train(cached)
    place(cached)
    print(f"model: {MODEL_PATH.relative_to(ROOT)} (trained in {seconds:.0f} s, inputs {digest[:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
