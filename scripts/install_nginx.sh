#!/usr/bin/env bash
# Installs Debian's nginx for the reverse-proxy test (deploy/nginx/baton.conf) when it is
# missing. The test runs its own nginx with its own prefix; the system's is not started.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# The package must not start a system nginx on port 80: a policy-rc.d saying no, unless
# the machine has one already (containers do).
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y --no-install-recommends nginx-light || \
  $SUDO apt-get install -y --no-install-recommends nginx
