"""Issue 16's guards, measured on two trees in one sitting, each benchmark alternating.

    .venv/gateway/bin/python bench/guards.py --before REV [--after PATH] [--only relay,idle]

`--before` is a git revision; it is checked out into a worktree under /tmp that shares this
checkout's `.venv` and `models`. `--after` defaults to this checkout. Every guard runs its
benchmark on one tree and then at once on the other, so both see the same machine. The
table goes to stdout, to results/bench-guards.json and between the guards markers of
bench/README.md (`--no-readme` leaves that alone).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
START, END = "<!-- guards:start -->", "<!-- guards:end -->"


@dataclass(frozen=True)
class Guard:
    name: str
    goal: str
    script: list[str]
    result: str  # the benchmark's results/bench-<result>.json
    read: Callable[[dict[str, Any]], tuple[str, bool]]  # the figure shown, and whether it holds


def _overhead(data: dict[str, Any]) -> tuple[str, bool]:
    pct = data["socket_overhead_of_median_pct"]
    ms = data["socket_overhead_of_median_ms"]
    return (f"{pct:.1f} % (+{ms:.2f} ms on a {data['rasa_direct_ms']['p50']:.1f} ms turn)",
            pct <= 5.0)


def _notify(data: dict[str, Any]) -> tuple[str, bool]:
    parts = []
    held = True
    for name, series in data["series"].items():
        p95 = series["rasa_reply_to_agent_socket_ms"]["p95"]
        parts.append(f"{name}: p95 {p95:.1f} ms")
        held = held and p95 <= 50.0
    return "; ".join(parts), held


def _relay(data: dict[str, Any]) -> tuple[str, bool]:
    steps = [s for s in data["gateway"]["as_is"]["paced"] if s["offered_per_s"] == 2000]
    if not steps:
        return "no 2,000/s step", False
    step = steps[0]
    kept = step["lost_or_late"] == 0 and step["msg_per_s"] >= 0.9 * 2000
    return (f"{step['msg_per_s']:.0f} msg/s, p50 {step['p50_ms']:.1f} / p99 "
            f"{step['p99_ms']:.1f} ms, {step['lost_or_late']} lost or late",
            kept and step["p99_ms"] <= 50.0)


def _idle(data: dict[str, Any]) -> tuple[str, bool]:
    peak_mib = data["rss_kib"]["peak"] / 1024 if "rss_kib" in data else float("nan")
    per = data["per_connection_bytes"] / 1024
    return (f"peak {peak_mib:.0f} MiB, {per:.1f} KiB a socket, "
            f"{data['still_open_after_idle']} still open", bool(data["met"]))


def _load(data: dict[str, Any]) -> tuple[str, bool]:
    lost = data["stored_missing"] + data["not_delivered"]
    doubled = data["stored_duplicates"] + data["delivered_duplicates"]
    p99 = data["latency_ms"]["customer_to_agent_console"]["p99"]
    return (f"{data['messages_sent']} sent, {lost} lost, {doubled} doubled, order kept in "
            f"{data['conversations_in_sent_order']}/{data['customers']}, p99 {p99:.1f} ms",
            lost == 0 and doubled == 0 and data["messages_sent"] == 100_000)


GUARDS = [
    Guard("overhead", "bot-turn overhead on the widget's socket <= 5 %",
          ["bench/gateway_overhead.py", "--turns", "200"], "gateway_overhead", _overhead),
    Guard("notify", "handoff notification p95 <= 50 ms",
          ["bench/handoff_notify.py"], "handoff_notify", _notify),
    Guard("relay", "relay paced at 2,000 msg/s, p99 <= 50 ms",
          ["bench/relay.py", "--series", "as_is", "--rates", "2000", "--skip-echo",
           "--skip-floor"], "relay", _relay),
    Guard("idle", "10,000 idle sockets < 1 GB",
          ["bench/idle_connections.py"], "idle_connections", _idle),
    Guard("load", "100,000-message load, 0 lost",
          ["bench/load.py"], "load", _load),
]


def before_tree(rev: str) -> Path:
    commit = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout.strip()
    tree = Path("/tmp") / f"baton-guards-{commit}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT,
                       check=True)
    for shared in (".venv", "models"):
        link = tree / shared
        if not link.exists():
            link.symlink_to(ROOT / shared)
    return tree


def run(guard: Guard, tree: Path) -> dict[str, Any]:
    result = tree / "results" / f"bench-{guard.result}.json"
    result.unlink(missing_ok=True)
    print(f"--- {guard.name} on {tree}", flush=True)
    subprocess.run([str(tree / ".venv/gateway/bin/python"), *guard.script], cwd=tree,
                   check=True)
    return json.loads(result.read_text())


def commit_of(tree: Path) -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=tree,
                          capture_output=True, text=True).stdout.strip()


def update_readme(lines: list[str]) -> None:
    text = README.read_text()
    block = "\n".join([START, *lines, END])
    if START in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision of the tree before")
    parser.add_argument("--after", type=Path, default=ROOT)
    parser.add_argument("--only", help="comma-separated guard names: "
                        + ",".join(g.name for g in GUARDS))
    parser.add_argument("--no-readme", action="store_true")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else {g.name for g in GUARDS}
    trees = {"before": before_tree(args.before), "after": args.after.resolve()}
    commits = {side: commit_of(tree) for side, tree in trees.items()}
    started = dt.datetime.now(dt.timezone.utc)
    rows: list[dict[str, Any]] = []
    for guard in GUARDS:
        if guard.name not in wanted:
            continue
        row: dict[str, Any] = {"guard": guard.name, "goal": guard.goal}
        for side, tree in trees.items():
            shown, held = guard.read(run(guard, tree))
            row[side] = {"measured": shown, "met": held}
        rows.append(row)
    load = Path("/proc/loadavg").read_text().split()[:3]
    lines = [
        f"Measured {started:%Y-%m-%d %H:%M} UTC by `bench/guards.py`, before = {commits['before']}, "
        f"after = {commits['after']}, each benchmark on one tree and then the other "
        f"(load average at the end {' '.join(load)}):",
        "",
        "| guard | before | after |",
        "|---|---|---|",
    ]
    for row in rows:
        cells = [f"{row[s]['measured']} ({'met' if row[s]['met'] else 'MISSED'})"
                 for s in ("before", "after")]
        lines.append(f"| {row['goal']} | {cells[0]} | {cells[1]} |")
    print("\n".join(lines))
    out = ROOT / "results" / "bench-guards.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"started": started.isoformat(), "commits": commits,
                               "rows": rows}, indent=2) + "\n")
    if not args.no_readme:
        update_readme(lines)
    sys.exit(0 if all(r["after"]["met"] for r in rows) else 1)


if __name__ == "__main__":
    main()
