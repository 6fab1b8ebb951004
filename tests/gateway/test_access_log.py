"""The gateway's access log writes no secret, whatever a client puts in a URL."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from handoff.web.access_log import redact_url
from handoff.settings import ROOT

from ..pg_server import free_port

TOKEN = secrets.token_urlsafe(32)
ACCESS_LINE = re.compile(
    r'aiohttp\.access: \S+ "(?P<request>[^"]*)" (?P<status>\d+) \d+ \d+\.\d+ '
    r'"(?P<referer>[^"]*)" "[^"]*"$'
)


@pytest.mark.parametrize(
    ("url", "written"),
    [
        ("/api/agent/ws?token=abc&last_event_id=3", "/api/agent/ws?token=[redacted]&last_event_id=3"),
        ("/api/conversations/c1/ws?after=4&ticket=t", "/api/conversations/c1/ws?after=4&ticket=[redacted]"),
        ("/x?Session_ID=1&api_key=2&password=3&sig=4", "/x?Session_ID=[redacted]&api_key=[redacted]&password=[redacted]&sig=[redacted]"),
        ("/x?access%5Ftoken=1", "/x?access%5Ftoken=[redacted]"),
        (f"/x?t={TOKEN}", "/x?t=[redacted]"),
        (f"/api/conversations/{TOKEN}", "/api/conversations/[redacted]"),
        ("https://shop.example/help?auth=1#top", "https://shop.example/help?auth=[redacted]#top"),
        ("/api/agent/privacy/conversations?email=ann%40example.com&phone=%2B44&booking_reference=QX7P2L",
         "/api/agent/privacy/conversations?email=[redacted]&phone=[redacted]&booking_reference=[redacted]"),
        ("/api/agent/privacy/conversations?customer_id=cust-42",
         "/api/agent/privacy/conversations?customer_id=[redacted]"),
        ("/api/agent/conversations?q=QX7P2L&status=bot&quality=1",
         "/api/agent/conversations?q=[redacted]&status=bot&quality=1"),
        ("/api/agent/audit?conversation_id=4e71cf12a9b04c6d8e2f1a3b5c7d9e0f&limit=5",
         "/api/agent/audit?conversation_id=4e71cf12a9b04c6d8e2f1a3b5c7d9e0f&limit=5"),
        ("/api/agent/queue", "/api/agent/queue"),
        ("-", "-"),
    ],
)
def test_secret_looking_parts_of_a_url_are_redacted(url: str, written: str) -> None:
    assert redact_url(url) == written


def _get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except urllib.error.URLError:
        return 0  # not listening yet


def test_the_served_gateways_access_log_has_no_secret_from_a_url(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}",
        "BATON_PORT": str(port), "BATON_HOST": "127.0.0.1",
        "BATON_INTERNAL_SECRET": "access-log-test-secret",
        # Rasa is not running: nothing here needs it.
        "RASA_URL": "http://127.0.0.1:9", "ACTIONS_URL": "http://127.0.0.1:9",
    }
    subprocess.run([sys.executable, "-m", "handoff", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)
    log_path = tmp_path / "gateway.log"
    with open(log_path, "wb") as log:
        gateway = subprocess.Popen(
            [sys.executable, "-m", "handoff", "serve"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _get(f"{base}/healthz") != 200:
            assert gateway.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "the gateway did not start"
            time.sleep(0.2)
        answers = [
            _get(f"{base}/api/agent/ws?token={TOKEN}&last_event_id=2"),
            _get(f"{base}/api/agent/queue?access_token=hunter2-{TOKEN[:8]}"),
            _get(f"{base}/healthz", {"Referer": f"{base}/agent?session=s3cr3t-{TOKEN[:8]}"}),
        ]
    finally:
        gateway.send_signal(signal.SIGINT)
        gateway.wait(timeout=30)
    written = log_path.read_text()

    for secret in (TOKEN, "hunter2", "s3cr3t"):
        assert secret not in written
    lines = [ACCESS_LINE.search(line) for line in written.splitlines()]
    access = [
        (m["request"], int(m["status"]), m["referer"])
        for m in lines
        if m is not None and (m["request"], m["referer"]) != ("GET /healthz HTTP/1.1", "-")
    ]
    assert access == [
        ("GET /api/agent/ws?token=[redacted]&last_event_id=2 HTTP/1.1", 400, "-"),
        ("GET /api/agent/queue?access_token=[redacted] HTTP/1.1", 401, "-"),
        ("GET /healthz HTTP/1.1", 200, f"{base}/agent?session=[redacted]"),
    ]
    assert answers == [400, 401, 200]
