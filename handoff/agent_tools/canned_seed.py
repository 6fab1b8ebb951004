"""The demo company's canned responses, for a database that never had any.

`python -m handoff ensure-agent` (which `make run` calls on every start) adds the
responses in config/canned_responses.json when no canned response exists and none ever
did: the audit log records every change to them, so a team that deleted them all does
not get them back. Supervisors edit them in the console like any other.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from handoff.agent_tools.resolutions import SHORTCUT
from handoff.storage.audit import record_audit
from handoff.storage.db import make_engine, make_sessionmaker
from handoff.storage.models import AuditEntry, CannedResponse, utcnow
from handoff.settings import ROOT

CANNED_FILE = ROOT / "config" / "canned_responses.json"


def load_canned(path: Path = CANNED_FILE) -> list[dict[str, str]]:
    """The file's responses, checked as the console's editor checks them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    responses: list[dict[str, str]] = []
    for index, item in enumerate(data.get("canned") or []):
        where = f"{path}: canned[{index}]"
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key), str) and item[key].strip()
            for key in ("shortcut", "title", "text")
        ):
            raise ValueError(f"{where} needs a shortcut, a title and a text")
        if not SHORTCUT.fullmatch(item["shortcut"]):
            raise ValueError(f"{where}: {item['shortcut']!r} is not a shortcut such as /bags")
        responses.append({key: item[key].strip() for key in ("shortcut", "title", "text")})
    if len({item["shortcut"] for item in responses}) != len(responses):
        raise ValueError(f"{path}: a shortcut is given twice")
    return responses


async def seed_canned(database_url: str, path: Path = CANNED_FILE) -> list[str]:
    """Adds the file's responses unless canned responses exist or ever existed; returns
    the shortcuts added (none when it left the database as it was)."""
    responses = load_canned(path)
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as db:
            existing = await db.scalar(select(func.count()).select_from(CannedResponse))
            touched = await db.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.like("canned\\_%", escape="\\"))
            )
            if existing or touched:
                return []
            now = utcnow()
            for item in responses:
                db.add(CannedResponse(**item, created_at=now, updated_at=now))
            shortcuts: list[Any] = [item["shortcut"] for item in responses]
            await record_audit(db, "canned_seeded", agent=None, details={"shortcuts": shortcuts})
            return shortcuts
    finally:
        await engine.dispose()
