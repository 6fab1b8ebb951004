"""The API as the end-to-end tests call it: a conversation, a message, readiness, and a
supervisor's session."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from ..conftest import RunningBaton


async def supervisor_headers(baton: RunningBaton, http: aiohttp.ClientSession) -> dict[str, str]:
    """A new supervisor of the running Baton (ensure-agent), signed in."""
    email, password = f"lead-{uuid.uuid4().hex[:6]}@baton.example", "supervisor-pass-1"
    baton.stack.ensure_agent(email, password, "Lead", role="supervisor")
    async with http.post(f"{baton.base_url}/api/agent/login",
                         json={"email": email, "password": password}) as login:
        assert login.status == 200, await login.text()
        return {"Authorization": f"Bearer {(await login.json())['token']}"}


class Api:
    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http = http
        self.base = base

    async def conversation(self) -> tuple[str, dict[str, str]]:
        body = await (await self.http.post(f"{self.base}/api/conversations")).json()
        return body["id"], {"Authorization": f"Bearer {body['token']}"}

    async def say(self, cid: str, auth: dict[str, str], text: str) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.base}/api/conversations/{cid}/messages", json={"text": text}, headers=auth
        )
        assert response.status == 200, await response.text()
        return await response.json()

    async def ready(self) -> tuple[int, dict[str, Any]]:
        response = await self.http.get(f"{self.base}/readyz")
        return response.status, await response.json()
