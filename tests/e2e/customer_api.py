"""The customer API as the end-to-end tests call it: a conversation, a message, readiness."""

from __future__ import annotations

from typing import Any

import aiohttp


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
