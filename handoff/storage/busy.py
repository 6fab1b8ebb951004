"""Whether the gateway is busy writing, which decides where a SQLite transaction runs.

On SQLite a transaction runs on the loop itself while the gateway is quiet: one of a
message or two is quick, and handing it to the writer's thread and back cost more than
that on a bot turn's path, as the thread waits for the interpreter's lock after each
statement (bench/README.md, "The numbers behind the gateway's own code"). Above
BUSY_WRITE_RATE messages a second, or for a transaction of more than INLINE_MESSAGES, the
thread takes it, and the loop goes on reading the next messages while SQLite and the
file system work (handoff.storage.write_connection).
"""

from __future__ import annotations

import asyncio

INLINE_MESSAGES = 64
BUSY_WRITE_RATE = 2500.0
RATE_WINDOW_SECONDS = 0.5


class BusyMeter:
    def __init__(self) -> None:
        # Messages committed so far: how busy the relay is (handoff.conversations.annotations
        # reads it through the writer).
        self.messages = 0
        # The start of the current window and the count then; whether the last one was busy.
        self._window = (0.0, 0)
        self._busy = False

    def inline(self, rows: int) -> bool:
        """Whether a transaction of `rows` messages runs on the loop."""
        return not self._busy_now() and rows <= INLINE_MESSAGES

    def _busy_now(self) -> bool:
        now = asyncio.get_running_loop().time()
        started, stored = self._window
        if now - started >= RATE_WINDOW_SECONDS:
            self._busy = (self.messages - stored) / (now - started) > BUSY_WRITE_RATE
            self._window = (now, self.messages)
        return self._busy
