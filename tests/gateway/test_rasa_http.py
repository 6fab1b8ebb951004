"""The gateway's own HTTP/1.1 client for Rasa's channel (handoff.assistant.rasa_http), against
servers that answer byte for byte as scripted."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

import pytest

from handoff.assistant import rasa_http
from handoff.assistant.rasa_http import HttpError, JsonPoster

from .scripted_http import Script, Server, answer, serving

WEBHOOK = "/webhooks/baton/webhook"


def serving_webhook(
    script: Script, close_after_answer: bool = False
) -> AbstractAsyncContextManager[tuple[Server, str]]:
    return serving(script, close_after_answer, WEBHOOK)

async def test_a_request_carries_the_headers_and_the_body_and_reuses_its_connection() -> None:
    body = b'{"messages": []}'
    async with serving_webhook(lambda _: answer(body, f"Content-Length: {len(body)}")) as (server, url):
        poster = JsonPoster(url, {"Authorization": "Bearer s3cret"})
        assert await poster.post(b'{"a": 1}', timeout=5) == (200, body)
        assert await poster.post(b'{"a": 2}', timeout=5) == (200, body)
        poster.close()
    host = url.split("/")[2]
    assert server.requests[0] == (
        f"POST /webhooks/baton/webhook HTTP/1.1\r\nHost: {host}\r\n"
        "Authorization: Bearer s3cret\r\nContent-Type: application/json\r\n"
        'Accept: application/json\r\nContent-Length: 8\r\n\r\n{"a": 1}'
    ).encode()
    assert server.connections == 1


async def test_a_chunked_answer_is_put_together() -> None:
    chunked = answer(
        b"5\r\n{\"a\":\r\n3;ext=1\r\n 1}\r\n0\r\n\r\n", "Transfer-Encoding: chunked"
    )
    async with serving_webhook(lambda _: chunked) as (server, url):
        poster = JsonPoster(url, {})
        assert await poster.post(b"{}", timeout=5) == (200, b'{"a": 1}')
        assert await poster.post(b"{}", timeout=5) == (200, b'{"a": 1}')
        poster.close()
    assert server.connections == 1


async def test_an_answer_without_a_length_ends_with_its_connection() -> None:
    async with serving_webhook(lambda _: answer(b'{"b": 2}'), close_after_answer=True) as (server, url):
        poster = JsonPoster(url, {})
        assert await poster.post(b"{}", timeout=5) == (200, b'{"b": 2}')
        assert await poster.post(b"{}", timeout=5) == (200, b'{"b": 2}')
        poster.close()
    assert server.connections == 2  # the body ended with the connection: not reused


async def test_connection_close_is_not_reused() -> None:
    closing = answer(b"{}", "Content-Length: 2", "Connection: close")
    async with serving_webhook(lambda _: closing) as (server, url):
        poster = JsonPoster(url, {})
        assert await poster.post(b"{}", timeout=5) == (200, b"{}")
        assert await poster.post(b"{}", timeout=5) == (200, b"{}")
        poster.close()
    assert server.connections == 2


async def test_a_refusal_gives_its_status() -> None:
    refusal = answer(b'{"error": "unauthorized"}', "Content-Length: 25", status="401 Unauthorized")
    async with serving_webhook(lambda _: refusal) as (_server, url):
        poster = JsonPoster(url, {})
        assert await poster.post(b"{}", timeout=5) == (401, b'{"error": "unauthorized"}')
        poster.close()


async def test_a_connection_closed_before_the_answer_is_an_error_and_not_reused() -> None:
    replies = iter([None, answer(b"{}", "Content-Length: 2")])
    async with serving_webhook(lambda _: next(replies)) as (server, url):
        poster = JsonPoster(url, {})
        with pytest.raises(HttpError):
            await poster.post(b"{}", timeout=5)
        assert await poster.post(b"{}", timeout=5) == (200, b"{}")
        poster.close()
    assert server.connections == 2


async def test_garbage_or_a_cut_answer_is_an_error() -> None:
    for bad in (b"SSH-2.0-OpenSSH\r\n\r\n", answer(b"{}", "Content-Length: 10"),
                answer(b"{}", "Content-Length: x")):
        async with serving_webhook(lambda _, bad=bad: bad, close_after_answer=True) as (_server, url):
            poster = JsonPoster(url, {})
            with pytest.raises(HttpError):
                await poster.post(b"{}", timeout=5)
            poster.close()


async def test_a_slow_answer_times_out_and_its_connection_is_dropped() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        await asyncio.sleep(10)

    listening = await asyncio.start_server(never, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    poster = JsonPoster(f"http://127.0.0.1:{port}/webhook", {})
    with pytest.raises(TimeoutError):
        await poster.post(b"{}", timeout=0.2)
    assert poster._idle == []
    listening.close()
    poster.close()


async def test_an_idle_connection_is_not_reused_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serving_webhook(lambda _: answer(b"{}", "Content-Length: 2")) as (server, url):
        poster = JsonPoster(url, {})
        await poster.post(b"{}", timeout=5)
        monkeypatch.setattr(rasa_http, "IDLE_SECONDS", 0.0)
        await poster.post(b"{}", timeout=5)
        poster.close()
    assert server.connections == 2


async def test_after_the_server_died_and_came_back_on_its_port_the_next_post_reaches_it() -> None:
    # kill -9 of Rasa: its kept-alive connections end; the restarted Rasa listens again on
    # the same port, and the next turn must reach it rather than fail on a dead connection.
    body = b'{"messages": []}'
    first = Server(lambda _: answer(body, f"Content-Length: {len(body)}"), False)
    listening = await asyncio.start_server(first.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    poster = JsonPoster(f"http://127.0.0.1:{port}/webhooks/baton/webhook", {})
    assert await poster.post(b"{}", timeout=5) == (200, body)
    # What the kernel does for a killed process: the listener and every connection close.
    listening.close()
    await listening.wait_closed()
    for writer in first.writers:
        writer.transport.abort()
    await asyncio.sleep(0.05)
    with pytest.raises(OSError):  # nobody listens: refused, as while Rasa starts again
        await poster.post(b"{}", timeout=5)

    again = Server(lambda _: answer(body, f"Content-Length: {len(body)}"), False)
    back = await asyncio.start_server(again.handle, "127.0.0.1", port)
    try:
        assert await poster.post(b"{}", timeout=5) == (200, body)
        assert again.connections == 1
    finally:
        poster.close()
        back.close()
        await back.wait_closed()
