"""The launcher's supervisor (scripts/supervise.py) with small real processes and a clock
the test moves: exits are logged, restarts wait with backoff, the others keep running."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import supervise  # noqa: E402
from stack import Ports, Stack  # noqa: E402
from supervise import Backoff, Supervisor  # noqa: E402

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


class SleepingStack(Stack):
    """Each of the "processes" is a sleeping Python; counts how often each started."""

    def __init__(self, var_dir: Path, rasa_processes: int = 1, gateways: int = 1) -> None:
        database = "sqlite://" if gateways == 1 else "postgresql+asyncpg://baton@127.0.0.1/baton"
        super().__init__(ports=Ports(), var_dir=var_dir, database_url=database,
                         rasa_processes=rasa_processes, gateways=gateways)
        self.starts = {name: 0 for name in self.starters()}
        self.argv = {name: SLEEPER for name in self.starts}

    def _sleep(self, name: str) -> None:
        self.starts[name] += 1
        self._start(name, self.argv[name])

    def start_redis(self) -> None:
        self._sleep("redis")

    def start_actions(self) -> None:
        self._sleep("actions")

    def start_rasa(self, index: int = 0) -> None:
        self._sleep(self.rasa_names[index])

    def start_gateway(self, index: int = 0) -> None:
        self._sleep(self.gateway_names[index])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_up_to_its_longest_and_starts_over_after_a_steady_run() -> None:
    backoff = Backoff(first=1, longest=30, steady=60)
    delays = []
    previous = None
    for _ in range(7):
        previous = backoff.delay(previous, uptime=2)
        delays.append(previous)
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(30, uptime=60) == 1


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[SleepingStack]:
    stack = SleepingStack(tmp_path)
    yield stack
    stack.stop()


def _kill(stack: Stack, name: str) -> int:
    process = stack.processes[name]
    process.send_signal(signal.SIGKILL)
    process.wait()
    return process.pid


def test_a_killed_process_is_logged_and_restarted_after_its_backoff_alone(
    stack: SleepingStack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervise, "ready", lambda _url: True)
    clock = Clock()
    log = logging.getLogger("test-launcher")
    supervisor = Supervisor(stack, log, Backoff(first=1, longest=30, steady=60), clock)
    supervisor.start_all()
    others = {name: stack.processes[name].pid for name in ("redis", "actions", "gateway")}
    caplog.set_level(logging.INFO, logger="test-launcher")

    # Three quick crashes: 1 s, then 2 s, then 4 s before each restart.
    waits = []
    for _ in range(3):
        clock.now += 5
        pid = _kill(stack, "rasa")
        supervisor.check()
        assert stack.starts["rasa"] == len(waits) + 1  # not restarted yet
        message = caplog.records[-1].getMessage()
        assert message.startswith(f"rasa (pid {pid}) was killed by SIGKILL after 5 s up; ")
        wait = float(message.split("restarting in ")[1].split(" s")[0])
        clock.now += wait - 0.1
        supervisor.check()
        assert stack.starts["rasa"] == len(waits) + 1
        clock.now += 0.1
        supervisor.check()
        waits.append(wait)
        assert stack.starts["rasa"] == len(waits) + 1
        new_pid = stack.processes["rasa"].pid
        assert caplog.records[-2].getMessage() == f"started rasa (pid {new_pid})"
        assert caplog.records[-1].getMessage() == f"rasa answers again, {wait:.0f} s after it ended"
    assert waits == [1, 2, 4]

    # After a steady minute the next crash waits 1 s again.
    clock.now += 61
    _kill(stack, "rasa")
    supervisor.check()
    assert "restarting in 1 s" in caplog.records[-1].getMessage()

    # The others were never touched.
    assert {name: stack.processes[name].pid for name in others} == others
    assert all(stack.processes[name].poll() is None for name in others)
    assert stack.starts == {"redis": 1, "actions": 1, "rasa": 4, "gateway": 1}


def test_each_of_several_rasa_processes_is_restarted_as_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervise, "ready", lambda _url: True)
    stack = SleepingStack(tmp_path, rasa_processes=2)
    clock = Clock()
    supervisor = Supervisor(stack, logging.getLogger("test-launcher"), Backoff(), clock)
    try:
        supervisor.start_all()
        caplog.set_level(logging.INFO, logger="test-launcher")
        first = stack.processes["rasa"].pid
        _kill(stack, "rasa2")
        supervisor.check()
        clock.now += 1
        supervisor.check()

        assert caplog.records[-1].getMessage() == "rasa2 answers again, 1 s after it ended"
        assert stack.starts == {"redis": 1, "actions": 1, "rasa": 1, "rasa2": 2, "gateway": 1}
        assert stack.processes["rasa"].pid == first
    finally:
        stack.stop()


def test_several_rasa_processes_take_the_ports_after_the_first_and_share_redis(
    tmp_path: Path,
) -> None:
    started: dict[str, list[str]] = {}

    class Recording(Stack):
        def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
            started[name] = argv

    stack = Recording(Ports(rasa=7100, redis=7200), tmp_path, "sqlite://", rasa_processes=3)
    for start in stack.starters().values():
        start()

    assert list(started) == ["redis", "actions", "rasa", "rasa2", "rasa3", "gateway"]
    assert [argv[argv.index("--port") + 1] for name, argv in started.items()
            if name.startswith("rasa")] == ["7100", "7101", "7102"]
    assert started["redis"][1:5] == ["--bind", "127.0.0.1", "--port", "7200"]
    env = stack.env()
    assert (env["BATON_RASA_URLS"], env["REDIS_PORT"]) == (
        "http://127.0.0.1:7100,http://127.0.0.1:7101,http://127.0.0.1:7102", "7200"
    )
    assert "BATON_RASA_URLS" not in Recording(Ports(), tmp_path, "sqlite://").env()


def test_several_gateways_take_the_ports_after_the_first_and_share_redis_and_postgres(
    tmp_path: Path,
) -> None:
    started: dict[str, dict[str, str]] = {}

    class Recording(Stack):
        def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
            started[name] = {**self.env(), **(env or {})}

    stack = Recording(Ports(gateway=7300, redis=7200, postgres=7400), tmp_path, "",
                      gateways=2, with_postgres=True)
    for start in stack.starters().values():
        start()

    assert list(started) == ["postgres", "redis", "actions", "rasa", "gateway", "gateway2"]
    assert [started[name]["BATON_PORT"] for name in ("gateway", "gateway2")] == ["7300", "7301"]
    for name in ("gateway", "gateway2"):
        assert started[name]["BATON_REDIS_URL"] == "redis://127.0.0.1:7200/2"
        assert started[name]["DATABASE_URL"].endswith("@127.0.0.1:7400/baton")
    assert stack.base_urls == ["http://127.0.0.1:7300", "http://127.0.0.1:7301"]
    # One gateway shares nothing; several cannot share a SQLite file.
    assert "BATON_REDIS_URL" not in Recording(Ports(), tmp_path, "sqlite://").env()
    with pytest.raises(ValueError, match="several gateways need PostgreSQL"):
        Stack(Ports(), tmp_path, "sqlite://", gateways=2)


def test_each_of_several_gateways_is_restarted_as_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(supervise, "ready", lambda url: asked.append(url) or True)
    stack = SleepingStack(tmp_path, gateways=2)
    clock = Clock()
    supervisor = Supervisor(stack, logging.getLogger("test-launcher"), Backoff(), clock)
    try:
        supervisor.start_all()
        caplog.set_level(logging.INFO, logger="test-launcher")
        _kill(stack, "gateway")
        supervisor.check()
        clock.now += 1
        supervisor.check()

        assert caplog.records[-1].getMessage() == "gateway answers again, 1 s after it ended"
        assert stack.starts == {"redis": 1, "actions": 1, "rasa": 1, "gateway": 2, "gateway2": 1}
        # Back once both gateways answer.
        assert asked[-2:] == [stack.base_urls[0], stack.base_urls[1]]
    finally:
        stack.stop()


def test_rasa_processes_share_the_cores_between_their_encoder_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    threads = {n: Stack(Ports(), tmp_path, "sqlite://", rasa_processes=n).env()
               for n in (1, 2, 4, 8)}

    assert [(env["OPENBLAS_NUM_THREADS"], env["OMP_NUM_THREADS"]) for env in threads.values()
            ] == [("4", "4"), ("2", "2"), ("1", "1"), ("1", "1")]
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert Stack(Ports(), tmp_path, "sqlite://", rasa_processes=2).env()["OMP_NUM_THREADS"] == "3"


def test_an_exit_code_is_told_apart_from_a_signal() -> None:
    assert supervise.how_it_ended(1) == "exited with 1"
    assert supervise.how_it_ended(-signal.SIGKILL) == "was killed by SIGKILL"
    assert supervise.how_it_ended(-signal.SIGSEGV) == "was killed by SIGSEGV"


def test_before_the_first_ready_an_exit_stops_the_start_with_the_log_to_read(
    stack: SleepingStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervise, "ready", lambda _url: False)
    supervisor = Supervisor(stack, logging.getLogger("test-launcher"))
    supervisor.start_all()
    stack.processes["gateway"].terminate()
    stack.processes["gateway"].wait()
    with pytest.raises(RuntimeError) as failed:
        supervisor.wait_ready(30, lambda: False)
    assert str(failed.value) == (
        f"gateway was killed by SIGTERM; see {stack.var_dir / 'logs' / 'gateway.log'}"
    )


def test_a_stop_asked_for_during_the_start_ends_the_wait_at_once(
    stack: SleepingStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervise, "ready", lambda _url: False)
    supervisor = Supervisor(stack, logging.getLogger("test-launcher"))
    supervisor.start_all()
    asked = iter([False, True])
    assert supervisor.wait_ready(30, lambda: next(asked)) is False


def test_what_a_crashed_process_left_behind_is_killed_before_the_restart(
    stack: SleepingStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "Rasa" whose own child holds on after it is killed, as a worker would.
    monkeypatch.setattr(supervise, "ready", lambda _url: True)
    parent = (
        "import subprocess, sys, time; "
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print('child started', flush=True); time.sleep(60)"
    )
    stack.argv["rasa"] = [sys.executable, "-c", parent]
    clock = Clock()
    supervisor = Supervisor(stack, logging.getLogger("test-launcher"), clock=clock)
    supervisor.start_all()
    leader = stack.processes["rasa"].pid
    log = stack.var_dir / "logs" / "rasa.log"
    for _ in range(100):
        if b"child started" in log.read_bytes():
            break
        time.sleep(0.1)
    group = subprocess.run(["pgrep", "-g", str(leader)], capture_output=True, text=True)
    members = [int(pid) for pid in group.stdout.split()]
    assert len(members) == 2
    _kill(stack, "rasa")
    supervisor.check()
    for _ in range(50):
        if subprocess.run(["pgrep", "-g", str(leader)], capture_output=True).returncode == 1:
            break
        time.sleep(0.1)
    assert subprocess.run(["pgrep", "-g", str(leader)], capture_output=True).returncode == 1


def test_a_restart_that_cannot_even_start_is_tried_again_later(
    stack: SleepingStack, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervise, "ready", lambda _url: True)
    clock = Clock()
    supervisor = Supervisor(stack, logging.getLogger("test-launcher"), Backoff(), clock)
    supervisor.start_all()
    caplog.set_level(logging.INFO, logger="test-launcher")
    stack.argv["actions"] = [str(stack.var_dir / "no-such-python")]
    _kill(stack, "actions")
    supervisor.check()
    clock.now += 1
    supervisor.check()
    assert caplog.records[-1].getMessage().startswith("could not start actions: [Errno 2] ")
    assert caplog.records[-1].getMessage().endswith("; trying again in 2 s")
    stack.argv["actions"] = SLEEPER
    clock.now += 2
    supervisor.check()
    assert stack.processes["actions"].poll() is None
    assert stack.starts["actions"] == 3
