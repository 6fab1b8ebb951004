"""Which conversations' customers sounded frustrated, and with which signals, as it happens.

A customer message the NLU scored at or above the handoff policy's frustration threshold
(config.yml; tests/gateway/test_insights.py checks they agree), and a frustration
handoff (whose context adds the conversation's own signals: the same question again, the
bot failing twice), mark their conversation in frustration_signals, each signal once.
Recorded off the answer's path; the insights then count them with a GROUP BY instead of
reading a year of messages' NLU (bench/README.md, "Insights on a year of data").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from handoff.storage.db import Database
from handoff.storage.models import FrustrationSignal

FRUSTRATION_THRESHOLD = 0.6
# The row that marks the conversation itself, whatever its signals.
FRUSTRATED = ""


def frustrated_signals(frustration: Any, *, handed_off: bool = False) -> list[str] | None:
    """The named signals of a frustrated reading (its `frustration`); None when calm.
    A frustration handoff's context counts whatever its score."""
    if not isinstance(frustration, dict):
        return [] if handed_off else None
    score = frustration.get("score")
    if not handed_off and not (isinstance(score, (int, float)) and score >= FRUSTRATION_THRESHOLD):
        return None
    return sorted({s for s in frustration.get("signals") or [] if isinstance(s, str) and s})


async def record_frustration(
    database: Database, conversation_id: str, signals: list[str], at: dt.datetime
) -> None:
    rows = [{"conversation_id": conversation_id, "signal": signal[:40], "at": at}
            for signal in [FRUSTRATED, *signals]]
    async with database.write() as db:
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        await db.execute(dialect.insert(FrustrationSignal).values(rows).on_conflict_do_nothing())
