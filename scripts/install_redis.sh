#!/usr/bin/env bash
# Installs Debian's Redis server when it is missing: Rasa's processes share their trackers
# and conversation locks in it (endpoints.yml). The launcher starts a Redis of its own
# under its var directory (scripts/stack.py), so Debian's service is never used.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends redis-server
