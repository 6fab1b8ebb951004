"""The learning loop: a supervisor decides what an unanswered topic is; assigned topics'
messages become Rasa NLU training data (tests/bot/test_learned_training.py trains on it)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from handoff import keys
from handoff.insights import learning
from handoff.storage.models import UnansweredMessage

from .conftest import MakeClient
from .fake_rasa import FakeRasa
from .test_misses import direction, new_customer, pack
from .test_resolutions import add_agent

FIXTURE = Path(__file__).resolve().parents[1] / "bot" / "fixtures" / "learned_nlu.yml"
SPORTS = ("do you take surfboards", "what about my golf clubs", "can I check in my surfboard")
LOUNGE = "where is the lounge"


async def asked(client: TestClient, rasa: FakeRasa, texts: dict[str, Any]) -> None:
    """Each text from a new customer, answered out of scope; back once all are recorded."""
    rasa.misses.update({text: pack(vector) for text, vector in texts.items()})
    for text in texts:
        await (await new_customer(client)).say(text)
    for _ in range(200):
        async with client.app[keys.DB].read() as db:
            if await db.scalar(select(func.count()).select_from(UnansweredMessage)) >= len(rasa.misses):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the misses were not recorded")


async def topic_of(client: TestClient, supervisor: dict[str, str], text: str) -> dict[str, Any]:
    report = await (await client.get("/api/agent/insights?days=1", headers=supervisor)).json()
    return next(t for t in report["unanswered"]["topics"] if text in t["examples"])


async def decide(client: TestClient, headers: dict[str, str], topic: Any, **body: Any) -> tuple[int, Any]:
    response = await client.post(f"/api/agent/insights/topics/{topic}/decision", json=body,
                                 headers=headers)
    return response.status, await response.json()


async def test_an_assigned_topic_becomes_training_data_in_the_learned_file(
    make_client: MakeClient, rasa: FakeRasa, tmp_path: Path
) -> None:
    learned = tmp_path / "var" / "learned_nlu.yml"
    client = await make_client(learned_file=learned)
    sports = [direction((0, 0.9), (1, 0.3)), direction((0, 0.8), (1, 0.5)), direction((0, 0.85), (1, 0.4))]
    await asked(client, rasa, {**dict(zip(SPORTS, sports)), LOUNGE: direction((7, 0.9), (8, 0.3))})
    supervisor = await add_agent(client, "Ines", "supervisor")
    topic = await topic_of(client, supervisor, SPORTS[0])
    assert sorted(topic["examples"]) == sorted(SPORTS) and topic["decision"] is None

    status, decided = await decide(client, supervisor, topic["topic_id"], decision="assign",
                                   intent="baggage_allowance")

    assert status == 200, decided
    assert (decided["decision"], decided["intent"], decided["name"]) == ("assigned", "baggage_allowance", None)
    assert decided["decided_by"]["name"] == "Ines" and decided["training_examples"] == 3
    # Exactly the file the bot's test trains on.
    assert learned.read_text() == FIXTURE.read_text()
    download = await client.get("/api/agent/insights/training-data", headers=supervisor)
    assert download.status == 200
    assert download.content_type == "application/yaml"
    assert download.headers["Content-Disposition"] == 'attachment; filename="learned_nlu.yml"'
    assert await download.text() == FIXTURE.read_text()
    shown = await topic_of(client, supervisor, SPORTS[0])
    assert (shown["decision"], shown["intent"]) == ("assigned", "baggage_allowance")


async def test_new_topic_ignore_and_reopen_are_audited_and_teach_nothing(
    make_client: MakeClient, rasa: FakeRasa, tmp_path: Path
) -> None:
    learned = tmp_path / "learned_nlu.yml"
    client = await make_client(learned_file=learned)
    await asked(client, rasa, {LOUNGE: direction((7, 0.9), (8, 0.3)),
                               "[urgent] is there wifi {on board}": direction((3, 0.9))})
    supervisor = await add_agent(client, "Ines", "supervisor")
    lounge = (await topic_of(client, supervisor, LOUNGE))["topic_id"]
    wifi = (await topic_of(client, supervisor, "[urgent] is there wifi {on board}"))["topic_id"]

    status, named = await decide(client, supervisor, lounge, decision="new_topic",
                                 name="  Airport   lounges ")
    assert status == 200
    assert (named["decision"], named["intent"], named["name"]) == ("new_topic", None, "Airport lounges")
    assert named["training_examples"] == 0
    assert (await decide(client, supervisor, lounge, decision="ignore"))[1]["decision"] == "ignored"
    reopened = (await decide(client, supervisor, lounge, decision="reopen"))[1]
    assert (reopened["decision"], reopened["decided_by"], reopened["decided_at"]) == (None, None, None)
    assert learned.read_text() == (
        "# Written by Baton's gateway from the unanswered questions supervisors assigned\n"
        "# to intents (handoff/insights/learning.py); scripts/train.py trains with it.\n"
        'version: "3.1"\nnlu: []\n'
    )
    # Brackets would read as entity annotations in Rasa's examples.
    assert (await decide(client, supervisor, wifi, decision="assign", intent="travel_suggestion"))[0] == 200
    assert learned.read_text().splitlines()[-3:] == [
        "- intent: travel_suggestion", "  examples: |", "    - (urgent) is there wifi (on board)",
    ]
    log = await (await client.get("/api/agent/audit", headers=supervisor)).json()
    assert [(e["action"], e["details"]) for e in log["entries"] if e["action"].startswith("topic_")] == [
        ("topic_new_topic", {"topic_id": lounge, "name": "Airport lounges"}),
        ("topic_ignore", {"topic_id": lounge}),
        ("topic_reopen", {"topic_id": lounge}),
        ("topic_assign", {"topic_id": wifi, "intent": "travel_suggestion"}),
    ]


async def test_wrong_decisions_are_refused_and_change_nothing(
    client: TestClient, rasa: FakeRasa, agent_headers: dict[str, str]
) -> None:
    await asked(client, rasa, {LOUNGE: direction((7, 0.9), (8, 0.3))})
    supervisor = await add_agent(client, "Ines", "supervisor")
    topic = (await topic_of(client, supervisor, LOUNGE))["topic_id"]
    refused = {
        (403, "only a supervisor may do this", None): (agent_headers, topic, {"decision": "ignore"}),
        (404, "topic not found", None): (supervisor, 999, {"decision": "ignore"}),
        (404, "topic not found", "x"): (supervisor, "abc", {"decision": "ignore"}),
        (400, "'decision' must be one of: assign, new_topic, ignore, reopen", "decision"):
            (supervisor, topic, {"decision": "delete"}),
        (400, "'intent' is required to assign a topic", "intent"): (supervisor, topic, {"decision": "assign"}),
        (400, "'nope' is not one of the bot's intents", "intent"):
            (supervisor, topic, {"decision": "assign", "intent": "nope"}),
        (400, "'out_of_scope' is not one of the bot's intents", "intent"):
            (supervisor, topic, {"decision": "assign", "intent": "out_of_scope"}),
        (400, "'name' is required for a new topic", "name"): (supervisor, topic, {"decision": "new_topic", "name": "  "}),
    }
    for (status, message, field), (headers, target, body) in refused.items():
        got, answer = await decide(client, headers, target, **body)
        assert (got, answer["error"]["message"]) == (status, message), body
        if field and status == 400:
            assert answer["error"]["field"] == field
    unknown = await client.post(f"/api/agent/insights/topics/{topic}/decision",
                                json={"decision": "ignore", "why": "x"}, headers=supervisor)
    assert unknown.status == 400
    assert (await topic_of(client, supervisor, LOUNGE))["decision"] is None
    assert (await client.get("/api/agent/insights/training-data", headers=agent_headers)).status == 403


def test_the_console_offers_the_intents_the_gateway_accepts() -> None:
    """console/learning.js keeps its own copy of the intents no topic is assigned to."""
    script = (Path(learning.__file__).parent.parent / "static" / "console" / "learning.js").read_text()
    copy = re.search(r"var NOT_ASSIGNABLE = \[([^\]]*)\];", script)
    assert copy is not None
    assert {name.strip().strip('"') for name in copy.group(1).split(",")} == learning.NOT_ASSIGNABLE
