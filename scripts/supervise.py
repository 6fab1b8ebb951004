"""Keeps Baton's processes running: a crashed one is restarted, with backoff.

`make run` (scripts/run_all.py) starts the processes through a Stack and then calls
`Supervisor.check` twice a second. A process that exits is logged with how it ended and
started again after a delay that doubles with each quick crash (1 s, 2 s, 4 s ... 30 s)
and starts from 1 s again once the process has stayed up for a minute. The others keep
running meanwhile: while one Rasa process is down the gateway sends its conversations to
the others, and only with all of them down queues customers as `bot_unavailable`.

Not supervisord, honcho or circus: honcho stops everything when one process exits (what
this launcher used to do); supervisord restarts a process that was up at once, with no
backoff, gives one that keeps failing to start up for good (FATAL), and brings a daemon,
a config file and a control socket; circus needs ZeroMQ. Stack already starts each
process with the run's ports and secret, so restarting through it takes a page of the
standard library, which runs under either environment like stack.py.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from stack import Stack, ready


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    longest: float = 30.0
    # A process that stayed up this long crashed for a new reason: wait `first` again.
    steady: float = 60.0

    def delay(self, previous: float | None, uptime: float) -> float:
        if previous is None or uptime >= self.steady:
            return self.first
        return min(previous * 2, self.longest)


@dataclass
class _Child:
    start: Callable[[], None]
    started_at: float = 0.0
    delay: float | None = None  # the last wait before a restart
    restart_at: float | None = None  # set while the process is down, waiting
    exited_at: float = 0.0


def how_it_ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with {returncode}"


class Supervisor:
    def __init__(
        self,
        stack: Stack,
        log: logging.Logger,
        backoff: Backoff = Backoff(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stack = stack
        self.log = log
        self.backoff = backoff
        self.clock = clock
        self.children = {name: _Child(start) for name, start in stack.starters().items()}
        # Restarted processes not yet answering: /readyz is polled only while there are.
        self.recovering: set[str] = set()

    def start_all(self) -> None:
        """Every process not started yet (the database may be, for the migration)."""
        for name, child in self.children.items():
            running = self.stack.processes.get(name)
            if running is not None and running.poll() is None:
                child.started_at = self.clock()
                continue
            self._start(name)

    def wait_ready(self, timeout: float, stopping: Callable[[], bool]) -> bool:
        """Until /readyz answers 200 (True) or `stopping()` (False).

        A process that exits before the system was ready once is not restarted: that is a
        setting or a port in use, and the same start would fail again.
        """
        deadline = self.clock() + timeout
        while not stopping():
            for name, process in self.stack.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{name} {how_it_ended(process.returncode)}; see "
                        f"{self.stack.var_dir / 'logs' / (name + '.log')}"
                    )
            if all(ready(url) for url in self.stack.base_urls):
                return True
            if self.clock() > deadline:
                raise TimeoutError(f"Baton was not ready within {timeout:.0f} s")
            time.sleep(0.5)
        return False

    def check(self) -> None:
        """One look at every process: note the ones that ended, restart those due."""
        now = self.clock()
        for name, child in self.children.items():
            if child.restart_at is None:
                process = self.stack.processes[name]
                if process.poll() is None:
                    continue
                _kill_leftovers(process.pid)
                uptime = now - child.started_at
                child.delay = self.backoff.delay(child.delay, uptime)
                child.restart_at = now + child.delay
                child.exited_at = now
                self.recovering.discard(name)
                self.log.warning(
                    "%s (pid %d) %s after %.0f s up; restarting in %.0f s (its log: %s)",
                    name, process.pid, how_it_ended(process.returncode), uptime,
                    child.delay, self.stack.var_dir / "logs" / f"{name}.log",
                )
            elif now >= child.restart_at:
                try:
                    self._start(name)
                except OSError as exc:  # e.g. its environment was removed meanwhile
                    child.delay = self.backoff.delay(child.delay, 0.0)
                    child.restart_at = now + child.delay
                    self.log.error("could not start %s: %s; trying again in %.0f s",
                                   name, exc, child.delay)
                    continue
                child.restart_at = None
                self.recovering.add(name)
        if self.recovering and all(ready(url) for url in self.stack.base_urls):
            for name in sorted(self.recovering):
                down = self.clock() - self.children[name].exited_at
                self.log.info("%s answers again, %.0f s after it ended", name, down)
            self.recovering.clear()

    def _start(self, name: str) -> None:
        child = self.children[name]
        child.start()
        child.started_at = self.clock()
        self.log.info("started %s (pid %d)", name, self.stack.processes[name].pid)


def _kill_leftovers(pid: int) -> None:
    # Each process leads its own group (start_new_session); anything it started and left
    # behind could still hold its port and stop the restart from binding it.
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
