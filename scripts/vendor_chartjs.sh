#!/usr/bin/env bash
# Fetches Chart.js at the pinned version from the npm registry and puts its UMD build
# and licence in handoff/static/vendor/, refusing a file whose sha256 is not the one in
# SHA256SUMS. To update: change VERSION, run with --update (it records the new sha256),
# review the diff, and check the insights page in a browser.
set -euo pipefail
VERSION=4.5.1
VENDOR="$(cd "$(dirname "$0")/../handoff/static/vendor" && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
# npm pack checks the tarball against the registry's integrity hash.
npm pack --silent "chart.js@$VERSION" >/dev/null
tar xzf "chart.js-$VERSION.tgz"
head -c 200 package/dist/chart.umd.min.js | grep -q "Chart.js v$VERSION" \
    || { echo "package/dist/chart.umd.min.js is not Chart.js $VERSION" >&2; exit 1; }
cp package/dist/chart.umd.min.js chart.umd.min.js
if [ "${1:-}" = "--update" ]; then
    sha256sum chart.umd.min.js > "$VENDOR/SHA256SUMS"
fi
# The pinned file must be the recorded one, byte for byte.
(cp "$VENDOR/SHA256SUMS" . && sha256sum --check --quiet SHA256SUMS)
cp chart.umd.min.js "$VENDOR/chart.umd.min.js"
cp package/LICENSE.md "$VENDOR/chart.js-LICENSE.md"
echo "Chart.js $VERSION in $VENDOR ($(cut -d' ' -f1 "$VENDOR/SHA256SUMS"))"
