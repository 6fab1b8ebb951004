"""`make run`: start the whole system, print where it is, stop it all on Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import ROOT, Ports, Stack  # noqa: E402


def main() -> int:
    ports = Ports(
        gateway=int(os.environ.get("BATON_PORT", 8000)),
        rasa=int(os.environ.get("RASA_PORT", 5005)),
        actions=int(os.environ.get("ACTIONS_PORT", 5055)),
    )
    var_dir = ROOT / "var"
    database_url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'baton.db'}"
    stack = Stack(ports=ports, var_dir=var_dir, database_url=database_url)
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print("Starting the action server, Rasa and the gateway (Rasa takes about a minute)...")
    try:
        var_dir.mkdir(parents=True, exist_ok=True)
        stack.migrate()
        print(stack.ensure_agent())
        stack.start_actions()
        stack.start_rasa()
        stack.start_gateway()
        stack.wait_ready()
        print(
            f"\nBaton is running.\n"
            f"  Demo page with the chat widget: http://localhost:{ports.gateway}/\n"
            f"  Agent console:                  http://localhost:{ports.gateway}/agent\n"
            f"  Logs: {var_dir / 'logs'}\n"
            "Press Ctrl-C to stop everything.",
            flush=True,
        )
        while not stopping:
            for name, process in list(stack.processes.items()):
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping.", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"Baton did not start: {exc}", file=sys.stderr)
        return 1
    finally:
        print("Stopping...", flush=True)
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
