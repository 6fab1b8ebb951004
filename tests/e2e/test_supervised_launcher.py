"""`make run`'s own launcher (scripts/run_all.py) under kill -9 of each of its processes.

One launcher run on free ports, with its files in a temporary directory: Rasa, the
action server and the gateway are each killed with SIGKILL in turn; the others keep
serving, the launcher logs the exit and restarts it, and SIGINT then stops everything.
A second, short run is stopped with SIGTERM while Rasa is still loading.
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
import pytest

from ..conftest import ROOT
from ..pg_server import free_port
from ..shapes_check import CHECK_RESPONSES

pytestmark = pytest.mark.e2e

LAUNCHER = ROOT / "scripts" / "run_all.py"
GATEWAY_PY = ROOT / ".venv" / "gateway" / "bin" / "python"
AGENT_EMAIL = "sup@baton.example"
AGENT_PASSWORD = "supervised-pass-1"
RASA_START = 300.0  # Rasa loads its model in 60-90 s on 2 cores, longer when they are busy


def _argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name, in parentheses, may hold spaces; the fields after it do not.
    return int(stat.rpartition(")")[2].split()[1])


def _role(argv: list[str]) -> str | None:
    if "rasa" in argv and "run" in argv:
        return "rasa"
    if "actions.server" in argv:
        return "actions"
    if "handoff" in argv and "serve" in argv:
        return "gateway"
    return None


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Launcher:
    process: subprocess.Popen[bytes]
    var_dir: Path
    ports: dict[str, int]
    seen: set[int]  # every child pid seen, restarted ones included

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def children(self) -> dict[str, int]:
        found = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and _parent(int(entry.name)) == self.process.pid:
                role = _role(_argv(int(entry.name)))
                if role is not None and _alive(int(entry.name)):
                    found[role] = int(entry.name)
        self.seen.update(found.values())
        return found

    def log(self) -> str:
        path = self.var_dir / "logs" / "launcher.log"
        return path.read_text() if path.exists() else ""

    def output(self) -> str:
        return (self.var_dir / "launcher.out").read_text(errors="replace")


def _wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


@contextmanager
def running_launcher(var_dir: Path) -> Iterator[Launcher]:
    """`make run`'s launcher as a subprocess on free ports, its files under var_dir."""
    var_dir.mkdir(parents=True, exist_ok=True)
    ports = {"gateway": free_port(), "rasa": free_port(), "actions": free_port()}
    env = dict(os.environ)
    for name in ("BATON_INTERNAL_SECRET", "DATABASE_URL"):
        env.pop(name, None)
    env.update({
        "BATON_VAR_DIR": str(var_dir),
        "BATON_PORT": str(ports["gateway"]),
        "RASA_PORT": str(ports["rasa"]),
        "ACTIONS_PORT": str(ports["actions"]),
        "REDIS_PORT": str(free_port()),
        # One of each kind is what this test supervises (several: test_rasa_pool.py).
        "BATON_RASA_PROCESSES": "1",
        "BATON_AGENT_EMAIL": AGENT_EMAIL,
        "BATON_AGENT_PASSWORD": AGENT_PASSWORD,
        "BATON_RASA_TIMEOUT": "5",
    })
    with open(var_dir / "launcher.out", "wb") as out:
        process = subprocess.Popen([str(GATEWAY_PY), str(LAUNCHER)], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
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
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
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


async def _until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.5)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


async def test_the_launcher_restarts_each_crashed_process_and_stops_everything_on_sigint(
    tmp_path: Path,
) -> None:
    with running_launcher(tmp_path / "supervised") as launcher:
        await _kill_each_process_then_sigint(launcher)


