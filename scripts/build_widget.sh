#!/usr/bin/env bash
# Bundles the widget's sources (handoff/static/widget/, handoff/static/client/) into
# handoff/static/widget.js, or into the file given: `make widget` after changing them.
# The bundle is committed, so running Baton needs no Node; a test rebuilds it and checks
# that the committed one is the same.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_esbuild.sh >&2
node web/build.mjs "$@"
