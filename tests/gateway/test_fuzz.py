"""Property-based fuzzing of the public API on a real server: no input gets a 5xx.

Hypothesis sends 10,000 requests (malformed JSON, wrong types, missing fields, huge,
control characters and unusual Unicode, HTML and SQL metacharacters, wrong tokens and ids)
to a gateway listening on loopback, and checks every answer.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff.access.agents import ensure_agent
from handoff.app import create_app
from handoff.storage.db import upgrade
from handoff.settings import Settings

from ..shapes_check import check_response
from .fake_rasa import FakeRasa

NASTY = st.sampled_from([
    "<script>alert(1)</script>", "'; DROP TABLE messages; --", "\u202e\u200b\ufeff",
    "😀" * 50, "\x1b[31m", "a\rb\nc\td", "%00", "../../etc/passwd", "{{7*7}}", "\ud7ff",
    "null", "[]", "{}", " ", "",
])
TEXT = st.one_of(st.text(max_size=300), NASTY, st.text(min_size=3990, max_size=4100))
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


@dataclass
class Server:
    port: int
    conversation_id: str
    token: str
    agent_token: str
    waiting_id: str


def _serve(tmp: Path, ready: threading.Event, box: dict[str, Any]) -> None:
    loop = asyncio.new_event_loop()
    box["loop"] = loop

    async def start() -> None:
        fake = web.AppRunner(FakeRasa().app())
        await fake.setup()
        fake_site = web.TCPSite(fake, "127.0.0.1", 0)
        await fake_site.start()
        rasa_url = f"http://127.0.0.1:{fake_site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        url = f"sqlite+aiosqlite:///{tmp / 'fuzz.db'}"
        await asyncio.to_thread(upgrade, url)
        await ensure_agent(url, "fuzz@example.com", "fuzz-password", "Fuzz")
        settings_ = Settings(database_url=url, rasa_url=rasa_url, actions_url=rasa_url,
                             rate_per_address=0, rate_per_conversation=0)
        runner = web.AppRunner(create_app(settings_))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        box["port"] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        box["runners"] = [runner, fake]

    loop.run_until_complete(start())
    ready.set()
    loop.run_forever()
    for runner in box["runners"]:
        loop.run_until_complete(runner.cleanup())
    loop.close()


_connections: dict[int, http.client.HTTPConnection] = {}


def _call(port: int, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    """One request on a kept-alive connection, opened again after the server closes it:
    the answer's status, body and content type."""
    for attempt in range(2):
        connection = _connections.get(port)
        if connection is None:
            connection = _connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            if response.will_close:
                connection.close()
                del _connections[port]
            return response.status, data, response.headers.get_content_type()
        except (http.client.HTTPException, ConnectionError):
            connection.close()
            _connections.pop(port, None)
            if attempt:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    ready, box = threading.Event(), {}
    thread = threading.Thread(target=_serve, args=(tmp_path_factory.mktemp("fuzz"), ready, box))
    thread.start()
    assert ready.wait(60)
    port = box["port"]
    conv = json.loads(_call(port, "POST", "/api/conversations")[1])
    waiting = json.loads(_call(port, "POST", "/api/conversations")[1])
    _call(port, "POST", f"/api/conversations/{waiting['id']}/messages",
          json.dumps({"text": "a person please"}).encode(),
          {"Authorization": f"Bearer {waiting['token']}", "Content-Type": "application/json"})
    login = json.loads(_call(port, "POST", "/api/agent/login",
                             json.dumps({"email": "fuzz@example.com", "password": "fuzz-password"}).encode())[1])
    yield Server(port, conv["id"], conv["token"], login["token"], waiting["id"])
    box["loop"].call_soon_threadsafe(box["loop"].stop)
    thread.join(30)


def _check(method: str, path: str, answer: tuple[int, bytes, str]) -> None:
    status, raw, content_type = answer
    assert status < 500, (status, path, raw[:300])
    if status >= 400:
        body = json.loads(raw)
        assert body["error"]["status"] == status
    # Whatever came in, the answer is one the OpenAPI document declares, in its shape.
    check_response(method, path.partition("?")[0], status, content_type, raw)