async def _kill_each_process_then_sigint(launcher: Launcher) -> None:
    async with aiohttp.ClientSession(
        middlewares=CHECK_RESPONSES, timeout=aiohttp.ClientTimeout(total=30)
    ) as http:
        api = Api(http, launcher.base)

        async def ready() -> bool:
            return await api.status("/readyz") == 200

        await _until(ready, RASA_START, "Baton ready after `make run`'s launcher started it")
        first = launcher.children()
        assert set(first) == {"rasa", "actions", "gateway"}
        _wait(lambda: "Baton is running." in launcher.output(), 10, "the launcher's banner")

        # A conversation the bot answers, kept through every crash below.
        cid, auth = await api.conversation()
        seat = await api.say(cid, auth, "how do I choose a seat")
        assert seat["status"] == "bot"
        seat_answer = [m["text"] for m in seat["messages"] if m["sender"] == "bot"]
        assert seat_answer and seat_answer[0].startswith("To choose or change your seat:")
        # The answer to ask for after the gateway's restart (not the same question again:
        # a repeated question is a reason to hand off).
        other_id, other_auth = await api.conversation()
        checkin = await api.say(other_id, other_auth, "how do I check in online")
        checkin_answer = [m["text"] for m in checkin["messages"] if m["sender"] == "bot"]
        assert checkin_answer and checkin_answer[0].startswith("Online check-in opens")

        # kill -9 Rasa: the gateway keeps serving and queues the customer.
        os.kill(first["rasa"], signal.SIGKILL)
        _wait(lambda: not _alive(first["rasa"]), 10, "Rasa's process gone")
        await asyncio.sleep(1.5)  # the old launcher noticed within 0.5 s and stopped everything
        assert await api.status("/healthz") == 200
        assert await api.status("/readyz") == 503
        cut_id, cut_auth = await api.conversation()
        cut = await api.say(cut_id, cut_auth, "my flight was cancelled, what now")
        assert cut["status"] == "waiting"
        assert await api.history(cut_id, cut_auth) == [
            (m["sender"], m["text"]) for m in cut["messages"]
        ]
        assert cut["messages"][0]["text"] == "my flight was cancelled, what now"
        agent = await api.agent()
        async with http.get(f"{launcher.base}/api/agent/queue", headers=agent) as response:
            queued = {c["id"]: c for c in (await response.json())["conversations"]}
        assert cut_id in queued
        async with http.get(f"{launcher.base}/api/agent/conversations/{cut_id}",
                            headers=agent) as response:
            assert (await response.json())["handoff"]["reason"] == "bot_unavailable"

        # The launcher logged the exit and restarted Rasa, which answers again.
        assert f"rasa (pid {first['rasa']}) was killed by SIGKILL" in launcher.log()
        rasa = _wait(lambda: launcher.children().get("rasa"), 30, "Rasa restarted")
        assert rasa != first["rasa"]
        assert f"started rasa (pid {rasa})" in launcher.log()
        await _until(ready, RASA_START, "Rasa ready again")
        again_id, again_auth = await api.conversation()
        again = await api.say(again_id, again_auth, "how do I choose a seat")
        assert again["status"] == "bot"
        assert [m["text"] for m in again["messages"] if m["sender"] == "bot"] == seat_answer
        _wait(lambda: "rasa answers again" in launcher.log(), 10, "the launcher saw Rasa back")

        # kill -9 the action server: restarted, and readiness comes back.
        os.kill(first["actions"], signal.SIGKILL)
        actions = _wait(
            lambda: (pid := launcher.children().get("actions")) != first["actions"] and pid,
            30, "the action server restarted",
        )
        assert f"actions (pid {first['actions']}) was killed by SIGKILL" in launcher.log()
        assert f"started actions (pid {actions})" in launcher.log()
        await _until(ready, 120, "ready again after the action server's restart")
        assert await api.status("/healthz") == 200

        # kill -9 the gateway: restarted, and it serves the same conversation.
        before = await api.history(cid, auth)
        os.kill(first["gateway"], signal.SIGKILL)
        gateway = _wait(
            lambda: (pid := launcher.children().get("gateway")) != first["gateway"] and pid,
            30, "the gateway restarted",
        )
        assert f"gateway (pid {first['gateway']}) was killed by SIGKILL" in launcher.log()
        assert f"started gateway (pid {gateway})" in launcher.log()

        async def healthy() -> bool:
            return await api.status("/healthz") == 200

        await _until(healthy, 60, "the restarted gateway answers")
        assert await api.history(cid, auth) == before
        more = await api.say(cid, auth, "how do I check in online")
        assert more["status"] == "bot"
        assert [m["text"] for m in more["messages"] if m["sender"] == "bot"] == checkin_answer
        assert await api.history(cid, auth) == before + [
            (m["sender"], m["text"]) for m in more["messages"]
        ]

    # Ctrl-C: every process, first and restarted, is gone and every port free.
    children = launcher.children()
    assert set(children) == {"rasa", "actions", "gateway"}
    started = time.monotonic()
    launcher.process.send_signal(signal.SIGINT)
    assert launcher.process.wait(timeout=60) == 0
    stopped = time.monotonic() - started
    assert stopped < 30, f"stopping took {stopped:.0f} s"
    assert [pid for pid in launcher.seen if _alive(pid)] == []
    assert len(launcher.seen) == 6
    assert {name: _port_free(port) for name, port in launcher.ports.items()} == {
        "gateway": True, "rasa": True, "actions": True
    }
    assert "SIGINT received: stopping everything" in launcher.log()


def test_sigterm_while_rasa_is_still_loading_stops_everything_at_once(tmp_path: Path) -> None:
    with running_launcher(tmp_path / "stopped-early") as launcher:
        _wait(lambda: len(launcher.children()) == 3, 60, "all three processes started")
        started = time.monotonic()
        launcher.process.send_signal(signal.SIGTERM)
        assert launcher.process.wait(timeout=60) == 0
        stopped = time.monotonic() - started
        # Not once Rasa is ready: the launcher used to wait for that before stopping.
        assert "Baton is running." not in launcher.output()
        assert stopped < 20, f"stopping took {stopped:.0f} s"
        assert [pid for pid in launcher.seen if _alive(pid)] == []
        assert "SIGTERM received: stopping everything" in launcher.log()
