"""Conversations spread over several Rasa processes, each on one, moving when it dies
(issue 17, 2): real local servers for every process."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from handoff import keys
from handoff.assistant.pool import rendezvous
from handoff.settings import Settings

from .conftest import Customer, MakeClient
from .fake_rasa import FakeRasa
from .test_admission import UNAVAILABLE, _metric, _told


def _free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


def _name(url: str) -> str:
    return url.removeprefix("http://")


@asynccontextmanager
async def _rasa_on(port: int = 0) -> AsyncIterator[tuple[FakeRasa, str]]:
    fake = FakeRasa()
    server = TestServer(fake.app(), port=port)
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@asynccontextmanager
async def _silent_rasa() -> AsyncIterator[tuple[list[bytes], str]]:
    """Reads every request and never answers: a turn that may have been processed."""
    requests: list[bytes] = []

    async def read_and_hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        requests.append(await reader.read(65536))
        await reader.read()  # until the gateway gives up and closes
        writer.close()

    listening = await asyncio.start_server(read_and_hold, "127.0.0.1", 0)
    try:
        yield requests, f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"
    finally:
        listening.close()


async def _new_customer(client: TestClient) -> Customer:
    response = await client.post("/api/conversations")
    assert response.status == 201
    body = await response.json()
    return Customer(client, body["id"], body["token"])


async def _preferring(client: TestClient, url: str, count: int = 1) -> list[Customer]:
    """New conversations whose own process is `url`'s."""
    assert client.app is not None
    names = list(client.app[keys.RASA].processes)
    found: list[Customer] = []
    while len(found) < count:
        customer = await _new_customer(client)
        if rendezvous(names, customer.id)[0] == _name(url):
            found.append(customer)
    return found


def _senders(rasa: FakeRasa) -> list[str]:
    return [call["sender"] for call in rasa.calls]


def test_the_processes_come_from_baton_rasa_urls_or_else_the_one_rasa_url() -> None:
    assert Settings.from_env(
        {"BATON_RASA_URLS": "http://127.0.0.1:5005, http://127.0.0.1:5006/", "RASA_PORT": "7"}
    ).rasa_processes == ("http://127.0.0.1:5005", "http://127.0.0.1:5006")
    assert Settings.from_env({"RASA_PORT": "5007"}).rasa_processes == ("http://127.0.0.1:5007",)
    assert Settings.from_env({"BATON_RASA_URLS": " ", "RASA_URL": "http://rasa:5005"}
                             ).rasa_processes == ("http://rasa:5005",)


def test_a_process_leaving_moves_only_its_own_conversations() -> None:
    # Fixed ids, like the gateway's (uuid4 hex): the same outcome every run.
    ids = [uuid.UUID(int=i * 7919 + 1, version=4).hex for i in range(300)]
    three = {i: rendezvous(["a:1", "b:2", "c:3"], i)[0] for i in ids}
    two = {i: rendezvous(["a:1", "b:2"], i)[0] for i in ids}

    assert {i: p for i, p in three.items() if p != "c:3"} == {
        i: p for i, p in two.items() if three[i] != "c:3"
    }
    # Each of three processes has about a third. Exact: every gateway, of any version,
    # must choose alike, so a change to the hash shows here.
    assert [list(three.values()).count(p) for p in ("a:1", "b:2", "c:3")] == [100, 106, 94]


async def test_conversations_spread_over_two_processes_each_always_on_its_own(
    make_client: MakeClient, fake_rasa: tuple[FakeRasa, str]
) -> None:
    first, first_url = fake_rasa
    async with _rasa_on() as (second, second_url):
        client = await make_client(rasa_urls=(first_url, second_url))
        on_first = await _preferring(client, first_url, 4)
        on_second = await _preferring(client, second_url, 4)

        async def three_turns(customer: Customer) -> list[Any]:
            return [_told(await customer.say(f"turn {n}")) for n in range(3)]

        told = await asyncio.gather(*(three_turns(c) for c in on_first + on_second))

    assert told == [[("bot", [("bot", f"Answer to: turn {n}")]) for n in range(3)]] * 8
    assert sorted(_senders(first)) == sorted(c.id for c in on_first for _ in range(3))
    assert sorted(_senders(second)) == sorted(c.id for c in on_second for _ in range(3))


