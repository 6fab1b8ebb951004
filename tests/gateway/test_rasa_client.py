"""The gateway's client of Rasa's channel (handoff.assistant.rasa_client; the bot turn's
POST on handoff.assistant.rasa_http), against servers that answer byte for byte as scripted."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson
import pytest

from handoff.assistant import rasa_client
from handoff.assistant.rasa_client import BotMessage, BotUnavailable, RasaClient, rasa_session

from .scripted_http import Server, answer, serving, sized

TURN = b'{"messages": [{"text": "Hi there"}], "nlu": {"intent": {"name": "greet"}}}'


@asynccontextmanager
async def client_of(url: str, secret: str = "", timeout: float = 5) -> AsyncIterator[RasaClient]:
    async with rasa_session(timeout) as session:
        yield RasaClient(session, url, url, secret, timeout)


async def send(rasa: RasaClient, text: str = "hello") -> list[BotMessage]:
    return (await rasa.send("c-1", text, "m-1", "bot")).messages


async def test_a_turn_carries_the_secret_and_the_message_and_reuses_its_connection() -> None:
    async with serving(lambda _: sized(TURN)) as (server, url), client_of(url, "s3cret") as rasa:
        turn = await rasa.send("c-1", "hello", "m-1", "bot")
        assert await send(rasa, "again") == [BotMessage(text="Hi there")]
    assert (turn.messages, turn.nlu, turn.paused, turn.handoff) == (
        [BotMessage(text="Hi there")], {"intent": {"name": "greet"}}, False, None,
    )
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /webhooks/baton/webhook HTTP/1.1"
    assert {"Authorization: Bearer s3cret", "Content-Type: application/json"} <= set(lines)
    # Sent just now: no metadata, Rasa counts dates from its own clock (bot/nlu/dates.py).
    assert orjson.loads(body) == {
        "sender": "c-1", "message": "hello", "message_id": "m-1", "mode": "bot",
    }
    assert server.connections == 1


async def test_a_message_that_waited_carries_when_it_was_sent_in_the_company_zone() -> None:
    async with serving(lambda _: sized(TURN)) as (server, url):
        async with rasa_session(5) as session:
            rasa = RasaClient(session, url, url, "", 5, zoneinfo.ZoneInfo("America/New_York"))
            sent_at = dt.datetime(2026, 12, 4, 3, 30, tzinfo=dt.timezone.utc)
            await rasa.send("c-1", "tomorrow", "m-1", "bot", sent_at)
    sent = orjson.loads(server.requests[0].partition(b"\r\n\r\n")[2])
    # Still the 3rd in New York, which is the day "tomorrow" counts from.
    assert sent["metadata"] == {"sent_at": "2026-12-03T22:30:00-05:00"}


async def test_a_chunked_answer_is_put_together() -> None:
    chunked = answer(
        b'1d\r\n{"messages": [{"text": "Hi"}]\r\n1;ext=1\r\n}\r\n0\r\n\r\n',
        "Transfer-Encoding: chunked",
    )
    async with serving(lambda _: chunked) as (server, url), client_of(url) as rasa:
        assert await send(rasa) == [BotMessage(text="Hi")]
        assert await send(rasa) == [BotMessage(text="Hi")]
    assert server.connections == 1


async def test_an_answer_without_a_length_ends_with_its_connection() -> None:
    async with serving(lambda _: answer(TURN), close_after_answer=True) as (server, url):
        async with client_of(url) as rasa:
            assert await send(rasa) == [BotMessage(text="Hi there")]
            assert await send(rasa) == [BotMessage(text="Hi there")]
    assert server.connections == 2  # the body ended with the connection: not reused


async def test_connection_close_is_not_reused() -> None:
    closing = answer(TURN, f"Content-Length: {len(TURN)}", "Connection: close")
    async with serving(lambda _: closing) as (server, url), client_of(url) as rasa:
        assert await send(rasa) == [BotMessage(text="Hi there")]
        assert await send(rasa) == [BotMessage(text="Hi there")]
    assert server.connections == 2


async def test_a_refusal_is_bot_unavailable_with_its_status() -> None:
    refusal = answer(b'{"error": "unauthorized"}', "Content-Length: 25", status="401 Unauthorized")
    failing = answer(b'{"error": "down"}', "Content-Length: 17", status="500 Server Error")
    async with serving(lambda _: refusal) as (_server, url), client_of(url) as rasa:
        with pytest.raises(BotUnavailable, match="^Rasa answered 401: it was not given the same"):
            await send(rasa)
    async with serving(lambda _: failing) as (_server, url), client_of(url) as rasa:
        with pytest.raises(BotUnavailable, match="^Rasa answered 500$"):
            await send(rasa)


async def test_a_connection_closed_before_the_answer_is_bot_unavailable_and_not_reused() -> None:
    replies = iter([None, sized(TURN)])
    async with serving(lambda _: next(replies)) as (server, url), client_of(url) as rasa:
        with pytest.raises(BotUnavailable):
            await send(rasa)
        assert await send(rasa) == [BotMessage(text="Hi there")]
    assert server.connections == 2


async def test_garbage_a_cut_answer_or_no_turn_is_bot_unavailable() -> None:
    for bad in (b"SSH-2.0-OpenSSH\r\n\r\n", answer(TURN, "Content-Length: 1000"),
                answer(TURN, "Content-Length: x"), sized(b"not json"),
                sized(b'{"text": "no messages"}'), sized(b'{"messages": []}')):
        async with serving(lambda _, bad=bad: bad, close_after_answer=True) as (_server, url):
            async with client_of(url) as rasa:
                with pytest.raises(BotUnavailable):
                    await send(rasa)


async def test_a_slow_answer_times_out_as_bot_unavailable() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        await asyncio.sleep(10)

    listening = await asyncio.start_server(never, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        async with client_of(f"http://127.0.0.1:{port}", timeout=0.2) as rasa:
            started = asyncio.get_running_loop().time()
            with pytest.raises(BotUnavailable, match="TimeoutError"):
                await send(rasa)
            assert asyncio.get_running_loop().time() - started < 2
    finally:
        listening.close()


async def test_nobody_listening_is_bot_unavailable() -> None:
    listening = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    listening.close()
    await listening.wait_closed()
    async with client_of(f"http://127.0.0.1:{port}") as rasa:
        with pytest.raises(BotUnavailable, match="Cannot connect"):
            await send(rasa)


async def test_an_idle_connection_is_not_reused_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Rasa's server closes idle connections after 5 s; the gateway lets its own go first.
    monkeypatch.setattr(rasa_client, "KEEPALIVE_SECONDS", 0.05)
    async with serving(lambda _: sized(TURN)) as (server, url), client_of(url) as rasa:
        await send(rasa)
        await send(rasa)
        assert server.connections == 1
        await asyncio.sleep(0.3)
        await send(rasa)
    assert server.connections == 2


async def test_after_the_server_died_and_came_back_on_its_port_the_next_turn_reaches_it() -> None:
    # kill -9 of Rasa: its kept-alive connections end; the restarted Rasa listens again on
    # the same port, and the next turn must reach it rather than fail on a dead connection.
    first = Server(lambda _: sized(TURN), False)
    listening = await asyncio.start_server(first.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with client_of(f"http://127.0.0.1:{port}") as rasa:
        assert await send(rasa) == [BotMessage(text="Hi there")]
        # What the kernel does for a killed process: the listener and every connection close.
        listening.close()
        await listening.wait_closed()
        for writer in first.writers:
            writer.transport.abort()
        await asyncio.sleep(0.05)
        with pytest.raises(BotUnavailable):  # nobody listens: refused, as while Rasa starts
            await send(rasa)

        again = Server(lambda _: sized(TURN), False)
        back = await asyncio.start_server(again.handle, "127.0.0.1", port)
        try:
            assert await send(rasa) == [BotMessage(text="Hi there")]
            assert again.connections == 1
        finally:
            back.close()
            await back.wait_closed()
