"""The publisher of a gateway among several: every event goes through one Redis stream.

Each process adds its events to the stream `baton:events` and one task per process reads
the stream on and delivers each event to this process's sockets, as
handoff.live.publisher.Publisher does for a process alone. One stream keeps one order:
every socket sees a conversation's events in the order they were published.

Entry ids are the events' ids. A console event is ``<n>-0``, n counted by one counter
for the cluster (so consoles resume on any gateway); a widget event is ``<n>-<k>``, k
from 1, after the console event n. Ids are therefore contiguous, which lets a reader
tell that entries it had not read were trimmed away.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import orjson
import redis.asyncio as aioredis
from aiohttp import WSCloseCode, web
from msgspec import UNSET
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from handoff.live.events import RESET_EVENT, Frame
from handoff.live.sockets import SocketRegistry

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode

STREAM = b"baton:events"
COUNTER = b"baton:events:last-id"
EPOCH = b"baton:events:epoch"
# About a minute of a busy cluster: a reader that falls further behind resets its sockets.
KEEP = 10_000
# XREAD's wait, under the reader's socket timeout. Short, because redis-py sometimes
# swallows the cancel of a blocked XREAD: the subscriber then stops at its next return.
BLOCK_MS = 500
READ_BATCH = 500
RETRY_FIRST, RETRY_MOST = 0.05, 2.0
# How long cleanup waits for the subscriber to stop (a BLOCK_MS at most, see there).
STOP_WAIT = 5.0
# How long a publish waits for this process's reader to have delivered it (see _published).
DELIVERY_WAIT = 2.0
# What a widget socket is closed with when its events were lost: widget.js reconnects and
# replays from the database by seq (it gives up only on 4401, 4403 and 4404).
EVENTS_LOST = WSCloseCode.TRY_AGAIN_LATER

# KEYS: stream, counter, epoch. ARGV: the epoch the publisher numbers under, MAXLEN, "1"
# for a console event, the event's JSON, then the entry's other fields. False when the
# epoch is not Redis's (Redis lost its data): the publisher adopts the new one and retries.
# A console event's JSON gets its id here, where it is counted, so the stream holds
# exactly what consoles receive.
_PUBLISH = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return false end
if ARGV[3] == '1' then
  local n = redis.call('INCR', KEYS[2])
  local event = '{"id":' .. n .. ',' .. string.sub(ARGV[4], 2)
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], n .. '-0',
    'e', event, unpack(ARGV, 5))
end
local n = redis.call('GET', KEYS[2]) or '0'
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], n .. '-*',
  'e', ARGV[4], unpack(ARGV, 5))
"""

EntryId = tuple[int, int]


def _entry_id(raw: bytes) -> EntryId:
    n, _, k = raw.partition(b"-")
    return int(n), int(k)


def _follows(before: EntryId, after: EntryId) -> bool:
    return after == (before[0], before[1] + 1) or after == (before[0] + 1, 0)