async def test_a_process_refusing_connections_sends_its_turns_to_the_other_at_once(
    make_client: MakeClient, fake_rasa: tuple[FakeRasa, str]
) -> None:
    first, first_url = fake_rasa
    gone_url = f"http://127.0.0.1:{_free_port()}"
    client = await make_client(rasa_urls=(first_url, gone_url))
    (moved,) = await _preferring(client, gone_url)
    (stayed,) = await _preferring(client, first_url)
    loop = asyncio.get_running_loop()

    started = loop.time()
    moved_told = _told(await moved.say("hello"))
    took = loop.time() - started
    stayed_told = _told(await stayed.say("hi"))

    assert took < 1
    assert (moved_told, stayed_told) == (
        ("bot", [("bot", "Answer to: hello")]), ("bot", [("bot", "Answer to: hi")])
    )
    assert _senders(first) == [moved.id, stayed.id]
    metrics = await (await client.get("/metrics")).text()
    assert [_metric(metrics, f'baton_rasa_process_down{{process="{_name(url)}"}}')
            for url in (first_url, gone_url)] == [0, 1]
    assert _metric(metrics, "baton_rasa_down") == 0
    assert _metric(metrics, 'baton_bot_turns_total{outcome="answered"}') == 2
    ready = await client.get("/readyz")
    assert (ready.status, await ready.json()) == (200, {
        "status": "ready",
        "checks": {"rasa": True, "actions": True, f"rasa {_name(first_url)}": True,
                   f"rasa {_name(gone_url)}": False},
    })

    # The process comes back on its port: once seen answering, its conversations return.
    port = int(gone_url.rsplit(":", 1)[1])
    async with _rasa_on(port) as (back, _):
        ready = await client.get("/readyz")
        assert (ready.status, (await ready.json())["checks"][f"rasa {_name(gone_url)}"]) == (
            200, True
        )
        assert _told(await moved.say("again")) == ("bot", [("bot", "Answer to: again")])
        assert _told(await stayed.say("again")) == ("bot", [("bot", "Answer to: again")])
    assert _senders(back) == [moved.id]
    assert _senders(first) == [moved.id, stayed.id, stayed.id]


async def test_a_turn_that_timed_out_after_being_sent_is_not_sent_again(
    make_client: MakeClient, fake_rasa: tuple[FakeRasa, str]
) -> None:
    first, first_url = fake_rasa
    async with _silent_rasa() as (requests, silent_url):
        client = await make_client(rasa_urls=(first_url, silent_url), rasa_timeout=0.5)
        (customer,) = await _preferring(client, silent_url)

        told = _told(await customer.say("how do I check in"))

    # Rasa may have answered it: sending it to the other could answer it twice.
    assert told == ("waiting", [("system", UNAVAILABLE)])
    turns = [r for r in requests if r.startswith(b"POST /webhooks/baton/webhook ")]
    assert len(turns) == 1 and b'"message":"how do I check in"' in turns[0]
    assert first.calls == []


async def test_a_turn_waiting_behind_one_that_found_its_process_down_goes_to_the_other(
    make_client: MakeClient, fake_rasa: tuple[FakeRasa, str]
) -> None:
    first, first_url = fake_rasa
    async with _rasa_on() as (second, second_url):
        client = await make_client(rasa_urls=(first_url, second_url), rasa_concurrency=1)
        sent, queued = await _preferring(client, second_url, 2)
        second.delay = 0.5
        answered = asyncio.ensure_future(sent.say("first"))
        await asyncio.sleep(0.1)
        waiting = asyncio.ensure_future(queued.say("second"))
        await asyncio.sleep(0.1)
        second.broken = True

        told = [_told(await answered), _told(await waiting)]

    # The first reached its process, which failed it: handed to people, never re-sent.
    # The second never left the queue: the other process answers it.
    assert told == [("waiting", [("system", UNAVAILABLE)]),
                    ("bot", [("bot", "Answer to: second")])]
    assert [(c["sender"], c["message"]) for c in second.calls] == [(sent.id, "first")]
    assert [(c["sender"], c["message"]) for c in first.calls] == [(queued.id, "second")]


async def test_with_every_process_down_the_customer_is_handed_to_people_at_once(
    make_client: MakeClient, fake_rasa: tuple[FakeRasa, str]
) -> None:
    urls = (f"http://127.0.0.1:{_free_port()}", f"http://127.0.0.1:{_free_port()}")
    client = await make_client(rasa_urls=urls)
    customer = await _new_customer(client)
    loop = asyncio.get_running_loop()

    started = loop.time()
    told = _told(await customer.say("how do I check in"))

    assert loop.time() - started < 1
    assert told == ("waiting", [("system", UNAVAILABLE)])
    metrics = await (await client.get("/metrics")).text()
    assert _metric(metrics, "baton_rasa_down") == 1
    assert [_metric(metrics, f'baton_rasa_process_down{{process="{_name(url)}"}}')
            for url in urls] == [1, 1]
    assert _metric(metrics, 'baton_bot_turns_total{outcome="bot_unavailable"}') == 1
    ready = await client.get("/readyz")
    assert (ready.status, await ready.json()) == (503, {
        "status": "unavailable",
        "checks": {"rasa": False, "actions": True, f"rasa {_name(urls[0])}": False,
                   f"rasa {_name(urls[1])}": False},
    })
