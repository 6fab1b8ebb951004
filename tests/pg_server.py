"""A throw-away PostgreSQL cluster for the tests, on a free loopback port."""

from __future__ import annotations

import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# scripts/ is on the path (tests/conftest.py): the same lookup as make run-cluster's.
from postgres import postgres_bin as _bin


def free_port() -> int:
    """A free port below the ephemeral range, so no outgoing connection takes it first."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, argv: list[str]) -> None:
        # PostgreSQL refuses to run as root: run it as the postgres account then.
        if os.geteuid() == 0:
            argv = ["runuser", "-u", self.user, "--", *argv]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def init(self) -> None:
        self._run([_bin("initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", self.user,
                   "--no-sync"])

    def start(self) -> None:
        self._run([
            _bin("pg_ctl"), "-D", str(self.data_dir), "-w", "-l", str(self.data_dir / "log"),
            "-o", f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c max_connections=300",
            "start",
        ])

    def stop(self, mode: str = "immediate") -> None:
        self._run([_bin("pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop"])

    def close(self) -> None:
        """Stops the server (if it runs) and removes its data: a test run leaves no
        database behind in /tmp (a suite's fills about 1 GB)."""
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_postgres() -> PostgresServer:
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    data_dir = Path(tempfile.mkdtemp(prefix="baton-pg-")) / "data"
    data_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data_dir.parent, user)
        shutil.chown(data_dir, user)
    server = PostgresServer(data_dir=data_dir, port=free_port(), user=user)
    server.init()
    server.start()
    return server
