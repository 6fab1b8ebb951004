#!/usr/bin/env bash
# Installs esbuild, pinned in web/package-lock.json, which bundles the widget
# (scripts/build_widget.sh); does nothing when that version is there.
set -euo pipefail
cd "$(dirname "$0")/../web"

if ! command -v npm >/dev/null; then
    SUDO=$([ "$(id -u)" -ne 0 ] && echo sudo || true)
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends nodejs npm
fi

version() { node -p "require('./$1').$2" 2>/dev/null || true; }
wanted=$(version package-lock.json "packages['node_modules/esbuild'].version")
if [ "$(version node_modules/esbuild/package.json version)" = "$wanted" ]; then
    exit 0
fi
npm ci --no-audit --no-fund
