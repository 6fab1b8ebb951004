"""The PostgreSQL server `make run-cluster` keeps under var/postgres (Debian's package).

Its data directory is made once (initdb, trust on loopback only: nothing but this
machine's processes can reach it), and the server runs in the foreground like every other
process of the stack, so the supervisor restarts it. As root it runs as the `postgres`
account, which PostgreSQL insists on. Standard library only, like stack.py.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

DATABASE = "baton"


def postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} is missing: run scripts/install_postgres.sh")
    return path


def account() -> str | None:
    """The account the server runs as when this runs as root; None: this one."""
    return "postgres" if os.geteuid() == 0 else None


def as_account(argv: list[str]) -> list[str]:
    user = account()
    return ["runuser", "-u", user, "--", *argv] if user else argv


def user() -> str:
    return account() or os.environ.get("USER") or "postgres"


def url(port: int) -> str:
    return f"postgresql+asyncpg://{user()}@127.0.0.1:{port}/{DATABASE}"


def ensure_data(data: Path) -> None:
    """The data directory, made the first time."""
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    if account():
        shutil.chown(data.parent, account())
        shutil.chown(data, account())
    subprocess.run(
        as_account([postgres_bin("initdb"), "-D", str(data), "-A", "trust", "-U", user()]),
        check=True, stdout=subprocess.DEVNULL,
    )


def server_argv(data: Path, port: int) -> list[str]:
    # The socket in the data directory: /var/run/postgresql may not exist or be another's.
    return as_account([
        postgres_bin("postgres"), "-D", str(data), "-p", str(port), "-k", str(data),
        "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200",
    ])


def wait_and_create(port: int, timeout: float = 60.0) -> None:
    """Until the server accepts connections, then the database (once)."""
    deadline = time.monotonic() + timeout
    while True:
        done = subprocess.run(
            [postgres_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if done.returncode == 0:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"PostgreSQL did not accept connections on {port} in {timeout:.0f} s")
        time.sleep(0.2)
    created = subprocess.run(
        [postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user(), DATABASE],
        capture_output=True, text=True,
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise RuntimeError(f"createdb {DATABASE} failed: {created.stderr.strip()}")
