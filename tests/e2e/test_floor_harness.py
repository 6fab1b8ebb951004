"""bench/floor_server.py, the relay benchmark's floor, in its own process: what it acks
is stored (once, under the acked seq) and forwarded to the holder's console alone.

The floor is the reference the relay's share is read against (bench/README.md); a floor
that skipped the commit or the forward would make the gateway look worse than it is.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from _common import own_server, wait_answering  # noqa: E402

CONVERSATIONS = 6
AGENTS = 2
MESSAGES_EACH = 5


@pytest.fixture(params=[False, True], ids=["own schema", "gateway sql"])
async def floor(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, Path, bool]]:
    gateway_sql = request.param
    database = tmp_path / "floor.db"
    with own_server(
        str(ROOT / "bench" / "floor_server.py"),
        *(["--gateway-sql", str(CONVERSATIONS)] if gateway_sql else []),
        str(database),
    ) as (_server, base):
        async with aiohttp.ClientSession() as http:
            await wait_answering(http, f"{base}/ready")
        yield base, database, gateway_sql


async def test_every_acked_message_is_stored_once_and_reaches_its_holder_alone(
    floor: tuple[str, Path, bool],
) -> None:
    base, database, _gateway_sql = floor
    ids = [f"floor-{i:05d}" for i in range(CONVERSATIONS)]
    holder = {c: i % AGENTS for i, c in enumerate(ids)}
    async with aiohttp.ClientSession() as http:
        consoles = [await http.ws_connect(f"{base}/a/{k}") for k in range(AGENTS)]
        widgets = {c: await http.ws_connect(f"{base}/w/{c}?agent={holder[c]}") for c in ids}

        async def send_all(conversation_id: str) -> list[dict]:
            ws, acks = widgets[conversation_id], []
            for n in range(MESSAGES_EACH):
                key = f"{conversation_id}-{n}"
                await ws.send_str(json.dumps({"type": "message", "text": f"text {key}",
                                              "client_message_id": key}))
                acks.append(await ws.receive_json(timeout=10))
            return acks

        acks = dict(zip(ids, await asyncio.gather(*(send_all(c) for c in ids))))
        received: list[list[dict]] = [[] for _ in range(AGENTS)]
        for index, console in enumerate(consoles):
            while len(received[index]) < CONVERSATIONS * MESSAGES_EACH // AGENTS:
                received[index].append(await console.receive_json(timeout=10))
        for ws in [*consoles, *widgets.values()]:
            await ws.close()

    for conversation_id, answers in acks.items():
        assert [(a["type"], a["client_message_id"], a["seq"]) for a in answers] == [
            ("ack", f"{conversation_id}-{n}", n + 1) for n in range(MESSAGES_EACH)
        ]
    for index, events in enumerate(received):
        mine = sorted(c for c in ids if holder[c] == index)
        assert sorted({e["conversation_id"] for e in events}) == mine
        for conversation_id in mine:
            assert [(e["message"]["seq"], e["message"]["text"]) for e in events
                    if e["conversation_id"] == conversation_id] == [
                (n + 1, f"text {conversation_id}-{n}") for n in range(MESSAGES_EACH)
            ]
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT conversation_id, seq, sender, text, client_message_id FROM messages "
            "ORDER BY conversation_id, seq"
        ).fetchall()
    assert rows == [
        (c, n + 1, "customer", f"text {c}-{n}", f"{c}-{n}")
        for c in sorted(ids) for n in range(MESSAGES_EACH)
    ]
