"""A server that answers HTTP requests byte for byte as a test scripts it, for the
clients of Rasa's channel (tests of handoff.assistant.rasa_client and rasa_http)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

# What a server does with each request it reads: the bytes to answer (None: close).
Script = Callable[[bytes], bytes | None]

class Server:
    def __init__(self, script: Script, close_after_answer: bool) -> None:
        self.script = script
        self.close_after_answer = close_after_answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = self.script(request)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(
    script: Script, close_after_answer: bool = False, path: str = ""
) -> AsyncIterator[tuple[Server, str]]:
    """A server on a free port of 127.0.0.1, and its URL (with `path`)."""
    server = Server(script, close_after_answer)
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    try:
        yield server, f"http://127.0.0.1:{port}{path}"
    finally:
        listening.close()
        await listening.wait_closed()


def answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 {status}\r\n{head}\r\n".encode() + body


def sized(body: bytes) -> bytes:
    return answer(body, f"Content-Length: {len(body)}")
