#!/usr/bin/env bash
# Installs axe-core, pinned in tests/browser/package-lock.json, for the browser tests'
# accessibility checks (tests/browser/axe.py); does nothing when that version is there.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"

if ! command -v npm >/dev/null; then
    SUDO=$([ "$(id -u)" -ne 0 ] && echo sudo || true)
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends nodejs npm
fi

version() { node -p "require('./$1').$2" 2>/dev/null || true; }
wanted=$(version package-lock.json "packages['node_modules/axe-core'].version")
if [ "$(version node_modules/axe-core/package.json version)" = "$wanted" ]; then
    exit 0
fi
npm ci --no-audit --no-fund
