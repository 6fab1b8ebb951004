"""Retention and erasure on a year of data, on SQLite and PostgreSQL.

Fills a fresh database with bench/insights.py's year (100,000 conversations, a million
messages), then:
- times the supervisors' search for one customer by email (GET
  /api/agent/privacy/conversations reads every customer message: the slowest search);
- redacts everything older than 90 days as the gateway's sweep does, batch by batch,
  timing each batch (each one transaction: on SQLite, how long other writers wait at
  most) and the whole, and Rasa's forgetting through the real /forget call of the pool
  (answered here by a stand-in that deletes nothing, so the gateway's side is measured);
- checks that the year's insights are the same before and after, but for the comments
  and the unanswered questions' examples, which are what people wrote.

    .venv/gateway/bin/python bench/retention.py [--conversations 100000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import free_port, print_table, write_results  # noqa: E402
from bench.insights import EMAIL, PASSWORD, fill, postgres_url, year_of_rows  # noqa: E402
from handoff import keys  # noqa: E402
from handoff.app import create_app  # noqa: E402
from handoff.conversations.retention import RETENTION, expired, redact, sweep  # noqa: E402
from handoff.insights.report import Span, insights  # noqa: E402
from handoff.settings import Settings  # noqa: E402
from handoff.storage.models import utcnow  # noqa: E402
from tests.pg_server import start_postgres  # noqa: E402

RETENTION_DAYS = 90


def _without_text(report: Any) -> dict[str, Any]:
    plain = msgspec.to_builtins(report)
    del plain["csat"]["comments"]
    for topic in plain["unanswered"]["topics"]:
        del topic["examples"]
    return plain


async def _forgetting_rasa() -> tuple[web.AppRunner, str, list[int]]:
    calls: list[int] = []

    async def forget(request: web.Request) -> web.Response:
        senders = (await request.json())["senders"]
        calls.append(len(senders))
        return web.json_response({"forgotten": len(senders)})

    app = web.Application()
    app.router.add_post("/webhooks/baton/forget", forget)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}", calls


async def measure(url: str, rows: dict[type, list[dict[str, Any]]]) -> dict[str, Any]:
    filled = await fill(url, rows)
    rasa, rasa_url, calls = await _forgetting_rasa()
    settings = Settings(database_url=url, port=free_port(), rasa_url=rasa_url,
                        actions_url=rasa_url, internal_secret="bench", rate_per_address=0,
                        rate_per_conversation=0, retention_days=RETENTION_DAYS,
                        retention_sweep_seconds=0)
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.port).start()
    base = f"http://127.0.0.1:{settings.port}"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/agent/login",
                                 json={"email": EMAIL, "password": PASSWORD}) as login:
                headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
            searches = []
            for _ in range(3):
                started = time.perf_counter()
                async with http.get(f"{base}/api/agent/privacy/conversations"
                                    "?email=a@example.com", headers=headers) as found:
                    assert found.status == 200, await found.text()
                    matched = len((await found.json())["conversations"])
                searches.append(time.perf_counter() - started)
        today = utcnow().date()
        year = Span(today - dt.timedelta(days=364), today)
        async with app[keys.DB].read() as db:
            before = await insights(db, year)
        now = utcnow()
        idle_before = now - dt.timedelta(days=RETENTION_DAYS)
        batches, redacted, messages = [], 0, 0
        started = time.perf_counter()
        while True:
            batch_started = time.perf_counter()
            async with app[keys.DB].write() as db:
                done = await redact(db, await expired(db, idle_before), RETENTION, now,
                                    idle_before)
            if not done.conversations:
                break
            batches.append(time.perf_counter() - batch_started)
            redacted += len(done.conversations)
            messages += done.messages
        redacting = time.perf_counter() - started
        started = time.perf_counter()
        rest = await sweep(app, now)  # Rasa's forgetting, and what the loop left (nothing)
        forgetting = time.perf_counter() - started
        async with app[keys.DB].read() as db:
            after = await insights(db, year)
    finally:
        await runner.cleanup()
        await rasa.cleanup()
    batches.sort()
    return {
        "fill_s": round(filled, 1),
        "search_by_email_s": {"first": round(searches[0], 3), "best": round(min(searches), 3),
                              "matched": matched},
        "redacted": redacted, "messages_deleted": messages,
        "redact_s": round(redacting, 2), "batches": len(batches),
        "batch_s": {"p50": round(batches[len(batches) // 2], 3),
                    "max": round(batches[-1], 3)} if batches else None,
        "sweep_after_s": round(forgetting, 2), "left_by_the_loop": len(rest.redacted.conversations),
        "rasa_forgot": rest.forgotten, "forget_calls": len(calls),
        "figures_kept": _without_text(before) == _without_text(after),
        "comments": [len(before.csat.comments), len(after.csat.comments)],
    }


async def main(conversations: int, skip_postgres: bool) -> None:
    end = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    rows = year_of_rows(conversations, end)
    results: dict[str, Any] = {"conversations": conversations, "retention_days": RETENTION_DAYS}
    with tempfile.TemporaryDirectory() as directory:
        results["sqlite"] = await measure(f"sqlite+aiosqlite:///{directory}/retention.db", rows)
    if not skip_postgres:
        server = start_postgres()
        try:
            results["postgresql"] = await measure(await postgres_url(server), rows)
        finally:
            server.close()
    table = []
    for database in ("sqlite", "postgresql"):
        r = results.get(database)
        if r:
            table.append([database, f"{r['search_by_email_s']['first']:.3f}", f"{r['redacted']:,}",
                          f"{r['messages_deleted']:,}", f"{r['redact_s']:.1f}",
                          f"{r['batch_s']['p50']:.3f} / {r['batch_s']['max']:.3f}",
                          f"{r['sweep_after_s']:.1f}", str(r["figures_kept"])])
    print_table(f"Retention of {RETENTION_DAYS} days on a year ({conversations:,} conversations)",
                ["database", "search (s)", "redacted", "messages", "redact (s)",
                 "batch p50 / max (s)", "Rasa forget (s)", "figures kept"], table)
    print("results:", write_results("retention", results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.conversations, args.skip_postgres))