class FanoutPublisher:
    """Publisher's interface (to_conversation, to_agents, last_event_id, epoch,
    agent_events_after) for a gateway that shares its sockets' events through Redis.

    `last_event_id` is the last console event this process delivered: later ones reach a
    console that connects now live, earlier ones by agent_events_after.
    """

    def __init__(
        self, sockets: SocketRegistry, shared: aioredis.Redis, url: str, keep: int = KEEP
    ) -> None:
        self._sockets = sockets
        self._shared = shared
        self._keep = str(keep).encode()
        self._publish = shared.register_script(_PUBLISH)
        # Which process published a widget event: only it knows the socket to skip.
        self._origin = secrets.token_hex(8).encode()
        # The subscriber's own connection, named so that CLIENT LIST tells it. It does not
        # retry by itself: read_on does, and checks on reconnecting what it missed.
        self.reader_name = f"baton-events-{self._origin.decode()}"
        self._reader = aioredis.from_url(
            url, decode_responses=False, single_connection_client=True,
            retry=Retry(NoBackoff(), 0), socket_timeout=BLOCK_MS / 1000 + 5,
            client_name=self.reader_name,
        )
        self.stopping = False
        self.epoch = ""
        # The epoch under which _last was read; a new one means the stream started anew.
        self._read_epoch = ""
        self._last: EntryId = (0, 0)
        self._last_id = 0
        self._waiting: dict[EntryId, asyncio.Future[None]] = {}

    @property
    def last_event_id(self) -> int:
        return self._last_id

    async def start(self) -> None:
        """Takes the cluster's epoch and reads on from the stream's end."""
        self.epoch = self._read_epoch = await self._cluster_epoch()
        newest = await self._shared.xrevrange(STREAM, count=1)
        self._last = _entry_id(newest[0][0]) if newest else (0, 0)
        self._last_id = self._last[0]

    async def close(self) -> None:
        await self._reader.aclose()

    async def _cluster_epoch(self) -> str:
        await self._shared.set(EPOCH, secrets.token_hex(8), nx=True)
        epoch = await self._shared.get(EPOCH)
        return epoch.decode() if epoch is not None else ""

    async def to_conversation(
        self, conversation_id: str, event: Frame, skip: web.WebSocketResponse | None = None
    ) -> None:
        """To the conversation's widget sockets on every gateway, all but `skip`."""
        await self._add(
            b"0", _encode(event),
            b"c", conversation_id, b"o", self._origin, b"s", b"%x" % id(skip) if skip else b"",
        )

    async def to_agents(self, event: Frame, *, holder: int | None = None) -> None:
        """To every console on every gateway, or to the holder's and the watchers'."""
        if isinstance(event, dict):
            event = {k: v for k, v in event.items() if k != "id"}
            conversation_id = event.get("conversation_id")
        else:
            event.id = UNSET  # the script numbers it
            conversation_id = getattr(event, "conversation_id", None)
        await self._add(
            b"1", _encode(event),
            b"c", conversation_id or b"", b"h", b"" if holder is None else str(holder),
        )

    async def _add(self, console: bytes, payload: bytes, *fields: Any) -> None:
        try:
            added = await self._publish(
                keys=[STREAM, COUNTER, EPOCH],
                args=[self.epoch, self._keep, console, payload, *fields],
            )
            if added is None:
                self.epoch = await self._cluster_epoch()
                added = await self._publish(
                    keys=[STREAM, COUNTER, EPOCH],
                    args=[self.epoch, self._keep, console, payload, *fields],
                )
        except (RedisError, OSError) as exc:
            # The change is stored: sockets see it when their clients next load or resume.
            log.warning("an event was not published, Redis failed: %s", exc)
            return
        if added is not None:
            await self._published(_entry_id(added))

    async def _published(self, entry: EntryId) -> None:
        """Returns once this process delivered `entry`, so that what the caller sends
        next on a socket (an ack) follows the event, as with Publisher."""
        if entry <= self._last:
            return
        waiter = self._waiting[entry] = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait([waiter], timeout=DELIVERY_WAIT)
        finally:
            self._waiting.pop(entry, None)

    async def agent_events_after(
        self, last_event_id: int, epoch: str | None = None, agent_id: int | None = None
    ) -> list[dict[str, Any]] | None:
        """What agent_id's console missed since last_event_id, up to last_event_id as it
        is now; None when that cannot be told (trimmed, another epoch, or Redis fails)."""
        upto = self._last_id
        if (epoch is not None and epoch != self.epoch) or last_event_id > upto:
            return None
        if last_event_id == upto:
            return []
        try:
            entries = await self._shared.xrange(
                STREAM, b"%d-0" % (last_event_id + 1), b"%d-0" % upto
            )
        except (RedisError, OSError):
            return None
        missed: list[dict[str, Any]] = []
        first = True
        for raw, fields in entries:
            n, k = _entry_id(raw)
            if k:
                continue
            if first and n != last_event_id + 1:
                return None
            first = False
            holder = fields.get(b"h")
            if not holder or int(holder) == agent_id:
                missed.append(orjson.loads(fields[b"e"]))
        return None if first else missed

    async def read_on(self) -> None:
        """The subscriber: reads the stream from the last entry delivered, for ever.

        A dropped connection is retried with backoff and reading goes on from there, so
        a blip loses nothing; entries trimmed meanwhile, or a Redis that lost its data,
        reset the consoles and close the widget sockets (both then reload).
        """
        pause = RETRY_FIRST
        while not self.stopping:
            try:
                await self._check_epoch()
                while not self.stopping:
                    read = await self._reader.xread(
                        {STREAM: b"%d-%d" % self._last}, count=READ_BATCH, block=BLOCK_MS
                    )
                    pause = RETRY_FIRST
                    if read:
                        self._deliver(read[0][1])
                    else:  # idle: a good time to ask whether Redis started anew
                        await self._check_epoch()
            except (RedisError, OSError) as exc:
                if self.stopping:  # a cancel that the client turned into an error
                    return
                log.warning("reading events from Redis failed, again in %.2f s: %s", pause, exc)
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MOST)

    async def _check_epoch(self) -> None:
        """A new epoch (Redis lost its data, or was flushed) numbers from 1 again, below
        the last id read: read the stream from its start, and have sockets reload."""
        epoch = await self._cluster_epoch()
        if epoch != self._read_epoch:
            self.epoch = self._read_epoch = epoch
            self._last, self._last_id = (0, 0), 0
            self._events_lost()

    def _deliver(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        sockets = self._sockets
        for raw, fields in entries:
            entry = _entry_id(raw)
            if not _follows(self._last, entry):
                self._events_lost()
            self._last = entry
            conversation_id = fields[b"c"].decode() or None
            if entry[1] == 0:
                self._last_id = entry[0]
                holder = fields[b"h"]
                sockets.send_json_to_agents(
                    fields[b"e"], conversation_id, int(holder) if holder else None
                )
            elif conversation_id is not None:
                sockets.send_json_to_conversation(
                    conversation_id, fields[b"e"], self._skipped(conversation_id, fields)
                )
        if self._waiting:
            for entry in [entry for entry in self._waiting if entry <= self._last]:
                waiter = self._waiting.pop(entry)
                if not waiter.done():
                    waiter.set_result(None)

    def _skipped(
        self, conversation_id: str, fields: dict[bytes, bytes]
    ) -> web.WebSocketResponse | None:
        """The socket that sent the event, when it is one of ours (it is still open, so
        its id() is its own)."""
        token = fields[b"s"]
        if not token or fields[b"o"] != self._origin:
            return None
        for ws in self._sockets.conversations.get(conversation_id, ()):
            if b"%x" % id(ws) == token:
                return ws
        return None

    def _events_lost(self) -> None:
        log.warning("events were lost between Redis and this gateway: sockets reload")
        sockets = self._sockets
        for ws in list(sockets.agents):
            sockets.send(ws, RESET_EVENT)
        for ws in [ws for widgets in sockets.conversations.values() for ws in widgets]:
            sockets.close(ws, EVENTS_LOST, b"events lost, reconnect")


@asynccontextmanager
async def fanout(
    sockets: SocketRegistry, shared: aioredis.Redis, url: str
) -> AsyncIterator[FanoutPublisher]:
    """The publisher, with its subscriber running from app startup to cleanup."""
    publisher = FanoutPublisher(sockets, shared, url)
    try:
        await publisher.start()
        task = asyncio.get_running_loop().create_task(publisher.read_on())
        try:
            yield publisher
        finally:
            publisher.stopping = True
            task.cancel()
            await asyncio.wait([task], timeout=STOP_WAIT)
    finally:
        await publisher.close()
