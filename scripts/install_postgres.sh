#!/usr/bin/env bash
# Installs Debian's PostgreSQL server for the database tests when it is missing.
# The tests start a throw-away cluster of their own (tests/pg_server.py).
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends postgresql
