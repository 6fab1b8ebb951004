"""POST /webhooks/baton/forget: the gateway's retention and erasure delete Rasa's trackers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, AsyncContextManager, Callable, Iterator

import aiohttp
import pytest
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import (
    AwaitableTrackerStore,
    FailSafeTrackerStore,
    InMemoryTrackerStore,
    RedisTrackerStore,
    SQLTrackerStore,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.forgetting import CannotForget, forget, stores_of
from tests.bot.test_channel import SECRET, FakeAgent, domain, http, serve  # noqa: F401
from tests.bot.builders import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))  # tests/redis_server.py starts Debian's Redis
from tests.redis_server import RedisServer  # noqa: E402


async def _saved(store: Any, sender: str) -> None:
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(UserUttered("my booking is QX7P2L"))
    await store.save(tracker)


async def test_forget_deletes_the_named_trackers_and_no_other(
    domain: Domain,  # noqa: F811
    serve: Callable[..., AsyncContextManager[str]],  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
) -> None:
    agent = FakeAgent(domain)
    for sender in ("c1", "c2", "c3"):
        await _saved(agent.tracker_store, sender)
    headers = {"Authorization": f"Bearer {SECRET}"}

    async with serve(agent, SECRET) as url:
        async with http.post(f"{url}/forget", json={"senders": ["c1", "c3", "never-seen"]},
                             headers=headers) as response:
            reply = (response.status, await response.json())

    assert reply == (200, {"forgotten": 3})
    assert sorted(agent.tracker_store.store) == ["c2"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"senders": "c1"}, "'senders' must be a list of non-empty strings"),
        ({"senders": ["c1", ""]}, "'senders' must be a list of non-empty strings"),
        ({"sender": "c1"}, "'senders' must be a list of non-empty strings"),
        ({"senders": [f"c{i}" for i in range(1001)]}, "at most 1000 senders at once"),
    ],
)
async def test_forget_refuses_a_bad_body_and_deletes_nothing(
    domain: Domain,  # noqa: F811
    serve: Callable[..., AsyncContextManager[str]],  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
    body: dict[str, Any],
    error: str,
) -> None:
    agent = FakeAgent(domain)
    await _saved(agent.tracker_store, "c1")
    async with serve(agent, SECRET) as url:
        async with http.post(f"{url}/forget", json=body,
                             headers={"Authorization": f"Bearer {SECRET}"}) as response:
            reply = (response.status, await response.json())
    assert reply == (400, {"error": error})
    assert list(agent.tracker_store.store) == ["c1"]


@pytest.mark.parametrize("authorization", [None, "Bearer not-the-secret"])
async def test_forget_needs_the_internal_secret(
    domain: Domain,  # noqa: F811
    serve: Callable[..., AsyncContextManager[str]],  # noqa: F811
    http: aiohttp.ClientSession,  # noqa: F811
    authorization: str | None,
) -> None:
    agent = FakeAgent(domain)
    await _saved(agent.tracker_store, "c1")
    headers = {"Authorization": authorization} if authorization else {}
    async with serve(agent, SECRET) as url:
        async with http.post(f"{url}/forget", json={"senders": ["c1"]},
                             headers=headers) as response:
            assert response.status == 401
    assert list(agent.tracker_store.store) == ["c1"]


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.close()


async def test_forget_deletes_from_redis_inside_rasas_wrappers(
    domain: Domain, redis: RedisServer  # noqa: F811
) -> None:
    redis_store = RedisTrackerStore(domain, host="127.0.0.1", port=redis.port, db=0)
    agent = FakeAgent(domain)
    # As Rasa builds it from endpoints.yml: awaitable, fail-safe, with an in-memory fallback
    # that holds what was saved while Redis was down.
    fail_safe = FailSafeTrackerStore(redis_store)
    agent.tracker_store = AwaitableTrackerStore(fail_safe)
    agent.lock_store = InMemoryLockStore()
    for sender in ("c1", "c2"):
        await _saved(agent.tracker_store, sender)
    await _saved(fail_safe.fallback_tracker_store, "c1")
    assert stores_of(agent.tracker_store) == [redis_store, fail_safe.fallback_tracker_store]

    await forget(agent, ["c1"])

    assert sorted(redis_store.red.keys("*")) == ["tracker:c2"]
    assert list(fail_safe.fallback_tracker_store.store) == []


async def test_a_store_it_cannot_delete_from_is_refused_before_anything_goes(
    domain: Domain, tmp_path: Path  # noqa: F811
) -> None:
    agent = FakeAgent(domain)
    memory = InMemoryTrackerStore(domain)
    await _saved(memory, "c1")
    sql = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "trackers.db"))
    agent.tracker_store = AwaitableTrackerStore(FailSafeTrackerStore(sql, fallback_tracker_store=memory))
    with pytest.raises(CannotForget, match="cannot delete trackers from a SQLTrackerStore"):
        await forget(agent, ["c1"])
    assert list(memory.store) == ["c1"]
