"""`make run`: start the whole system, keep it running, stop it all on Ctrl-C.

A process that crashes is restarted with backoff (scripts/supervise.py) while the others
keep serving; every exit and restart is logged here and in var/logs/launcher.log.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import ROOT, Ports, Stack  # noqa: E402
from supervise import Supervisor  # noqa: E402

# Rasa loads its model in 60-90 s on 2 quiet cores; much longer when they are busy.
STARTUP_TIMEOUT = 300.0
# Rasa processes by default: one a core, each with one encoder thread a core it has
# (scripts/stack.py), at about 0.7 GB each (README, "Several Rasa processes").
RASA_PROCESSES = max(1, min(os.cpu_count() or 1, 4))


def launcher_log(var_dir: Path) -> logging.Logger:
    """The launcher's own lines, on its output and in <var>/logs/launcher.log."""
    log = logging.getLogger("launcher")
    log.setLevel(logging.INFO)
    log.propagate = False
    (var_dir / "logs").mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter("%(asctime)s launcher: %(message)s")
    for handler in (
        logging.StreamHandler(sys.stdout),
        logging.FileHandler(var_dir / "logs" / "launcher.log"),
    ):
        handler.setFormatter(formatter)
        log.addHandler(handler)
    return log


def main() -> int:
    # make run-cluster: PostgreSQL, and gateways on BATON_PORT, BATON_PORT+1... sharing Redis.
    cluster = "--cluster" in sys.argv[1:]
    ports = Ports(
        gateway=int(os.environ.get("BATON_PORT", 8000)),
        rasa=int(os.environ.get("RASA_PORT", 5005)),
        actions=int(os.environ.get("ACTIONS_PORT", 5055)),
        redis=int(os.environ.get("REDIS_PORT", 6380)),
        postgres=int(os.environ.get("PG_PORT", 5433)),
    )
    processes = int(os.environ.get("BATON_RASA_PROCESSES") or RASA_PROCESSES)
    gateways = int(os.environ.get("BATON_GATEWAYS") or (2 if cluster else 1))
    var_dir = Path(os.environ.get("BATON_VAR_DIR") or ROOT / "var").resolve()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'baton.db'}"
    stack = Stack(ports=ports, var_dir=var_dir, database_url=database_url,
                  rasa_processes=processes, gateways=gateways,
                  with_postgres=cluster and not os.environ.get("DATABASE_URL"))
    log = launcher_log(var_dir)
    supervisor = Supervisor(stack, log)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        if not stopping:
            log.info("%s received: stopping everything", signal.Signals(signum).name)
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"Starting {'PostgreSQL, ' if stack.with_postgres else ''}Redis, the action server, "
          f"{processes} Rasa process{'es' if processes > 1 else ''} and "
          f"{f'{gateways} gateways' if gateways > 1 else 'the gateway'} "
          "(Rasa takes about a minute)...")
    try:
        stack.prepare_database()
        stack.migrate()
        print(stack.ensure_agent())
        if stopping:
            return 0
        supervisor.start_all()
        if not supervisor.wait_ready(STARTUP_TIMEOUT, lambda: stopping):
            return 0
        print(
            f"\nBaton is running.\n"
            f"  Demo page with the chat widget: http://localhost:{ports.gateway}/\n"
            f"  Agent console:                  http://localhost:{ports.gateway}/agent\n"
            + "".join(f"  Also the gateway on:            http://localhost:{port}/\n"
                      for port in stack.gateway_ports[1:])
            + f"  Logs: {var_dir / 'logs'}\n"
            "A process that crashes is restarted. Press Ctrl-C to stop everything.",
            flush=True,
        )
        while not stopping:
            supervisor.check()
            time.sleep(0.5)
        return 0
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        if stopping:
            return 0
        print(f"Baton did not start: {exc}", file=sys.stderr)
        return 1
    finally:
        print("Stopping...", flush=True)
        stack.stop()
        log.info("stopped")


if __name__ == "__main__":
    sys.exit(main())
