"""The running system for end-to-end and browser tests: real Redis, Rasa, action server,
gateway.

Started once per test session with the same launcher as `make run`, on free ports, with
its own SQLite files, and stopped at the end.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from stack import Ports, Stack, consecutive_free_ports  # noqa: E402

from .pg_server import free_port  # noqa: E402

E2E_AGENT_EMAIL = "maya@baton.example"
E2E_AGENT_PASSWORD = "e2e-password-1"
E2E_AGENT_NAME = "Maya"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The team works only in three days (UTC), so a customer who finds nobody online during the
# run is told when the team is back ("on Friday"); an agent online answers all the same. Three,
# not two: a run that crosses midnight would otherwise be told "tomorrow".
E2E_OPENING_DAY = (dt.datetime.now(dt.UTC).weekday() + 3) % 7
E2E_OPENING_HOURS = f"{DAYS[E2E_OPENING_DAY]} 08:00-20:00"
# What the test sites sign their customers' identities with (BATON_IDENTITY_SECRET).
E2E_IDENTITY_SECRET = "e2e-identity-secret"
# What the test operations feed signs its posts with (BATON_OPS_SECRET).
E2E_OPS_SECRET = "e2e-ops-secret"


def new_stack(
    var_dir: Path, database_url: str | None = None, extra_env: dict[str, str] | None = None,
    rasa_processes: int = 1,
) -> Stack:
    """The real processes on free ports, with their files under var_dir (not yet started)."""
    while True:
        # free_port does not hold what it found: two draws may find the same one.
        ports = Ports(gateway=free_port(), rasa=consecutive_free_ports(rasa_processes, free_port),
                      actions=free_port(), redis=free_port())
        taken = [ports.gateway, ports.actions, ports.redis,
                 *range(ports.rasa, ports.rasa + rasa_processes)]
        if len(set(taken)) == len(taken):
            break
    return Stack(
        ports=ports,
        var_dir=var_dir,
        database_url=database_url or f"sqlite+aiosqlite:///{var_dir / 'baton.db'}",
        extra_env=extra_env or {},
        rasa_processes=rasa_processes,
    )


@dataclass
class RunningBaton:
    stack: Stack
    base_url: str
    agent_email: str
    agent_password: str
    agent_name: str


@pytest.fixture(scope="session")
def baton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBaton]:
    var_dir = tmp_path_factory.mktemp("baton")
    stack = new_stack(var_dir, extra_env={"BATON_OPENING_HOURS": E2E_OPENING_HOURS,
                                          "BATON_IDENTITY_SECRET": E2E_IDENTITY_SECRET,
                                          "BATON_OPS_SECRET": E2E_OPS_SECRET})
    try:
        stack.start(timeout=240, agents=((E2E_AGENT_EMAIL, E2E_AGENT_PASSWORD, E2E_AGENT_NAME),))
        yield RunningBaton(stack, stack.base_url, E2E_AGENT_EMAIL, E2E_AGENT_PASSWORD,
                           E2E_AGENT_NAME)
    finally:
        stack.stop()
        for log in sorted((var_dir / "logs").glob("*.log")):
            # Kept beside the test results so a failure can be read after the run.
            target = ROOT / "var" / "test-results" / "logs" / log.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(log.read_bytes())
