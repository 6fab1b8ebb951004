"""What every gateway benchmark shares: the stack on free ports, statistics, results.

Each benchmark starts its own Baton (scripts/stack.py, the launcher `make run` uses) on
free loopback ports with its own var directory under /tmp, so it never touches the
developer's database or a running test session, and stops it at the end.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from stack import MODEL, Ports, Stack, consecutive_free_ports  # noqa: E402

RESULTS = ROOT / "results"
AGENT_PASSWORD = "bench-password-1"
NO_RATE_LIMITS = {"BATON_RATE_PER_ADDRESS": "0", "BATON_RATE_PER_CONVERSATION": "0"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def own_server(*argv: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """A server of the bench's own (the echo, the floor) in a process of its own: Python
    with `argv`, then a free loopback port; its base URL. Stopped on the way out."""
    port = free_port()
    server = subprocess.Popen([sys.executable, *argv, str(port)])
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


class BenchStack(Stack):
    """The real stack. Rasa keeps its trackers in this run's own Redis (under its var
    directory), so a benchmark writing thousands of turns disturbs no other run (tests,
    `make run`) and is disturbed by none."""


@contextmanager
def running_stack(
    name: str,
    *,
    rasa: bool = True,
    extra_env: dict[str, str] | None = None,
    agents: Sequence[str] = (),
    rasa_port: int | None = None,
    postgres: bool = False,
    rasa_processes: int = 1,
    gateways: int = 1,
) -> Iterator[BenchStack]:
    """Baton on free ports; `agents` are e-mails made into accounts with AGENT_PASSWORD.

    `rasa=False` starts only the gateway (its readiness then stays 503, so we wait for
    /healthz instead). `rasa_port` lets a caller put something of its own in front of
    Rasa: the gateway is then pointed at RASA_URL from `extra_env`. `postgres=True` puts
    the gateway's database on a throw-away PostgreSQL server (tests/pg_server.py, the one
    the test suite uses) instead of SQLite. `rasa_processes` Rasa processes share their
    trackers in the stack's Redis, as with `make run`. `gateways` gateway processes (on
    consecutive ports, stack.base_urls) share their events through the stack's Redis, as
    with `make run-cluster`; more than one needs `postgres=True`.
    """
    if rasa and not MODEL.exists():
        raise SystemExit(
            f"{MODEL} is missing: run `PYTHONPATH=. .venv/rasa/bin/python scripts/train.py`"
        )
    var_dir = Path(tempfile.mkdtemp(prefix=f"baton-bench-{name}-"))
    database_url = f"sqlite+aiosqlite:///{var_dir / 'baton.db'}"
    pg_server = None
    if postgres:
        sys.path.insert(0, str(ROOT / "tests"))
        from pg_server import start_postgres

        pg_server = start_postgres()
        database_url = pg_server.url("postgres")
    stack = BenchStack(
        ports=Ports(gateway=consecutive_free_ports(gateways, free_port), rasa=rasa_port or consecutive_free_ports(rasa_processes, free_port),
                    actions=free_port(), redis=free_port()),
        var_dir=var_dir,
        database_url=database_url,
        # All load comes from one loopback address: the per-address and per-conversation
        # rate limits (handoff/web/ratelimit.py) would measure the limiter, not the capacity.
        # Everything else, the access log included, is as `make run` has it.
        extra_env={**NO_RATE_LIMITS, **(extra_env or {})},
        rasa_processes=rasa_processes,
        gateways=gateways,
    )
    try:
        stack.migrate()
        for i, email in enumerate(agents):
            stack.ensure_agent(email, AGENT_PASSWORD, f"Agent{i}")
        if rasa:
            stack.start_redis()
            stack.start_actions()
            for index in range(rasa_processes):
                stack.start_rasa(index)
        for index in range(gateways):
            stack.start_gateway(index)
        yield stack
    finally:
        stack.stop()
        if pg_server is not None:
            pg_server.stop()
            shutil.rmtree(pg_server.data_dir.parent, ignore_errors=True)
        if os.environ.get("BENCH_KEEP") != "1":
            shutil.rmtree(var_dir, ignore_errors=True)
        else:
            print(f"kept {var_dir}")


async def wait_answering(http: Any, url: str, timeout: float = 10.0) -> None:
    """Until a server just started answers HTTP at `url`, whatever the status (`http`: an
    aiohttp.ClientSession)."""
    import asyncio
    import time

    import aiohttp

    deadline = time.monotonic() + timeout
    while True:
        try:
            async with http.get(url):
                return
        except aiohttp.ClientError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answers at {url}") from None
            await asyncio.sleep(0.05)


async def widget_socket(http: Any, base_url: str, conversation_id: str, token: str) -> Any:
    """A widget's socket opened as widget.js opens it: the token in the first frame, never
    in the URL (`http`: an aiohttp.ClientSession)."""
    ws = await http.ws_connect(f"{base_url}/api/conversations/{conversation_id}/ws")
    await ws.send_json({"type": "auth", "token": token})
    return ws


def wait_healthy(stack: Stack, timeout: float = 60.0) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        gateway = stack.processes.get("gateway")
        if gateway is not None and gateway.poll() is not None:
            raise RuntimeError(f"gateway exited; see {stack.var_dir / 'logs' / 'gateway.log'}")
        try:
            with urllib.request.urlopen(f"{stack.base_url}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("gateway not healthy")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "min": min(ms) if ms else float("nan"),
        "p50": statistics.median(ms) if ms else float("nan"),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else float("nan"),
        "mean": statistics.fmean(ms) if ms else float("nan"),
    }


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_pressure() -> str:
    """How often runnable tasks waited for a CPU lately (other work on the machine)."""
    try:
        return Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return ""


STARTED_WITH = {"loadavg": [round(x, 2) for x in os.getloadavg()], "cpu_pressure": cpu_pressure()}


def gateway_pid(stack: Stack) -> int:
    """The gateway's Python process (started directly, so it is the Popen's pid)."""
    return stack.processes["gateway"].pid


def gateway_pids(stack: Stack) -> dict[str, int]:
    """Every gateway's process by its name: gateway, gateway2..."""
    return {name: stack.processes[name].pid for name in stack.gateway_names}


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "loadavg_at_start": STARTED_WITH["loadavg"],
        "cpu_pressure_at_start": STARTED_WITH["cpu_pressure"],
        "loadavg_at_end": [round(x, 2) for x in load],
        "cpu_pressure_at_end": cpu_pressure(),
        "git_commit": _git_commit(),
    }


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def write_results(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{name}.json"
    data = {"benchmark": name, "machine": machine(), **data}
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.2f}"
        return str(value)

    table = [list(map(str, header))] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(table):
        print("  ".join(c.rjust(w) if j else c.ljust(w) for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
