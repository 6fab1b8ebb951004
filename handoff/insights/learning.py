"""The learning loop: supervisors decide what an unanswered topic is, and the topics
assigned to an intent become Rasa NLU training data.

A decision is "assign" (to one of the bot's intents: every message of the topic is an
example of it), "new_topic" (named, for the team to write an answer and an intent for),
"ignore", or "reopen". Each is audited. After each one the training data of every
assigned topic is written to Settings.learned_file (var/learned_nlu.yml), which
scripts/train.py adds to data/ (so `make train` retrains with it), and is downloadable
from GET /api/agent/insights/training-data.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections import defaultdict
from pathlib import Path

from aiohttp import web
from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import keys
from handoff.storage.audit import record_audit
from handoff.storage.models import (
    TOPIC_ASSIGNED,
    Agent,
    Message,
    UnansweredMessage,
    UnansweredTopic,
    utcnow,
)

ASSIGNED, NEW_TOPIC, IGNORED = TOPIC_ASSIGNED, "new_topic", "ignored"
LABELS = Path(__file__).resolve().parent.parent / "static" / "labels.json"
# Intents that are no topic of their own: what the bot answers when it cannot.
NOT_ASSIGNABLE = frozenset({"out_of_scope", "nlu_fallback", "human_handoff"})


class DecisionError(ValueError):
    """A decision that cannot be taken; the message says why (a 400)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def assignable_intents(labels: Path = LABELS) -> tuple[str, ...]:
    """The bot's intents a topic may be assigned to (every intent has a label:
    tests/bot/test_labels.py)."""
    names = json.loads(labels.read_text(encoding="utf-8"))["intents"]
    return tuple(sorted(name for name in names if name not in NOT_ASSIGNABLE))


async def decide(
    db: AsyncSession, topic_id: int, agent: Agent, decision: str,
    intent: str | None = None, name: str | None = None,
) -> UnansweredTopic | None:
    """The topic with the decision taken (None: no such topic)."""
    if decision == "assign":
        if not intent:
            raise DecisionError("'intent' is required to assign a topic", "intent")
        if intent not in assignable_intents():
            raise DecisionError(f"'{intent}' is not one of the bot's intents", "intent")
    elif decision == "new_topic":
        name = " ".join((name or "").split())
        if not name:
            raise DecisionError("'name' is required for a new topic", "name")
    elif decision not in ("ignore", "reopen"):
        raise DecisionError(
            "'decision' must be one of: assign, new_topic, ignore, reopen", "decision"
        )
    topic = await db.get(UnansweredTopic, topic_id, with_for_update=True)
    if topic is None:
        return None
    topic.decision = {"assign": ASSIGNED, "new_topic": NEW_TOPIC, "ignore": IGNORED}.get(decision)
    topic.intent = intent if decision == "assign" else None
    topic.name = name if decision == "new_topic" else None
    topic.decided_by_id = agent.id if topic.decision else None
    topic.decided_at = utcnow() if topic.decision else None
    if topic.decision != ASSIGNED:
        # Texts kept only as training data (handoff.conversations.retention) go with it.
        await db.execute(
            update(UnansweredMessage).where(UnansweredMessage.topic_id == topic_id)
            .values(text=None).execution_options(synchronize_session=False)
        )
    await record_audit(db, f"topic_{decision}", agent=agent, details={
        "topic_id": topic_id,
        **({"intent": intent} if decision == "assign" else {}),
        **({"name": name} if decision == "new_topic" else {}),
    })
    return topic


def _example(text: str) -> str:
    """A message as one line of a Rasa examples list. Brackets would read as an entity
    annotation ("[Paris](place)"), so they become parentheses."""
    text = " ".join(text.split())
    return re.sub(r"[\[\]{}]", lambda m: "(" if m.group() in "[{" else ")", text)


async def learned_examples(db: AsyncSession) -> dict[str, list[str]]:
    """Every message of every assigned topic, by intent, each once, in order: from the
    transcript, or the text kept when retention deleted that."""
    rows = await db.execute(
        select(UnansweredTopic.intent, func.coalesce(Message.text, UnansweredMessage.text))
        .join(UnansweredMessage, UnansweredMessage.topic_id == UnansweredTopic.id)
        .outerjoin(Message, and_(Message.conversation_id == UnansweredMessage.conversation_id,
                                 Message.seq == UnansweredMessage.seq))
        .where(UnansweredTopic.decision == ASSIGNED)
    )
    examples: dict[str, set[str]] = defaultdict(set)
    for intent, text in rows:
        line = _example(text or "")
        if line:
            examples[intent].add(line)
    return {intent: sorted(examples[intent]) for intent in sorted(examples)}


def as_training_data(examples: dict[str, list[str]]) -> str:
    """Rasa NLU YAML (data/nlu's format)."""
    lines = [
        "# Written by Baton's gateway from the unanswered questions supervisors assigned",
        "# to intents (handoff/insights/learning.py); scripts/train.py trains with it.",
        'version: "3.1"',
        "nlu:" if examples else "nlu: []",
    ]
    for intent, texts in examples.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


async def write_learned(path: Path, text: str) -> None:
    """Replaces the file at once (a reader sees the old one or the new one)."""
    await asyncio.to_thread(_write, path, text)


async def rewrite_learned(app: web.Application) -> int:
    """Writes the training data of every assigned topic to Settings.learned_file, one
    writer at a time so the file ends with the latest; how many examples it has."""
    async with app[keys.LEARNED_WRITES]:
        async with app[keys.DB].read() as db:
            examples = await learned_examples(db)
        await write_learned(app[keys.SETTINGS].learned_file, as_training_data(examples))
    return sum(len(texts) for texts in examples.values())
