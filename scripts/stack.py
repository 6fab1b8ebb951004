"""Starts and stops Baton's processes: Redis, the action server, Rasa (one or several
processes), the gateway (one, or several with PostgreSQL: make run-cluster).

Used by `make run` (scripts/run_all.py) and by the end-to-end tests, so both start the
system the same way. Standard library only: it runs under either environment.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import postgres

ROOT = Path(__file__).resolve().parent.parent
RASA_PY = ROOT / ".venv" / "rasa" / "bin" / "python"
GATEWAY_PY = ROOT / ".venv" / "gateway" / "bin" / "python"
MODEL = ROOT / "models" / "baton.tar.gz"
SECRET_ENV = "BATON_INTERNAL_SECRET"


def consecutive_free_ports(count: int, free_port: Callable[[], int]) -> int:
    """The first of `count` consecutive free ports (Rasa's processes take one each), the
    first found by the caller's `free_port`."""
    while True:
        first = free_port()
        try:
            for port in range(first + 1, first + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return first


def secret_for_this_run() -> str:
    """BATON_INTERNAL_SECRET when it is set, otherwise a fresh random one for this run."""
    return os.environ.get(SECRET_ENV, "").strip() or secrets.token_urlsafe(32)


@dataclass
class Ports:
    gateway: int = 8000
    # The first Rasa process's; the others are on the ports after it.
    rasa: int = 5005
    actions: int = 5055
    # Not Redis' own 6379, which a machine's Redis may hold.
    redis: int = 6380
    # make run-cluster's PostgreSQL; not 5432, which a machine's PostgreSQL may hold.
    postgres: int = 5433


@dataclass
class Stack:
    ports: Ports
    var_dir: Path
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    # Rasa processes sharing their trackers and locks in Redis (endpoints.yml).
    rasa_processes: int = 1
    # Gateways on the ports from Ports.gateway on, sharing Redis (events, caches, locks);
    # more than one needs a database they all write: PostgreSQL (with_postgres).
    gateways: int = 1
    # The stack's own PostgreSQL under var/postgres (make run-cluster), its database the
    # gateways'.
    with_postgres: bool = False
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # Shared by the three processes for the internal hops (bot/internal_auth.py); the same
    # for the whole run, so a restarted process still matches the others.
    internal_secret: str = field(default_factory=secret_for_this_run, repr=False)

    def __post_init__(self) -> None:
        if self.with_postgres:
            self.database_url = postgres.url(self.ports.postgres)
        if self.gateways > 1 and not self.database_url.startswith("postgresql"):
            raise ValueError("several gateways need PostgreSQL (with_postgres)")

    @property
    def base_url(self) -> str:
        return self.base_urls[0]

    @property
    def base_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.gateway_ports]

    @property
    def gateway_ports(self) -> list[int]:
        return [self.ports.gateway + i for i in range(self.gateways)]

    @property
    def gateway_names(self) -> list[str]:
        """Each gateway's name, and its log's: gateway, then gateway2, gateway3..."""
        return ["gateway" if i == 0 else f"gateway{i + 1}" for i in range(self.gateways)]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "RASA_TELEMETRY_ENABLED": "false",
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "BATON_PORT": str(self.ports.gateway),
                "RASA_PORT": str(self.ports.rasa),
                "ACTIONS_PORT": str(self.ports.actions),
                "REDIS_PORT": str(self.ports.redis),
                # How long a conversation's lock in Redis outlives a Rasa killed while
                # holding it (Rasa's default: 60 s); twice a turn's longest wait.
                "TICKET_LOCK_LIFETIME": "20",
                "DATABASE_URL": self.database_url,
                SECRET_ENV: self.internal_secret,
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
            }
        )
        # What supervisors teach goes beside this run's other files (make train reads it).
        env.setdefault("BATON_LEARNED_NLU", str(self.var_dir / "learned_nlu.yml"))
        if self.gateways > 1:
            # Rasa's trackers are in database 0 and its locks in 1 (endpoints.yml).
            env["BATON_REDIS_URL"] = f"redis://127.0.0.1:{self.ports.redis}/2"
        if self.rasa_processes > 1:
            env["BATON_RASA_URLS"] = ",".join(
                f"http://127.0.0.1:{port}" for port in self.rasa_ports)
        # Each Rasa process's encoder (numpy on OpenBLAS) starts a thread a core; with a
        # process a core they took turns from each other: 25 bot turns/s with two
        # processes, 40 with one thread each (bench/README.md, "Rasa's capacity").
        threads = str(max(1, (os.cpu_count() or 1) // self.rasa_processes))
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            env.setdefault(name, threads)
        env.update(self.extra_env)
        return env

    @property
    def rasa_ports(self) -> list[int]:
        return [self.ports.rasa + i for i in range(self.rasa_processes)]

    @property
    def rasa_names(self) -> list[str]:
        """Each Rasa process's name, and its log's: rasa, then rasa2, rasa3..."""
        return ["rasa" if i == 0 else f"rasa{i + 1}" for i in range(self.rasa_processes)]

    def starters(self) -> dict[str, Callable[[], None]]:
        """Each process's start, in the order they start: Rasa checks the action server
        and needs Redis, the gateway checks both."""
        rasa = {name: functools.partial(self.start_rasa, i)
                for i, name in enumerate(self.rasa_names)}
        gateways = {name: functools.partial(self.start_gateway, i)
                    for i, name in enumerate(self.gateway_names)}
        database = {"postgres": self.start_postgres} if self.with_postgres else {}
        return {**database, "redis": self.start_redis, "actions": self.start_actions, **rasa,
                **gateways}

    def internal_auth(self) -> dict[str, str]:
        """The header Rasa's channel and the action server want (benchmarks, tests)."""
        return {"Authorization": f"Bearer {self.internal_secret}"}

    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        logs = self.var_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = open(logs / f"{name}.log", "ab")
        try:
            self.processes[name] = subprocess.Popen(
                argv, cwd=ROOT, env={**self.env(), **(env or {})}, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        finally:
            log.close()

    def start_actions(self) -> None:
        self._start("actions", [str(RASA_PY), "-m", "actions.server"])

    def start_redis(self) -> None:
        # Rasa's trackers and its conversation locks (endpoints.yml), on loopback only.
        # An append-only file synced each second: a restarted Redis has every
        # conversation but at most its last second; no RDB snapshots, which would
        # fork and copy the whole set for nothing the AOF lacks.
        data = self.var_dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        self._start("redis", [
            redis_server(), "--bind", "127.0.0.1", "--port", str(self.ports.redis),
            "--dir", str(data), "--save", "", "--appendonly", "yes",
            "--appendfsync", "everysec", "--daemonize", "no", "--logfile", "",
        ])

    def start_rasa(self, index: int = 0) -> None:
        # Rasa's HTTP API stays off: no --enable-api (it would need --auth-token).
        self._start(
            self.rasa_names[index],
            [
                str(RASA_PY), "-m", "rasa", "run",
                "--model", str(MODEL),
                "--credentials", "credentials.yml",
                "--endpoints", "endpoints.yml",
                "--interface", "127.0.0.1",
                "--port", str(self.rasa_ports[index]),
            ],
        )

    def start_gateway(self, index: int = 0) -> None:
        self._start(self.gateway_names[index], [str(GATEWAY_PY), "-m", "handoff", "serve"],
                    {"BATON_PORT": str(self.gateway_ports[index])})

    def start_postgres(self) -> None:
        self._start("postgres", postgres.server_argv(self.postgres_data, self.ports.postgres))

    @property
    def postgres_data(self) -> Path:
        return self.var_dir / "postgres" / "data"

    def prepare_database(self) -> None:
        """make run-cluster: the stack's PostgreSQL made (once), started, its database
        created (once); the other processes start after the migration."""
        if not self.with_postgres:
            return
        postgres.ensure_data(self.postgres_data)
        if "postgres" not in self.processes:
            self.start_postgres()
        postgres.wait_and_create(self.ports.postgres)

    def migrate(self) -> None:
        subprocess.run(
            [str(GATEWAY_PY), "-m", "handoff", "migrate"], cwd=ROOT, env=self.env(), check=True,
            stdout=subprocess.DEVNULL,
        )

    def ensure_agent(self, email: str | None = None, password: str | None = None,
                     name: str | None = None, role: str = "agent") -> str:
        argv = [str(GATEWAY_PY), "-m", "handoff", "ensure-agent", "--role", role]
        for flag, value in (("--email", email), ("--password", password), ("--name", name)):
            if value:
                argv += [flag, value]
        done = subprocess.run(argv, cwd=ROOT, env=self.env(), check=True, capture_output=True,
                              text=True)
        return done.stdout.strip()

    def start(
        self, timeout: float = 180.0, agents: tuple[tuple[str, str, str], ...] = ()
    ) -> None:
        """Migrate, make sure these (email, password, name) agents exist, start, wait."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.prepare_database()
        self.migrate()
        for email, password, name in agents:
            self.ensure_agent(email, password, name)
        for name, start in self.starters().items():
            if name not in self.processes:
                start()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {process.returncode}; see "
                        f"{self.var_dir / 'logs' / (name + '.log')}"
                    )
            if all(ready(url) for url in self.base_urls):
                return
            time.sleep(0.5)
        raise TimeoutError(f"Baton was not ready within {timeout:.0f} s")

    def stop(self, name: str | None = None, sig: int = signal.SIGTERM) -> None:
        if name is None and "postgres" in self.processes:
            # The database last, once its clients are gone, and at once (SIGINT: fast
            # shutdown; SIGTERM would wait for every session to end).
            for other in [n for n in self.processes if n != "postgres"]:
                self.stop(other, sig)
            self.stop("postgres", signal.SIGINT if sig == signal.SIGTERM else sig)
            return
        names = [name] if name else list(self.processes)
        for key in names:
            process = self.processes.get(key)
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, sig)
        for key in names:
            process = self.processes.pop(key, None)
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def redis_server() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("redis-server is missing: run scripts/install_redis.sh")
    return found


def ready(base_url: str) -> bool:
    """Every process answers: with several Rasa processes, each of them."""
    try:
        with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as response:
            body = json.load(response)
            return body.get("status") == "ready" and all(body.get("checks", {}).values())
    except (urllib.error.URLError, OSError, ValueError):
        return False
