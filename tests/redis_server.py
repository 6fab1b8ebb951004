"""A throw-away Redis server for the tests, on a free loopback port, data in a temp dir."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from stack import redis_server  # scripts/ is on the path (tests/conftest.py)

from .pg_server import free_port


@dataclass
class RedisServer:
    port: int = field(default_factory=free_port)
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="baton-redis-")))
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_server(), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.data_dir),
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at once: is port {self.port} taken?")
            try:
                if self._answering_is_ours():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on {self.port} within 10 s")

    def _answering_is_ours(self) -> bool:
        """Whether the server on the port is this one (its data directory), not another
        session's that took the same free port a moment before."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as connection:
            connection.sendall(b"*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$3\r\ndir\r\n")
            answer = connection.recv(4096)
        if str(self.data_dir.resolve()).encode() not in answer:
            raise RuntimeError(f"another Redis answers on port {self.port}")
        return True

    def kill(self) -> None:
        """kill -9, as a crash would: what was not saved is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.data_dir, ignore_errors=True)
