"""A small HTTP/1.1 client for the gateway's one hot call: a bot turn's POST to Rasa.

Kept because aiohttp's client missed the bot-turn overhead guard (bench/README.md,
"Issue 16's guards"). It speaks only what the channel needs: POST with a JSON body and
fixed headers; an answer with Content-Length, chunked, or read to the end of the
connection; persistent connections reused last in first out (at most `limit` at once),
and a connection whose exchange did not end cleanly closed, never reused. Every other
call to Rasa and the action server (state, health) stays on aiohttp.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from contextlib import suppress
from typing import cast
from urllib.parse import urlsplit

# The longest head an answer may have; Rasa's is a few hundred bytes.
MAX_HEAD = 64 * 1024
# An idle connection older than this is closed rather than reused: Rasa's server (Sanic)
# closes its side after 5 s, and a request sent just as that close is under way is lost.
IDLE_SECONDS = 3.0


class HttpError(ConnectionError):
    """The connection failed, closed early, or the answer was not HTTP/1.1 as expected."""


class NotSent(HttpError):
    """No byte of the request was written (refused, or no connection in time): the
    server cannot have seen it, so the caller may send it elsewhere. The cause is the
    connection's own error."""


class _Exchange(asyncio.Protocol):
    """One connection; one request at a time, its answer read as the bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._buffer = bytearray()
        self._answer: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0
        self._length: int | None = None  # None: chunked or to the end of the connection
        self._chunked = False
        self._head_read = False
        self.keep_alive = True

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's own transport or uvloop's (which is not an asyncio.Transport subclass)
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # nobody asked: the connection is out of step, drop it
            return
        self._buffer += data
        try:
            self._read()
        except HttpError as exc:
            self._fail(exc)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._answer is None or self._answer.done():
            return
        if self._head_read and self._length is None and not self._chunked:
            self.keep_alive = False
            self._answer.set_result((self._status, bytes(self._buffer)))
        else:
            self._answer.set_exception(HttpError(f"Rasa closed the connection: {exc or 'EOF'}"))

    # the client's side
    def send(self, request: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._buffer.clear()
        self._head_read = self._chunked = False
        self._length = None
        self.transport.write(request)
        return self._answer

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: Exception) -> None:
        assert self._answer is not None
        self._answer.set_exception(exc)
        self.close()

    def _read(self) -> None:
        assert self._answer is not None
        if not self._head_read:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buffer) > MAX_HEAD:
                    raise HttpError("the answer's head is too long")
                return
            self._read_head(bytes(self._buffer[:end]).decode("latin-1"))
            del self._buffer[: end + 4]
        if self._chunked:
            body = self._dechunk()
            if body is not None:
                self._answer.set_result((self._status, body))
        elif self._length is not None and len(self._buffer) >= self._length:
            if len(self._buffer) > self._length:
                raise HttpError("more bytes than the answer's Content-Length")
            self._answer.set_result((self._status, bytes(self._buffer)))

    def _read_head(self, head: str) -> None:
        status_line, *lines = head.split("\r\n")
        version, _, rest = status_line.partition(" ")
        if version not in ("HTTP/1.1", "HTTP/1.0") or not rest[:3].isdigit():
            raise HttpError(f"not an HTTP answer: {status_line[:80]!r}")
        self._status = int(rest[:3])
        self.keep_alive = version == "HTTP/1.1"
        for line in lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                if not value.isdigit():
                    raise HttpError(f"bad Content-Length {value[:20]!r}")
                self._length = int(value)
            elif name == "transfer-encoding":
                self._chunked = value.lower() == "chunked"
                if not self._chunked:
                    raise HttpError(f"unsupported Transfer-Encoding {value[:40]!r}")
            elif name == "connection":
                tokens = {token.strip().lower() for token in value.split(",")}
                if "close" in tokens:
                    self.keep_alive = False
                elif "keep-alive" in tokens:
                    self.keep_alive = True
        if self._chunked:
            self._length = None
        elif self._status in (204, 304) or 100 <= self._status < 200:
            self._length = 0
        elif self._length is None:
            self.keep_alive = False  # the body ends with the connection
        self._head_read = True

    def _dechunk(self) -> bytes | None:
        """The whole body once its last chunk is in, else None (wait for more)."""
        body = bytearray()
        at = 0
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size_text = bytes(buffer[at:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpError(f"bad chunk size {size_text[:20]!r}") from None
            at = line_end + 2
            if size == 0:
                # Trailers, if any, end with an empty line.
                if buffer[at : at + 2] == b"\r\n":
                    end = at + 2
                else:
                    end = buffer.find(b"\r\n\r\n", at)
                    if end < 0:
                        return None
                    end += 4
                if len(buffer) > end:
                    raise HttpError("bytes after the last chunk")
                return bytes(body)
            if len(buffer) < at + size + 2:
                return None
            body += buffer[at : at + size]
            at += size + 2


def _closing(exchange: _Exchange) -> bool:
    return exchange.transport is None or exchange.transport.is_closing()


class JsonPoster:
    """POSTs JSON bodies to one URL and gives back (status, body bytes)."""

    def __init__(self, url: str, headers: dict[str, str], limit: int = 100,
                 idle_seconds: float | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl = ssl.create_default_context() if parts.scheme == "https" else None
        path = parts.path or "/"
        if parts.query:
            path += f"?{parts.query}"
        host_header = parts.netloc.rpartition("@")[2]
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._head = (
            f"POST {path} HTTP/1.1\r\nHost: {host_header}\r\n{extra}"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            "Content-Length: "
        ).encode("latin-1")
        self._idle: list[_Exchange] = []
        self._idle_seconds = idle_seconds
        self._slots = asyncio.Semaphore(limit)

    async def post(self, body: bytes, timeout: float) -> tuple[int, bytes]:
        """Raises HttpError (an OSError), another OSError or TimeoutError on failure;
        NotSent when it failed before the request was written."""
        request = self._head + b"%d\r\n\r\n" % len(body) + body
        written = False
        try:
            async with asyncio.timeout(timeout), self._slots:
                exchange = self._reusable() or await self._open()
                written = True
                return await self._exchange(exchange, request)
        except (OSError, TimeoutError) as exc:
            if written or isinstance(exc, NotSent):
                raise
            raise NotSent(str(exc) or type(exc).__name__) from exc

    async def _exchange(self, exchange: _Exchange, request: bytes) -> tuple[int, bytes]:
        try:
            status, answer = await exchange.send(request)
        except BaseException:
            exchange.close()
            raise
        if exchange.keep_alive and not exchange.closed:
            exchange.idle_since = time.monotonic()
            self._idle.append(exchange)
        else:
            exchange.close()
        return status, answer

    def _reusable(self) -> _Exchange | None:
        now = time.monotonic()
        while self._idle:
            exchange = self._idle.pop()
            idle = IDLE_SECONDS if self._idle_seconds is None else self._idle_seconds
            fresh = now - exchange.idle_since < idle
            if fresh and not exchange.closed and not _closing(exchange):
                return exchange
            exchange.close()
        return None

    async def _open(self) -> _Exchange:
        loop = asyncio.get_running_loop()
        _, exchange = await loop.create_connection(
            _Exchange, self._host, self._port, ssl=self._ssl,
            server_hostname=self._host if self._ssl else None,
        )
        return exchange

    def close(self) -> None:
        for exchange in self._idle:
            with suppress(Exception):
                exchange.close()
        self._idle.clear()
