#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing.
# Playwright cannot download its own browsers on these machines, so the tests
# drive /usr/bin/chromium (see tests/browser/conftest.py).
set -euo pipefail

CHROMIUM="${BATON_CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
"$CHROMIUM" --version