def _body(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> bytes:
    kind = draw(st.sampled_from(["shaped", "json", "garbage"]))
    if kind == "garbage":
        return draw(st.binary(max_size=200))
    if kind == "json":
        return json.dumps(draw(JSON_VALUE)).encode()
    chosen = draw(st.fixed_dictionaries({}, optional=fields))
    return json.dumps(chosen).encode()


@st.composite
def customer_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, str]:
    route = draw(st.sampled_from([
        ("POST", "/api/conversations/{id}/messages",
         {"text": TEXT | JSON_VALUE, "payload": TEXT | JSON_VALUE,
          "client_message_id": st.text(max_size=80) | JSON_VALUE}),
        ("POST", "/api/conversations/{id}/contact",
         {"email": TEXT | JSON_VALUE, "phone": TEXT, "name": TEXT, "message": TEXT}),
        ("POST", "/api/conversations/{id}/rating",
         {"score": st.integers(-3, 8) | JSON_VALUE, "comment": TEXT | JSON_VALUE}),
        ("GET", "/api/conversations/{id}", {}),
        ("GET", "/api/conversations/{id}/messages?after={after}", {}),
        ("POST", "/api/conversations",
         {"identity": JSON_VALUE, "identity_signature": TEXT | JSON_VALUE}),
    ]))
    method, template, fields = route
    who = draw(st.sampled_from(["mine", "other", "garbage", "none"]))
    after = draw(st.sampled_from(["0", "-1", "x", "99999999999999999999", "", "1e3"]))
    return method, template.replace("{after}", after), (
        _body(draw, fields) if method == "POST" else None
    ), who


@settings(max_examples=6000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(request=customer_requests(), conversation=st.sampled_from(["mine", "unknown", "weird"]))
def test_customer_api_never_fails_on_bad_input(server: Server, request: Any, conversation: str) -> None:
    method, template, body, who = request
    cid = {"mine": server.conversation_id, "unknown": "0" * 32, "weird": "%E2%80%AE..%2F%00"}[conversation]
    token = {"mine": server.token, "other": server.agent_token, "garbage": "x" * 300, "none": None}[who]
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    path = template.replace("{id}", cid)
    answer = _call(server.port, method, path, body, headers)
    _check(method, path, answer)


@st.composite
def agent_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None]:
    method, template, fields = draw(st.sampled_from([
        ("POST", "/api/agent/login", {"email": TEXT | JSON_VALUE, "password": TEXT | JSON_VALUE}),
        ("POST", "/api/agent/conversations/{id}/messages", {"text": TEXT | JSON_VALUE}),
        ("POST", "/api/agent/conversations/{id}/claim", {}),
        ("POST", "/api/agent/conversations/{id}/resolve", {"outcome": TEXT | JSON_VALUE}),
        ("POST", "/api/agent/conversations/{id}/notes", {"text": TEXT | JSON_VALUE}),
        ("POST", "/api/agent/conversations/{id}/resolutions",
         {"action": TEXT | JSON_VALUE, "amount": JSON_VALUE, "fields": JSON_VALUE,
          "note": TEXT}),
        ("POST", "/api/agent/conversations/{id}/transfer",
         {"agent_id": JSON_VALUE, "to": TEXT | JSON_VALUE}),
        ("GET", "/api/agent/conversations/{id}", {}),
        ("GET", "/api/agent/queue", {}),
        ("GET", "/api/agent/audit?conversation_id={id}&limit={id}", {}),
    ]))
    return method, template, _body(draw, fields) if method == "POST" else None


@settings(max_examples=4000, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(request=agent_requests(), conversation=st.sampled_from(["waiting", "bot", "unknown", "weird"]),
       authorised=st.booleans())
def test_agent_api_never_fails_on_bad_input(
    server: Server, request: Any, conversation: str, authorised: bool
) -> None:
    method, template, body = request
    cid = {"waiting": server.waiting_id, "bot": server.conversation_id, "unknown": "nope",
           "weird": "%F0%9F%98%80%27%22"}[conversation]
    headers = {"Content-Type": "application/json"}
    if authorised:
        headers["Authorization"] = f"Bearer {server.agent_token}"
    path = template.replace("{id}", cid)
    answer = _call(server.port, method, path, body, headers)
    _check(method, path, answer)
    if not authorised and not path.startswith("/api/agent/login"):
        assert answer[0] == 401
