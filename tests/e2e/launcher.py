"""`make run`'s launcher (scripts/run_all.py) as a subprocess on free ports, and how
the tests that supervise it find its children and call its gateways.

Shared by test_supervised_launcher.py (`make run`) and test_cluster.py
(`make run-cluster`); both run it exactly as a user does and read /proc to tell which
of its children is which.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from ..conftest import ROOT, consecutive_free_ports
from ..pg_server import free_port

LAUNCHER = ROOT / "scripts" / "run_all.py"
GATEWAY_PY = ROOT / ".venv" / "gateway" / "bin" / "python"
AGENT_EMAIL = "sup@baton.example"
AGENT_PASSWORD = "supervised-pass-1"
RASA_START = 300.0  # Rasa loads its model in 60-90 s on 2 cores, longer when they are busy
# The roles `make run` supervises one of each; make run-cluster adds these.
SERVICES = ("rasa", "actions", "gateway")


def argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _stat(pid: int) -> list[str] | None:
    """The fields after the command name, which is in parentheses and may hold spaces."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def _parent(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields else None


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return {}
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def _role(argv: list[str]) -> str | None:
    if "rasa" in argv and "run" in argv:
        return "rasa"
    if "actions.server" in argv:
        return "actions"
    if "handoff" in argv and "serve" in argv:
        return "gateway"
    # Redis writes its own title over its argv: "redis-server 127.0.0.1:6380".
    if argv and "redis-server" in argv[0]:
        return "redis"
    # Under `runuser -u postgres` when the launcher runs as root.
    if any(arg.endswith("/bin/postgres") for arg in argv):
        return "postgres"
    return None


def _flag(argv: list[str], flag: str) -> int | None:
    return int(argv[argv.index(flag) + 1]) if flag in argv[:-1] else None


def _port(pid: int, role: str, args: list[str]) -> int | None:
    """The port the child serves: each gateway has its own BATON_PORT."""
    if role == "gateway":
        return int(_environ(pid).get("BATON_PORT", 0)) or None
    if role == "rasa":
        return _flag(args, "--port")
    if role == "redis":
        return _flag(args, "--port") or int(args[0].rpartition(":")[2])
    if role == "postgres":
        return _flag(args, "-p")
    return None


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def group_alive(pgid: int) -> bool:
    """Any process left in the group: each child leads its own (start_new_session), so
    this finds what it started too (PostgreSQL's backends, say)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[0] != "Z" and int(fields[2]) == pgid:
                return True
    return False


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def refuses(port: int) -> bool:
    """Nothing listens on the port any more: a killed process's sockets are all closed
    (its leader shows as a zombie while its other threads may still be exiting)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


@dataclass(frozen=True)
class Child:
    role: str
    pid: int
    port: int | None


@dataclass
class Launcher:
    process: subprocess.Popen[bytes]
    var_dir: Path
    ports: dict[str, int]
    seen: set[int]  # every child pid seen, restarted ones included

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def all_children(self) -> list[Child]:
        """Every child whose role is known, several of a role included."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent(int(entry.name)) == self.process.pid:
                pid = int(entry.name)
                args = argv(pid)
                role = _role(args)
                if role is not None and alive(pid):
                    found.append(Child(role, pid, _port(pid, role, args)))
        self.seen.update(child.pid for child in found)
        return found

    def children(self) -> dict[str, int]:
        """`make run`'s services, one of each, by role."""
        found = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent(int(entry.name)) == self.process.pid:
                role = _role(argv(int(entry.name)))
                if role in SERVICES and alive(int(entry.name)):
                    found[role] = int(entry.name)
        self.seen.update(found.values())
        return found

    def pid_on(self, role: str, port: int) -> int | None:
        """The child of that role serving that port (a gateway or Rasa of several)."""
        return next((c.pid for c in self.all_children() if (c.role, c.port) == (role, port)),
                    None)

    def log(self) -> str:
        path = self.var_dir / "logs" / "launcher.log"
        return path.read_text() if path.exists() else ""

    def output(self) -> str:
        return (self.var_dir / "launcher.out").read_text(errors="replace")


def wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


