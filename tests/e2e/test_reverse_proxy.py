"""The nginx sample (deploy/nginx/baton.conf) in front of the real system: HTTP, the
WebSocket upgrade, and a dead gateway behind it skipped without the customer noticing."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from ..conftest import ROOT, RunningBaton
from ..pg_server import free_port

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "deploy" / "nginx" / "baton.conf"


def _nginx() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(found, os.X_OK):
        subprocess.run([str(ROOT / "scripts" / "install_nginx.sh")], check=True, timeout=600)
    return found


def rendered(listen: int, gateways: tuple[int, int]) -> str:
    """The sample with this test's ports: its two gateways' and the one it listens on."""
    text = SAMPLE.read_text()
    text, listens = re.subn(r"listen 8080;", f"listen 127.0.0.1:{listen};", text)
    text, first = re.subn(r"server 127\.0\.0\.1:8000 ", f"server 127.0.0.1:{gateways[0]} ", text)
    text, second = re.subn(r"server 127\.0\.0\.1:8001 ", f"server 127.0.0.1:{gateways[1]} ", text)
    assert (listens, first, second) == (1, 1, 1), "the sample's ports changed: update the test"
    return text


@dataclass(frozen=True)
class Proxy:
    url: str
    dead_gateway: int
    prefix: Path

    def errors(self) -> str:
        return (self.prefix / "error.log").read_text()


@pytest.fixture(scope="module")
def proxy(baton: RunningBaton, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """nginx on a free port, before the running gateway and a second one that is down."""
    prefix = tmp_path_factory.mktemp("nginx")
    gateway = int(baton.base_url.rsplit(":", 1)[1])
    port, dead = free_port(), free_port()
    (prefix / "baton.conf").write_text(rendered(port, (dead, gateway)))
    user = "user root;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log error;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n  access_log {prefix}/access.log;\n"
        f"  client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n"
        f"  include {prefix}/baton.conf;\n}}\n"
    )
    nginx = subprocess.Popen([_nginx(), "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                             stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, nginx)
        yield Proxy(f"http://127.0.0.1:{port}", dead, prefix)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx exited: {process.stderr.read().decode()}")  # type: ignore[union-attr]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nginx did not listen on {port} within {seconds:g} s")


async def test_a_customer_talks_to_the_bot_through_the_proxy(proxy: Proxy) -> None:
    base = proxy.url
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        ready = await http.get(f"{base}/readyz")
        assert (ready.status, (await ready.json())["status"]) == (200, "ready")
        # Ten conversations: least_conn sends some to the dead gateway first, and each is
        # passed on to the live one (a refused connection carried nothing).
        turns = []
        for _ in range(10):
            created = await http.post(f"{base}/api/conversations")
            assert created.status == 201, await created.text()
            conversation = await created.json()
            answer = await http.post(
                f"{base}/api/conversations/{conversation['id']}/messages",
                json={"text": "how do I check in online"},
                headers={"Authorization": f"Bearer {conversation['token']}"},
            )
            assert answer.status == 200, await answer.text()
            turns.append([m["sender"] for m in (await answer.json())["messages"]][:2])
    assert turns == [["customer", "bot"]] * 10
    assert "connect() failed (111: Connection refused) while connecting to upstream" in (
        proxy.errors()
    ), "nginx never tried the dead gateway: the test proved no failover"
    assert f"127.0.0.1:{proxy.dead_gateway}" in proxy.errors()


async def test_the_widget_socket_upgrades_through_the_proxy(proxy: Proxy) -> None:
    base = proxy.url
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        conversation = await (await http.post(f"{base}/api/conversations")).json()
        async with http.ws_connect(
            f"{base.replace('http', 'ws')}/api/conversations/{conversation['id']}/ws"
        ) as ws:
            await ws.send_json({"type": "auth", "token": conversation["token"]})
            status = await ws.receive_json(timeout=10)
            await ws.send_json({"type": "message", "text": "what is the baggage allowance",
                                "client_message_id": "proxy-1"})
            events = []
            while not events or events[-1]["type"] != "ack":
                events.append(await ws.receive_json(timeout=30))
    assert status == {"type": "status", "conversation_id": conversation["id"],
                      "status": "bot", "agent": None}
    senders = [e["message"]["sender"] for e in events if e["type"] == "message"]
    assert senders[0] == "customer" and "bot" in senders[1:]
    assert (events[-1]["client_message_id"], events[-1]["status"]) == ("proxy-1", "bot")


def test_the_sample_is_what_nginx_accepts(tmp_path: Path) -> None:
    """`nginx -t` on the sample as shipped, ports and all."""
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ include {SAMPLE}; }}\n"
    )
    checked = subprocess.run([_nginx(), "-t", "-p", str(tmp_path), "-c",
                              str(tmp_path / "nginx.conf")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr
