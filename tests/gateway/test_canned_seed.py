"""The demo company's canned responses (issue #15, point 8): added once to a database that
never had any, by `ensure-agent`, and the supervisors' to edit afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from handoff.agent_tools.canned_seed import load_canned, seed_canned
from handoff.storage.db import upgrade_async
from handoff.settings import ROOT

from .test_resolutions import add_agent

DEMO = ["/bags", "/checkin", "/rebook", "/refund", "/thanks"]


async def test_the_demo_responses_are_added_once_and_stay_the_supervisors(
    client: TestClient, database_url: str, agent_headers: dict[str, str]
) -> None:
    assert await seed_canned(database_url) == DEMO
    listed = (await (await client.get("/api/agent/canned", headers=agent_headers)).json())["canned"]
    assert [(c["shortcut"], c["title"]) for c in listed] == [
        ("/bags", "Baggage allowance"), ("/checkin", "Online check-in"), ("/rebook", "Rebooking"),
        ("/refund", "Refund times"), ("/thanks", "Thanks and goodbye"),
    ]
    assert listed[0]["text"].startswith("Your fare includes one cabin bag of up to 8 kg")
    # Run again (every `make run` does): nothing is added twice.
    assert await seed_canned(database_url) == []

    supervisor = await add_agent(client, "Ines", "supervisor")
    changed = await client.patch(f"/api/agent/canned/{listed[0]['id']}", headers=supervisor,
                                 json={"text": "Two checked bags on our flights to Lisbon."})
    assert changed.status == 200
    for item in listed:
        assert (await client.delete(f"/api/agent/canned/{item['id']}", headers=supervisor)).status == 200
    # The team deleted them all: they do not come back.
    assert await seed_canned(database_url) == []
    assert (await (await client.get("/api/agent/canned", headers=agent_headers)).json()) == {"canned": []}
    audit = (await (await client.get("/api/agent/audit", headers=supervisor)).json())["entries"]
    assert [(e["action"], e["agent"]) for e in audit][0] == ("canned_seeded", None)
    assert audit[0]["details"] == {"shortcuts": DEMO}


async def test_a_team_that_wrote_its_own_gets_none(
    client: TestClient, database_url: str
) -> None:
    supervisor = await add_agent(client, "Ines", "supervisor")
    own = await client.post("/api/agent/canned", headers=supervisor,
                            json={"shortcut": "/hi", "title": "Hello", "text": "Hello!"})
    assert own.status == 201
    assert await seed_canned(database_url) == []


@pytest.mark.parametrize(
    ("canned", "problem"),
    [
        ([{"shortcut": "/bags", "title": "Bags"}], "canned[0] needs a shortcut, a title and a text"),
        ([{"shortcut": "bags", "title": "Bags", "text": "x"}], "canned[0]: 'bags' is not a shortcut such as /bags"),
        ([{"shortcut": "/a", "title": "A", "text": "x"}, {"shortcut": "/a", "title": "B", "text": "y"}],
         "a shortcut is given twice"),
    ],
)
def test_a_broken_file_says_what_is_wrong(tmp_path: Path, canned: list[object], problem: str) -> None:
    path = tmp_path / "canned.json"
    path.write_text(json.dumps({"canned": canned}))
    with pytest.raises(ValueError) as raised:
        load_canned(path)
    assert str(raised.value) == f"{path}: {problem}"


def test_the_shipped_file_is_valid() -> None:
    assert [item["shortcut"] for item in load_canned()] == DEMO


async def test_ensure_agent_adds_them_on_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    await upgrade_async(url)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url,
           "BATON_AGENT_EMAIL": "ops@example.com", "BATON_AGENT_PASSWORD": "a long password"}

    def ensure_agent() -> str:
        done = subprocess.run([sys.executable, "-m", "handoff", "ensure-agent"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert ensure_agent() == (
        "Canned responses added: /bags /checkin /rebook /refund /thanks\n"
        "Agent: ops@example.com (password from BATON_AGENT_PASSWORD)\n"
    )
    assert ensure_agent() == "Agent: ops@example.com (password from BATON_AGENT_PASSWORD)\n"