async def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def _ports(cluster: bool) -> dict[str, int]:
    """Free ports, none drawn twice; the cluster's two gateways and two Rasa processes
    each on consecutive ones."""
    while True:
        if not cluster:
            ports = {"gateway": free_port(), "rasa": free_port(), "actions": free_port()}
        else:
            gateway = consecutive_free_ports(2, free_port)
            rasa = consecutive_free_ports(2, free_port)
            ports = {"gateway": gateway, "gateway2": gateway + 1, "rasa": rasa,
                     "rasa2": rasa + 1, "actions": free_port(), "redis": free_port(),
                     "postgres": free_port()}
        # free_port does not hold what it found: two draws may find the same one.
        if len(set(ports.values())) == len(ports):
            return ports


@contextmanager
def running_launcher(var_dir: Path, cluster: bool = False) -> Iterator[Launcher]:
    """`make run`'s launcher (`make run-cluster`'s with cluster: PostgreSQL, two Rasa
    processes, two gateways) as a subprocess on free ports, its files under var_dir."""
    var_dir.mkdir(parents=True, exist_ok=True)
    ports = _ports(cluster)
    env = dict(os.environ)
    for name in ("BATON_INTERNAL_SECRET", "DATABASE_URL", "BATON_GATEWAYS", "BATON_REDIS_URL",
                 "BATON_RASA_URLS"):
        env.pop(name, None)
    env.update({
        "BATON_VAR_DIR": str(var_dir),
        "BATON_PORT": str(ports["gateway"]),
        "RASA_PORT": str(ports["rasa"]),
        "ACTIONS_PORT": str(ports["actions"]),
        "REDIS_PORT": str(ports.get("redis") or free_port()),
        # One of each kind is what `make run`'s test supervises (several: test_rasa_pool.py).
        "BATON_RASA_PROCESSES": "2" if cluster else "1",
        "BATON_AGENT_EMAIL": AGENT_EMAIL,
        "BATON_AGENT_PASSWORD": AGENT_PASSWORD,
        "BATON_RASA_TIMEOUT": "5",
    })
    if cluster:
        env["PG_PORT"] = str(ports["postgres"])
    with open(var_dir / "launcher.out", "wb") as out:
        process = subprocess.Popen(
            [str(GATEWAY_PY), str(LAUNCHER), *(["--cluster"] if cluster else [])],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    running = Launcher(process, var_dir, ports, set())
    try:
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        for pid in running.seen:
            if group_alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass  # gone meanwhile
        # Kept beside the test results so a failure can be read after the run.
        target = ROOT / "var" / "test-results" / "logs" / f"launcher-{var_dir.name}"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for log in [var_dir / "launcher.out", *sorted((var_dir / "logs").glob("*.log"))]:
            if log.exists():
                shutil.copy(log, target / log.name)


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base

    async def status(self, path: str) -> int:
        try:
            async with self.http.get(f"{self.base}{path}") as response:
                return response.status
        except aiohttp.ClientError:
            return 0

    async def conversation(self) -> tuple[str, dict[str, str]]:
        async with self.http.post(f"{self.base}/api/conversations") as response:
            assert response.status == 201, await response.text()
            body = await response.json()
        return body["id"], {"Authorization": f"Bearer {body['token']}"}

    async def say(self, cid: str, auth: dict[str, str], text: str) -> dict[str, Any]:
        async with self.http.post(f"{self.base}/api/conversations/{cid}/messages",
                                  json={"text": text}, headers=auth) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def history(self, cid: str, auth: dict[str, str]) -> list[tuple[str, str]]:
        async with self.http.get(f"{self.base}/api/conversations/{cid}/messages",
                                 headers=auth) as response:
            assert response.status == 200, await response.text()
            return [(m["sender"], m["text"]) for m in (await response.json())["messages"]]

    async def agent(self) -> dict[str, str]:
        async with self.http.post(f"{self.base}/api/agent/login",
                                  json={"email": AGENT_EMAIL, "password": AGENT_PASSWORD}) as r:
            assert r.status == 200, await r.text()
            return {"Authorization": f"Bearer {(await r.json())['token']}"}
