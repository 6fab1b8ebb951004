"""The internal hops need the launcher's secret: gateway -> Rasa's channel -> action server.

Against the session's real processes, and each process started without the secret.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ..conftest import ROOT, RunningBaton, Stack, new_stack

sys.path.insert(0, str(ROOT / "bench"))

from _common import BenchStack  # noqa: E402

pytestmark = pytest.mark.e2e

WRONG = {"Authorization": "Bearer not-the-secret"}

ACTION_CALL = {
    "next_action": "action_out_of_scope",
    "sender_id": "internal-auth",
    "tracker": {
        "sender_id": "internal-auth",
        "slots": {},
        "latest_message": {},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    },
    "domain": {},
    "version": "3.6.21",
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


def _cases(stack: Stack) -> list[tuple[dict[str, str], int]]:
    return [({}, 401), (WRONG, 401), (stack.internal_auth(), 200)]


async def _post(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, Any]:
    async with http.post(url, json=body, headers=headers) as response:
        return response.status, await response.json()


async def test_rasa_channel_webhook_needs_the_secret(
    baton: RunningBaton, http: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{baton.stack.ports.rasa}/webhooks/baton/webhook"
    answers = []
    for headers, _ in _cases(baton.stack):
        body = {"sender": uuid.uuid4().hex, "message": "hello", "mode": "bot",
                "message_id": uuid.uuid4().hex, "metadata": {}}
        answers.append(await _post(http, url, body, headers))

    assert [status for status, _ in answers] == [status for _, status in _cases(baton.stack)]
    assert answers[0][1] == answers[1][1] == {"error": "unauthorized"}
    assert answers[2][1]["nlu"]["intent"]["name"] == "greet"
    assert answers[2][1]["messages"] and answers[2][1]["handoff"] is None


async def test_rasa_channel_state_needs_the_secret(
    baton: RunningBaton, http: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{baton.stack.ports.rasa}/webhooks/baton/state"
    answers = [
        await _post(http, url, {"sender": uuid.uuid4().hex, "mode": "bot"}, headers)
        for headers, _ in _cases(baton.stack)
    ]

    assert answers == [(401, {"error": "unauthorized"}), (401, {"error": "unauthorized"}),
                       (200, {"paused": False})]


async def test_action_server_webhook_needs_the_secret(
    baton: RunningBaton, http: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{baton.stack.ports.actions}/webhook"
    answers = [await _post(http, url, ACTION_CALL, headers) for headers, _ in _cases(baton.stack)]

    assert [status for status, _ in answers] == [401, 401, 200]
    assert answers[0][1] == answers[1][1] == {"error": "unauthorized"}
    assert answers[2][1]["events"] == []
    assert [r["response"] for r in answers[2][1]["responses"]] == ["utter_out_of_scope"]


async def test_health_routes_stay_open(baton: RunningBaton, http: aiohttp.ClientSession) -> None:
    for url in (f"http://127.0.0.1:{baton.stack.ports.rasa}/webhooks/baton/",
                f"http://127.0.0.1:{baton.stack.ports.actions}/health"):
        async with http.get(url) as response:
            assert (response.status, await response.json()) == (200, {"status": "ok"}), url


class WithoutSecret(Stack):
    """The launcher, but the processes' environment has no BATON_INTERNAL_SECRET at all."""

    def env(self) -> dict[str, str]:
        env = super().env()
        del env["BATON_INTERNAL_SECRET"]
        return env


@pytest.mark.parametrize(
    ("name", "unset", "message"),
    [
        ("actions", True, "BATON_INTERNAL_SECRET is not set"),
        ("actions", False, "BATON_INTERNAL_SECRET is not set"),
        # endpoints.yml refers to it: Rasa's own check comes first.
        ("rasa", True, "Please make sure to also set these environment variables: "
                       "'['${BATON_INTERNAL_SECRET}']'"),
        # Set but blank: endpoints.yml reads "Bearer ", the channel refuses to be built.
        ("rasa", False, "BATON_INTERNAL_SECRET is not set"),
        ("gateway", True, "BATON_INTERNAL_SECRET is not set"),
        ("gateway", False, "BATON_INTERNAL_SECRET is not set"),
    ],
)
def test_no_process_starts_without_the_secret(
    tmp_path: Path, name: str, unset: bool, message: str
) -> None:
    if unset:
        stack: Stack = WithoutSecret(**vars(new_stack(tmp_path)))
    else:
        stack = new_stack(tmp_path, extra_env={"BATON_INTERNAL_SECRET": " "})
    getattr(stack, f"start_{name}")()
    try:
        returncode = stack.processes[name].wait(timeout=120)
    except subprocess.TimeoutExpired:
        stack.stop()
        raise
    log = (tmp_path / "logs" / f"{name}.log").read_text()

    assert returncode == 1, log[-2000:]
    assert message in log


def test_the_launcher_gives_every_process_one_secret(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.delenv("BATON_INTERNAL_SECRET", raising=False)
    first, second = new_stack(tmp_path), new_stack(tmp_path)
    monkeypatch.setenv("BATON_INTERNAL_SECRET", "set-by-the-operator")
    chosen = new_stack(tmp_path)

    assert len(first.internal_secret) >= 32 and first.internal_secret != second.internal_secret
    assert first.env()["BATON_INTERNAL_SECRET"] == first.internal_secret
    assert chosen.internal_secret == "set-by-the-operator"
    assert chosen.env()["BATON_INTERNAL_SECRET"] == "set-by-the-operator"


@pytest.mark.parametrize("launcher", [Stack, BenchStack], ids=["make run", "bench"])
def test_rasa_is_started_without_its_http_api(tmp_path: Path, launcher: type[Stack]) -> None:
    started: dict[str, list[str]] = {}

    class Recording(launcher):  # type: ignore[misc,valid-type]
        def _start(self, name: str, argv: list[str]) -> None:
            started[name] = argv

    stack = new_stack(tmp_path)
    Recording(stack.ports, stack.var_dir, stack.database_url).start_rasa()

    # Baton reaches Rasa only through its channel. Were the API ever needed, it would
    # have to come with --auth-token (and docs/reliability.md's Access table changed).
    assert "--enable-api" not in started["rasa"]
